"""Fixtures of the story store tests.

`store` is parametrized: every test that uses it runs on SQLite (a file in tmp_path) and on
PostgreSQL (127.0.0.1:5432, database `test`, a fresh uniquely named schema per test, dropped
afterwards; override with GEHOOR_TEST_PG_URL). When PostgreSQL is unreachable the PG variant
is skipped with the reason, unless the environment variable CI is set: then it fails.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest


from bot.store.db import make_engine, migrate, session_factory
from bot.store.outbox import Outbox
from bot.store.repository import StoryRepository

from services import pg_schema_url as private_pg_schema  # noqa: E402  (tests/services.py)


@pytest.fixture(autouse=True)
def _private_var(tmp_path, monkeypatch):
    """Every test gets its own var/ (outbox, default SQLite files) and no inherited DB URLs."""
    var = tmp_path / "var"
    monkeypatch.setenv("GEHOOR_VAR_DIR", str(var))
    monkeypatch.delenv("GEHOOR_DB_URL", raising=False)
    monkeypatch.delenv("GEHOOR_TRACKER_DB_URL", raising=False)
    monkeypatch.setenv("GEHOOR_TRACKER_DB", str(var / "tracker.db"))
    monkeypatch.delenv("GEHOOR_IDLE_MINUTES", raising=False)
    yield


@dataclass
class Store:
    dialect: str
    url: str
    engine: object
    factory: object
    repo: StoryRepository
    tracker_url: str
    outbox: Outbox

    def session(self):
        return self.factory()


@pytest.fixture
def pg_schema_url():
    with private_pg_schema("gehoor_store_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
        tracker_url = url  # PostgreSQL profile: Rasa's events table in the same database
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    s = Store(request.param, url, engine, factory, StoryRepository(factory), tracker_url,
              Outbox(tmp_path / "outbox.sqlite3"))
    yield s
    engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    yield Store("sqlite", url, engine, factory, StoryRepository(factory), f"sqlite:///{tmp_path / 'tracker.db'}",
                Outbox(tmp_path / "outbox.sqlite3"))
    engine.dispose()
