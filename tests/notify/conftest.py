"""Real receivers for the notification tests: an HTTP server on 127.0.0.1 that checks the
webhook signature with its own HMAC code (not bot.notify.signing), a fake Slack incoming
webhook, and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))  # store_helpers (Rasa-format events)

from bot.store.db import make_engine, migrate, session_factory  # noqa: E402
from bot.store.repository import StoryRepository  # noqa: E402

SECRET = "whsec_test_3f1c9a"


def receiver_verifies(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """The receiver's own check, written from the documented scheme (docs/notifications.md)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    t = int(fields["t"])
    if abs(time.time() - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


class Receiver:
    """An HTTP endpoint answering from a script of status codes (then 200)."""

    def __init__(self, secret=None, script=(), slack=False, delay=0.0):
        self.secret, self.script, self.slack, self.delay = secret, list(script), slack, delay
        self.requests: list = []  # every request: dict(headers, body, json, verified, status)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                verified = None
                if receiver.secret is not None:
                    header = self.headers.get("Gehoor-Signature", "")
                    verified = bool(header) and receiver_verifies(header, body, receiver.secret)
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    if verified is False:
                        status = 400
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "json": json.loads(body), "verified": verified, "status": status})
                answer = b"ok" if receiver.slack and status == 200 else b"{}"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ok(self):
        return [r for r in self.requests if r["status"] == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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


class Mailbox:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def __init__(self):
        self.messages: list = []


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


class Clock:
    """An injectable clock: tests move it instead of sleeping."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        from datetime import timedelta

        self.now += timedelta(**delta)
