"""Known Rasa behaviour made visible: when its SQL tracker store cannot be used, Rasa keeps
answering from an in-memory tracker store and only logs it. `gehoor run-prod` must never
call such a stack ready.

1. At start-up: the tracker database user may not create tables (PostgreSQL 15: no CREATE
   on schema public for a non-owner) → Rasa logs "Could not create tables", starts anyway.
2. At run time: a database goes away (ALLOW_CONNECTIONS false + terminated sessions, which
   affects only this test's private databases). Story database: the action servers' /ready
   fails, story writes go to the outbox and are written once it is back. Tracker database:
   stock Rasa would fall back to an empty in-memory tracker (a new session: the story split
   in two); Gehoor's tracker store (bot/channels/tracker_store.py) waits, then refuses the message
   instead. Readiness is withdrawn while either is down and comes back afterwards.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid

from sqlalchemy import create_engine, text

from bot.ops.loadgen import PG_ADMIN_URL, ProdStack, wait_for_stories
from services import require_prod_services  # (tests/services.py)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def wait_until(predicate, timeout: float, step: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def test_tracker_store_without_tables_is_never_ready(tmp_path):
    require_prod_services()
    tag = uuid.uuid4().hex[:10]
    role, db = f"gehoor_ro_{tag}", f"gehoor_rot_{tag}"
    engine = admin()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
        conn.execute(text(f'REVOKE CREATE ON DATABASE "{db}" FROM PUBLIC'))
    with create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}", isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    tracker_url = PG_ADMIN_URL.rsplit("@", 1)[0].rsplit("//", 1)[0] + f"//{role}@" + \
        PG_ADMIN_URL.rsplit("@", 1)[1].rsplit("/", 1)[0] + f"/{db}"
    stack = ProdStack.start(tmp_path, name="ro", extra_env={"GEHOOR_TRACKER_DB_URL": tracker_url}, wait=False)
    try:
        assert wait_until(lambda: "ERROR" in stack.log() or stack.process.poll() is not None, 240), stack.log()[-3000:]
        log = stack.log()
        assert stack.process.poll() is None, log[-3000:]
        assert re.search(r"ERROR .*(could not create its tracker tables|no `events` table)", log), log[-3000:]
        assert "production profile ready" not in log
        assert http_status(stack.url + "/nginx-health") == 200
        assert stack.ready_status() == 503
        time.sleep(3)
        assert stack.ready_status() == 503, "never ready afterwards either"
    finally:
        stack.stop()
        stack.drop_resources()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        engine.dispose()


def chat(stack, sender: str, message: str) -> tuple:
    """(status, bot texts, seconds) of one message through nginx."""
    request = urllib.request.Request(f"{stack.url}/webhooks/rest/webhook",
                                     data=json.dumps({"sender": sender, "message": message}).encode(),
                                     headers={"Content-Type": "application/json", "X-Gehoor-Sender": sender})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, body = response.status, json.loads(response.read() or b"[]")
    except urllib.error.HTTPError as refused:  # 503: a store is down, the client sends again
        status, body = refused.code, []
    return status, [m.get("text") for m in body if isinstance(m, dict)], time.monotonic() - started


def block(engine, database: str, blocked: bool) -> None:
    """Only this test's private database goes away (and comes back)."""
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"false" if blocked else "true"}'))
        if blocked:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                         {"d": database})


def queued_writes(stack) -> float:
    metrics = "".join(urllib.request.urlopen(f"http://127.0.0.1:{p}/metrics", timeout=5).read().decode()
                      for p in stack.action_ports)
    return sum(float(v) for v in re.findall(r'^gehoor_story_writes_total\{outcome="queued"\} (\S+)$', metrics, re.M))


def test_database_outage_at_run_time_withdraws_readiness_and_loses_no_story(tmp_path):
    """The story database and the tracker database go away in turn (separate private databases
    here, so each failure is seen alone). Story database down: the conversation goes on, the
    story write is queued in the action server's outbox and written when the database is back.
    Tracker database down: Rasa's tracker store (bot/channels/tracker_store.py) waits
    GEHOOR_TRACKER_WAIT_SECONDS (4 s here) and then refuses the message (503, no bot message:
    the customer sends again) — never Rasa's silent in-memory fallback, which started a new
    session and split the story in two. Readiness is withdrawn meanwhile and comes back."""
    require_prod_services()
    tracker_db = f"gehoor_trk_{uuid.uuid4().hex[:10]}"
    tracker_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{tracker_db}"  # created by run-prod's pre-flight
    engine = admin()
    stack = None
    try:
        stack = ProdStack.start(tmp_path, name="out",
                                extra_env={"GEHOOR_TRACKER_DB_URL": tracker_url, "GEHOOR_TRACKER_WAIT_SECONDS": "4"})
        sender = f"outage-{uuid.uuid4().hex[:6]}"
        assert chat(stack, sender, "hoi")[1]
        assert wait_for_stories(stack.db_url, {sender: ["hoi"]})[sender]["customer"] == ["hoi"]

        # 1. The story database is down: answered as usual, the story write waits in the outbox.
        queued = queued_writes(stack)
        block(engine, stack.db_name, True)
        try:
            status, texts, _ = chat(stack, sender, "4")
            assert status == 200 and texts, "the conversation goes on without the story database"
            assert wait_until(lambda: queued_writes(stack) > queued, 10), "the story write was not queued"
            assert wait_until(lambda: stack.ready_status() == 503, 30), stack.log()[-3000:]
            assert re.search(rf"ERROR PostgreSQL is not reachable at \S+/{stack.db_name}", stack.log())
            assert any(http_status(f"http://127.0.0.1:{p}/ready") == 503 for p in stack.action_ports)
        finally:
            block(engine, stack.db_name, False)
        # The outbox is flushed by the background task (every 10 s): one story, nothing lost.
        stories = wait_for_stories(stack.db_url, {sender: ["hoi", "4"]}, timeout=60)
        assert stories[sender]["customer"] == ["hoi", "4"] and stories[sender]["stories"] == 1, stories
        assert wait_until(lambda: stack.ready_status() == 200, 30), stack.log()[-3000:]

        # 2. The tracker database is down: the message waits, then is refused with 503 (not
        # processed; bot/rasa_patches/store_unavailable.py) so that the client sends it again.
        story = "ik moest drie keer bellen"
        block(engine, tracker_db, True)
        try:
            status, texts, seconds = chat(stack, sender, story)
            assert status == 503 and not texts and seconds >= 3.5, (status, texts, seconds)
            assert wait_until(lambda: stack.ready_status() == 503, 30), stack.log()[-3000:]
        finally:
            block(engine, tracker_db, False)
        rasa_logs = "".join((tmp_path / "prod" / "log" / f"rasa-{i}.log").read_text(errors="replace") for i in (1, 2))
        assert "tracker database unreachable" in rasa_logs
        assert "Falling back to use the 'InMemoryTrackerStore'" not in rasa_logs
        assert wait_until(lambda: stack.ready_status() == 200, 30), "ready again once the database is back"
        assert "in-memory tracker store" not in stack.log()
        # The customer sends again: the conversation continues where it was (same session).
        assert chat(stack, sender, story)[1]
        stories = wait_for_stories(stack.db_url, {sender: ["hoi", "4", story]})
        assert stories[sender]["customer"] == ["hoi", "4", story] and stories[sender]["stories"] == 1, stories
        assert all(http_status(f"http://127.0.0.1:{p}/ready") == 200 for p in stack.action_ports)
    finally:
        if stack is not None:
            stack.stop()
            stack.drop_resources()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{tracker_db}" WITH (FORCE)'))
        engine.dispose()
