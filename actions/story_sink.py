"""The action server's connection to the story store (bot/store), created once per process.

On first use it runs the migrations, then writes through the store's StoryWriter: a worker
thread (never blocks the event loop) with a durable outbox for when the database is down,
and a background task that flushes the outbox and marks idle stories abandoned.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from bot.store.capture import snapshot_from_events
from bot.store.db import migrate
from bot.store.writer import StoryWriter

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
                _writer = created
    return _writer


async def save(conversation_id: str, events: List[Dict[str, Any]]) -> Optional[str]:
    snapshot = snapshot_from_events(conversation_id, events)
    if snapshot is None:
        return None
    outcome = await (await writer()).save(snapshot)
    if not outcome.stored:
        logger.warning("story %s queued in the outbox (depth %d): %s",
                       outcome.reference, outcome.outbox_depth, outcome.error)
    return outcome.reference


def reference_for_events(conversation_id: str, events: List[Dict[str, Any]]) -> str:
    """The story's short reference, known before anything is written."""
    snapshot = snapshot_from_events(conversation_id, list(events))
    return snapshot.reference if snapshot else ""
