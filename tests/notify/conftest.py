"""Fixtures for the notification tests: real receivers (an HTTP server on 127.0.0.1 that
checks the webhook signature with its own HMAC code, a fake Slack incoming webhook, a real
SMTP server with aiosmtpd) and a story store on SQLite and PostgreSQL. The helpers they
use are in notify_helpers.py."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))  # store_helpers (Rasa-format events)

from bot.store.db import make_engine, migrate, session_factory  # noqa: E402
from bot.store.repository import StoryRepository  # noqa: E402
from notify_helpers import Mailbox, Receiver  # noqa: E402


@pytest.fixture
def receivers():
    made = []

    def make(**kwargs):
        r = Receiver(**kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    from services import free_port

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, monkeypatch):
    """A migrated story store: SQLite, and PostgreSQL in a private schema (skipped with the
    reason when PostgreSQL is not reachable; under CI it must be)."""
    monkeypatch.setenv("GEHOOR_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GEHOOR_REVIEW_URL", "https://review.acme.example")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    yield type("Store", (), {"url": url, "engine": engine, "factory": factory, "repo": StoryRepository(factory)})
    engine.dispose()


@pytest.fixture
def pg_url():
    from services import pg_schema_url

    with pg_schema_url("gehoor_notify_test") as url:
        yield url


@pytest.fixture
def alerts_file(tmp_path, monkeypatch):
    """Write an alerts file and point GEHOOR_ALERTS_FILE at it."""
    def write(data: dict) -> Path:
        path = tmp_path / "alerts.yml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        monkeypatch.setenv("GEHOOR_ALERTS_FILE", str(path))
        return path

    return write
