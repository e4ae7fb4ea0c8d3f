"""The action server's connection to the story store (bot/store), created once per process.

On first use it runs the migrations, then writes through the store's StoryWriter: a worker
thread (never blocks the event loop) with a durable outbox for when the database is down,
and a background task that flushes the outbox and marks idle stories abandoned.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, List, Optional

from bot.store.capture import reference_from_events
from bot.store.db import migrate
from bot.store.writer import StoryWriter
from bot.ops import metrics

logger = logging.getLogger(__name__)

_writer: Optional[StoryWriter] = None
_lock = asyncio.Lock()


def _create_writer() -> StoryWriter:
    migrate()
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


# Writes in flight. The writer's single worker thread runs them in submission order, so a
# later snapshot of a conversation never lands before an earlier one.
_in_flight: "set[asyncio.Task]" = set()


async def save(conversation_id: str, events: List[Dict[str, Any]]) -> Optional[str]:
    """Hand the story to the store without making the customer wait for it.

    Capture (analysis) and the database write run on the store's worker thread; the action
    answers at once. Nothing is lost if the write fails: it goes to the outbox, and the
    tracker store still holds every event for `gehoor stories reconcile`.
    """
    store = await writer()
    task = asyncio.get_running_loop().create_task(_write(store, conversation_id, list(events)))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)
    return reference_from_events(conversation_id, events)


async def drain() -> None:
    """Wait for every write handed over so far (tests, shutdown)."""
    while _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)


async def _write(store: StoryWriter, conversation_id: str, events: List[Dict[str, Any]]) -> None:
    metrics.TURNS.inc()
    started = time.perf_counter()
    try:
        outcome = await store.save_events(conversation_id, events)
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
    metrics.STORY_WRITES.labels("stored" if outcome.stored else "queued").inc()
    if not outcome.stored:
        logger.warning("story %s queued in the outbox (depth %d): %s",
                       outcome.reference, outcome.outbox_depth, outcome.error)


def reference_for_events(conversation_id: str, events: List[Dict[str, Any]]) -> str:
    """The story's short reference, known before anything is written (no analysis needed)."""
    return reference_from_events(conversation_id, list(events)) or ""
