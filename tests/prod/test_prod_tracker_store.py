"""bot/channels/tracker_store.py (the production tracker store, endpoints.prod.yml) on SQLite, no
services needed: a short database outage makes Rasa wait instead of answering from an empty
in-memory tracker; a long one refuses the message (never the silent fallback); events are
written and published once even when a write is retried. The real outage (PostgreSQL stopped
under load) is tests/prod/test_prod_fault.py::test_postgresql_outage_under_load."""
from __future__ import annotations

import logging

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from bot.channels.tracker_store import GehoorSQLTrackerStore, TrackerDatabaseUnavailable


class Broker:
    def __init__(self) -> None:
        self.published: list = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def refused() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def failing(monkeypatch, name: str, times: int) -> list:
    """Make SQLTrackerStore.<name> fail `times` times with a connection error; returns the call log."""
    original = getattr(SQLTrackerStore, name)
    calls: list = []

    def wrapper(self, *args, **kwargs):
        calls.append(name)
        if len(calls) <= times:
            raise refused()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLTrackerStore, name, wrapper)
    return calls


@pytest.fixture
def store(tmp_path):
    return GehoorSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"),
                                 event_broker=Broker())


def conversation(sender: str = "s1") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("hoi"), ActionExecuted("action_listen"),
    ])


async def test_a_short_outage_delays_a_read(store, monkeypatch, caplog):
    monkeypatch.setenv("GEHOOR_TRACKER_WAIT_SECONDS", "10")
    await store.save(conversation())
    calls = failing(monkeypatch, "_event_query", 2)
    with caplog.at_level(logging.WARNING, logger="bot.channels.tracker_store"):
        tracker = await FailSafeTrackerStore(store).retrieve("s1")
    assert tracker is not None and [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hoi"]
    assert len(calls) == 3
    assert "tracker database unreachable" in caplog.text and "tracker database reachable again" in caplog.text


async def test_a_retried_write_stores_and_publishes_each_event_once(store, monkeypatch):
    monkeypatch.setenv("GEHOOR_TRACKER_WAIT_SECONDS", "10")
    tracker = conversation()
    failing(monkeypatch, "_additional_events", 2)
    await FailSafeTrackerStore(store).save(tracker)
    with store.session_scope() as session:
        assert session.query(store.SQLEvent).filter_by(sender_id="s1").count() == len(tracker.events)
    assert len(store.event_broker.published) == len(tracker.events)


async def test_a_long_outage_refuses_instead_of_falling_back_to_memory(store, monkeypatch):
    monkeypatch.setenv("GEHOOR_TRACKER_WAIT_SECONDS", "0.3")
    failing(monkeypatch, "_event_query", 10_000)
    failsafe = FailSafeTrackerStore(store)
    with pytest.raises(TrackerDatabaseUnavailable):
        await failsafe.retrieve("s1")  # Rasa's wrapper would return None: a new, empty conversation
    with pytest.raises(TrackerDatabaseUnavailable):
        await failsafe.save(conversation())
    assert failsafe._fallback_tracker_store is None, "nothing was kept in an in-memory tracker store"


async def test_other_errors_keep_rasas_behaviour(store, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("not a connection problem")

    monkeypatch.setattr(SQLTrackerStore, "_event_query", broken)
    assert await FailSafeTrackerStore(store).retrieve("s1") is None  # Rasa's fail-safe, unchanged


def test_a_malformed_wait_setting_is_a_clear_error(monkeypatch):
    from bot.channels.tracker_store import wait_seconds

    monkeypatch.setenv("GEHOOR_TRACKER_WAIT_SECONDS", "twenty")
    with pytest.raises(ValueError, match="GEHOOR_TRACKER_WAIT_SECONDS must be a number"):
        wait_seconds()
    monkeypatch.setenv("GEHOOR_TRACKER_WAIT_SECONDS", "7.5")
    assert wait_seconds() == 7.5


# --- connect timeout (a host that drops packets must not block Rasa for minutes) ------------

@pytest.mark.parametrize("url, expected", [
    ("postgresql://rasa:s3cr%40t@db:5432/rasa", "postgresql://rasa:s3cr%40t@db:5432/rasa?connect_timeout=5"),
    ("postgresql+psycopg2://u@h/d?sslmode=require", "postgresql+psycopg2://u@h/d?connect_timeout=5&sslmode=require"),
    ("postgresql://u@h/d?connect_timeout=30", "postgresql://u@h/d?connect_timeout=30"),  # the operator's own
])
def test_postgresql_urls_get_a_connect_timeout(url, expected):
    from bot.channels.tracker_store import with_connect_timeout

    assert with_connect_timeout(url) == expected


def test_the_postgresql_tracker_store_connects_with_the_timeout():
    from services import PG_URL, require_pg  # (tests/services.py)

    require_pg()
    by_url = GehoorSQLTrackerStore(domain=Domain.empty(), dialect="postgresql", host=PG_URL)
    assert by_url.engine.url.query["connect_timeout"] == "5"
    with by_url.engine.connect():  # libpq accepts it
        pass
    by_parts = GehoorSQLTrackerStore(domain=Domain.empty(), dialect="postgresql", host="127.0.0.1", db="test",
                                     username="postgres")
    assert by_parts.engine.url.query["connect_timeout"] == "5"
    by_url.engine.dispose(), by_parts.engine.dispose()
