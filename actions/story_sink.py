"""The action server's connection to the story store (bot/store), created once per process.

On first use it runs the migrations, then writes through the store's StoryWriter: a worker
thread (never blocks the event loop) with a durable outbox for when the database is down,
and a background task that flushes the outbox and marks idle stories abandoned.

Writes are debounced per story: a snapshot waits GEHOOR_STORY_WRITE_DELAY_MS (300 ms) for
the conversation's next turn, which replaces it (each snapshot is the whole story so far),
and is written at the latest MAX_DELAY_SECONDS after the first pending turn. A customer who
sends messages in quick succession costs one write instead of one per message; the CPU that
saves is the CPU Rasa needs to answer them. `drain()` writes everything pending at once
(tests, shutdown: bot/ops/action_plugin.py); the tracker store keeps every event regardless
(`gehoor stories reconcile`).
"""
from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, Dict, List, Optional

from bot import config
from bot.store.capture import reference_from_events
from bot.store.db import migrate
from bot.store.writer import StoryWriter
from bot.ops import metrics

logger = logging.getLogger(__name__)

_writer: Optional[StoryWriter] = None
_lock = asyncio.Lock()


# The writer thread's capture and SQL are CPU-bound Python: with the default 5 ms GIL switch
# interval a request arriving mid-write waits up to 5 ms before the event loop runs again.
GIL_SWITCH_SECONDS = 0.001


def _create_writer() -> StoryWriter:
    migrate()
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
    from bot.notify.worker import start_in_process
    start_in_process()  # alerts (GEHOOR_ALERTS_FILE): sent from a thread, never from a turn
    return StoryWriter()


async def writer() -> StoryWriter:
    global _writer
    if _writer is None:
        async with _lock:
            if _writer is None:
                created = await asyncio.get_running_loop().run_in_executor(None, _create_writer)
                created.start_background()
                metrics.track_outbox(lambda: created._pending)
                _writer = created
    return _writer


MAX_DELAY_SECONDS = 2.0

# Writes in flight. The writer's single worker thread runs them in submission order, so a
# later snapshot of a conversation never lands before an earlier one.
_in_flight: "set[asyncio.Task]" = set()


class _Pending:
    """The newest snapshot of one story that waits for the conversation's next turn."""

    __slots__ = ("store", "conversation_id", "events", "first", "handle")

    def __init__(self, store: StoryWriter, conversation_id: str, events: list, first: float) -> None:
        self.store, self.conversation_id, self.events, self.first = store, conversation_id, events, first
        self.handle: Optional[asyncio.TimerHandle] = None


# (conversation id, story reference) -> pending snapshot. The reference tells the sessions of
# one conversation apart, so a new session never replaces the last snapshot of the old one.
_pending: Dict[tuple, _Pending] = {}


async def save(conversation_id: str, events: List[Dict[str, Any]]) -> Optional[str]:
    """Hand the story to the store without making the customer wait for it.

    Capture (analysis) and the database write run on the store's worker thread, after the
    debounce delay; the action answers at once. Nothing is lost if the write fails: it goes
    to the outbox, and the tracker store still holds every event for `gehoor stories reconcile`.
    """
    metrics.TURNS.inc()
    store = await writer()
    events = list(events)
    reference = reference_from_events(conversation_id, events)
    delay = config.story_write_delay_ms() / 1000
    if reference is None or delay <= 0:
        _submit(store, conversation_id, events, reference)
        return reference
    loop = asyncio.get_running_loop()
    key = (conversation_id, reference)
    pending = _pending.get(key)
    if pending is None:
        pending = _pending[key] = _Pending(store, conversation_id, events, loop.time())
    else:
        pending.events = events  # the whole story so far: replaces the older snapshot
        if pending.handle is not None:
            pending.handle.cancel()
    pending.handle = loop.call_at(min(loop.time() + delay, pending.first + MAX_DELAY_SECONDS), _flush, key)
    return reference


def _flush(key: tuple) -> None:
    pending = _pending.pop(key, None)
    if pending is not None:
        if pending.handle is not None:
            pending.handle.cancel()
        _submit(pending.store, pending.conversation_id, pending.events, key[1])


def _submit(store: StoryWriter, conversation_id: str, events: List[Dict[str, Any]],
            reference: Optional[str]) -> None:
    task = asyncio.get_running_loop().create_task(_write(store, conversation_id, events, reference))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


async def drain() -> None:
    """Write everything pending now and wait for every write (tests, shutdown)."""
    for key in list(_pending):
        _flush(key)
    while _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)


async def _write(store: StoryWriter, conversation_id: str, events: List[Dict[str, Any]],
                 reference: Optional[str]) -> None:
    started = time.perf_counter()
    try:
        outcome = await store.save_events(conversation_id, events, reference)
    except Exception:  # noqa: BLE001 — logged and counted; the tracker store keeps the events
        metrics.STORY_WRITES.labels("failed").inc()
        metrics.ERRORS.labels("store").inc()
        logger.exception("could not store story for %s", conversation_id)
        return
    finally:
        metrics.STORY_WRITE_SECONDS.observe(time.perf_counter() - started)
    if outcome is None:
        metrics.STORY_WRITES.labels("skipped").inc()
        return
    if outcome.superseded:
        metrics.STORY_WRITES.labels("superseded").inc()
        return
    metrics.STORY_WRITES.labels("stored" if outcome.stored else "queued").inc()
    if not outcome.stored:
        logger.warning("story %s queued in the outbox (depth %d): %s",
                       outcome.reference, outcome.outbox_depth, outcome.error)


def reference_for_events(conversation_id: str, events: List[Dict[str, Any]]) -> str:
    """The story's short reference, known before anything is written (no analysis needed)."""
    return reference_from_events(conversation_id, list(events)) or ""
