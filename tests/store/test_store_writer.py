"""StoryWriter + durable outbox: the database is briefly unreachable, nothing is lost."""
from __future__ import annotations

import asyncio
import sqlite3
import time

from sqlalchemy import func, select

from bot.store.capture import snapshot_from_events
from bot.store.db import make_engine, migrate, session_factory
from bot.store.models import Message, Story
from bot.store.outbox import Outbox
from bot.store.repository import StoryRepository
from bot.store.writer import StoryWriter
from store_helpers import Conversation

UNREACHABLE_PG = "postgresql+psycopg2://postgres@127.0.0.1:1/test?connect_timeout=2"


def _turns(sender: str):
    """Snapshots after every turn of a typical conversation."""
    events = Conversation(sender).typical().events
    snaps = [snapshot_from_events(sender, events[:end]) for end in range(4, len(events) + 1)]
    return [s for s in snaps if s is not None]


def _story_rows(store):
    with store.session() as s:
        stories = s.execute(select(func.count()).select_from(Story)).scalar()
        messages = s.execute(select(func.count()).select_from(Message)).scalar()
    return stories, messages


def test_outbox_while_database_unreachable_then_flush(store, tmp_path):
    bad = make_engine(UNREACHABLE_PG)
    outbox = Outbox(tmp_path / "box.sqlite3")
    writer = StoryWriter(StoryRepository(session_factory(bad)), outbox)
    snaps = _turns("down-1")
    outcomes = [writer.save_sync(s) for s in snaps]
    assert not any(o.stored for o in outcomes)
    assert outbox.depth() == len(snaps) and outcomes[-1].outbox_depth == len(snaps)
    assert all(o.reference == snaps[0].reference for o in outcomes)  # the customer gets the reference anyway

    # a restart of the action server: the outbox survives (it is a file)
    writer2 = StoryWriter(store.repo, Outbox(tmp_path / "box.sqlite3"))
    report = writer2.flush_outbox()
    assert report.flushed == len(snaps) and report.remaining == 0
    assert _story_rows(store) == (1, len(snaps[-1].messages))
    # newer snapshot after the flush is applied normally
    assert writer2.save_sync(snaps[-1]).stored


def test_save_flushes_queued_snapshots_first_in_order(store, tmp_path):
    outbox = Outbox(tmp_path / "box.sqlite3")
    writer = StoryWriter(StoryRepository(session_factory(make_engine(UNREACHABLE_PG))), outbox)
    snaps = _turns("down-2")
    for s in snaps[:-1]:
        writer.save_sync(s)
    writer.repository = store.repo  # the database is back
    outcome = writer.save_sync(snaps[-1])
    assert outcome.stored and outbox.depth() == 0
    with store.session() as s:
        story = s.execute(select(Story)).scalar_one()
        assert story.status == "complete"
        texts = [m.text for m in story.messages]
    assert texts == [m.text for m in snaps[-1].messages]


def test_outbox_when_sqlite_is_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    migrate(url)
    engine = make_engine(url, busy_timeout_ms=100)
    outbox = Outbox(tmp_path / "box.sqlite3")
    writer = StoryWriter(StoryRepository(session_factory(engine)), outbox)
    locker = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        outcome = writer.save_sync(_turns("locked")[0])
        assert not outcome.stored and outbox.depth() == 1
        assert "locked" in (outcome.error or "")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    report = writer.flush_outbox()
    assert report.flushed == 1 and outbox.depth() == 0
    with session_factory(engine)() as s:
        assert s.execute(select(func.count()).select_from(Story)).scalar() == 1


def test_permanent_failure_goes_to_dead_letters_not_blocking(store, tmp_path):
    outbox = Outbox(tmp_path / "box.sqlite3")
    good = _turns("ok")[-1]
    poison = _turns("poison")[-1]
    poison.status = "bogus"  # the save below rejects this snapshot (permanent error)

    calls = []

    def save(snap):
        calls.append(snap.conversation_id)
        if snap.conversation_id == "poison":
            raise ValueError("bad data")
        return store.repo.save(snap)

    outbox.append(poison)
    outbox.append(good)
    report = outbox.flush(save)
    assert report.flushed == 1 and report.dead == 1 and outbox.depth() == 0 and outbox.dead_count() == 1
    assert calls == ["poison", "ok"]


async def test_async_save_does_not_block_event_loop(tmp_path):
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    migrate(url)
    engine = make_engine(url, busy_timeout_ms=1500)
    writer = StoryWriter(StoryRepository(session_factory(engine)), Outbox(tmp_path / "box.sqlite3"))
    locker = sqlite3.connect(tmp_path / "slow.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # the write will wait ~1.5 s for the lock
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        outcome = await writer.save(_turns("async")[0])
        elapsed = time.monotonic() - started
    finally:
        task.cancel()
        locker.execute("ROLLBACK")
        locker.close()
    assert elapsed >= 1.0 and ticks >= 10  # the loop kept running while the worker waited
    assert not outcome.stored  # locked → outbox
    flushed = await writer.flush()
    assert flushed.flushed == 1
    await writer.aclose()


async def test_background_task_flushes_when_database_returns(store, tmp_path):
    outbox = Outbox(tmp_path / "box.sqlite3")
    writer = StoryWriter(StoryRepository(session_factory(make_engine(UNREACHABLE_PG))), outbox)
    await writer.save(_turns("bg")[-1])
    assert outbox.depth() == 1
    writer.repository = store.repo
    writer.start_background(flush_seconds=0.05, sweep_seconds=None)
    for _ in range(100):
        await asyncio.sleep(0.05)
        if outbox.depth() == 0:
            break
    await writer.aclose()
    assert outbox.depth() == 0 and _story_rows(store)[0] == 1


async def test_save_events_captures_on_the_worker(store, tmp_path):
    writer = StoryWriter(store.repo, Outbox(tmp_path / "box.sqlite3"))
    conv = Conversation("ev").session_start().bot("hoi")
    assert await writer.save_events("ev", conv.events) is None
    conv.user("8")
    outcome = await writer.save_events("ev", conv.events)
    assert outcome.stored and outcome.result.created
    await writer.aclose()
