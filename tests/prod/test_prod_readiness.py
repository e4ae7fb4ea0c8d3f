"""Known Rasa behaviour made visible: when its SQL tracker store cannot be used, Rasa keeps
answering from an in-memory tracker store and only logs it. `gehoor run-prod` must never
call such a stack ready.

1. At start-up: the tracker database user may not create tables (PostgreSQL 15: no CREATE
   on schema public for a non-owner) → Rasa logs "Could not create tables", starts anyway.
2. At run time: the database goes away (ALLOW_CONNECTIONS false + terminated sessions, which
   affects only this test's private database) → Rasa falls back to the in-memory store.
   The action servers' /ready fails too, stories go to the outbox and are written once the
   database is back. (Rasa's fallback tracker is empty, so the customer's next message starts
   a new session: the story splits in two. Nothing is lost, but the context is — one more
   reason never to run on the fallback.)
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
import uuid

import pytest
from sqlalchemy import create_engine, text

from bot.ops.loadgen import PG_ADMIN_URL, ProdStack, services_unavailable, stored_stories, wait_for_stories


def require_services() -> None:
    """As tests/prod/conftest.py: skip with the reason, or fail when CI is set."""
    import os

    reason = services_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"production services unavailable: {reason} (CI is set: these tests must run)")
        pytest.skip(f"production services unavailable: {reason}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def say(stack, sender: str, message: str) -> int:
    request = urllib.request.Request(f"{stack.url}/webhooks/rest/webhook",
                                     data=json.dumps({"sender": sender, "message": message}).encode(),
                                     headers={"Content-Type": "application/json", "X-Gehoor-Sender": sender})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


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
    require_services()
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


def test_database_outage_at_run_time_withdraws_readiness_and_loses_no_story(tmp_path):
    require_services()
    stack = ProdStack.start(tmp_path, name="out")
    engine = admin()
    try:
        sender = f"outage-{uuid.uuid4().hex[:6]}"
        assert say(stack, sender, "hoi") == 200
        assert wait_for_stories(stack.db_url, {sender: ["hoi"]})[sender]["customer"] == ["hoi"]

        with engine.connect() as conn:  # only this test's private database goes away
            conn.execute(text(f'ALTER DATABASE "{stack.db_name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                         {"d": stack.db_name})
        try:
            status = say(stack, sender, "4")  # Rasa answers from its in-memory fallback (200)
            assert wait_until(lambda: stack.ready_status() == 503, 30), stack.log()[-3000:]
            log = stack.log()
            assert re.search(r"ERROR .*in-memory tracker store", log), log[-3000:]
            assert any(http_status(f"http://127.0.0.1:{p}/ready") == 503 for p in stack.action_ports)
            metrics = "".join(urllib.request.urlopen(f"http://127.0.0.1:{p}/metrics", timeout=5).read().decode()
                              for p in stack.action_ports)
            depths = [float(v) for v in re.findall(r"^gehoor_story_outbox_depth (\S+)$", metrics, re.M)]
            queued = sum(float(v) for v in re.findall(r'^gehoor_story_writes_total\{outcome="queued"\} (\S+)$',
                                                      metrics, re.M))
            assert (status == 200) == (queued >= 1), (status, queued, depths)
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{stack.db_name}" ALLOW_CONNECTIONS true'))
        if status == 200:
            # The outbox is flushed by the background task (every 10 s): nothing is lost. But
            # Rasa's fallback started an empty in-memory tracker (a new session), so the
            # conversation lost its context and "4" is the start of a second story.
            deadline = time.monotonic() + 60
            while True:
                stories = stored_stories(stack.db_url, [sender])
                if stories[sender]["all_customer"] == ["hoi", "4"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert stories[sender]["all_customer"] == ["hoi", "4"], stories
        # The fallback is not forgotten: conversations lived in memory meanwhile.
        time.sleep(2)
        assert stack.ready_status() == 503
        assert all(http_status(f"http://127.0.0.1:{p}/ready") == 200 for p in stack.action_ports)
    finally:
        stack.stop()
        stack.drop_resources()
        engine.dispose()
