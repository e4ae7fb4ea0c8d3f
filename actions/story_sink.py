"""The action server's connection to the story store (bot/store), created once per process.

Migrations run when the first action is served; writes go through the store's async
writer, which never blocks the event loop and falls back to a durable outbox.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from bot.store.capture import snapshot_from_events
from bot.store.writer import StoryWriter

logger = logging.getLogger(__name__)

_writer: Optional[StoryWriter] = None
_lock = asyncio.Lock()


async def writer() -> StoryWriter:
    global _writer
    if _writer is None:
        async with _lock:
            if _writer is None:
                _writer = await asyncio.get_running_loop().run_in_executor(None, StoryWriter.create)
    return _writer


async def save(conversation_id: str, events: List[Dict[str, Any]]) -> Optional[str]:
    snapshot = snapshot_from_events(conversation_id, events)
    if snapshot is None:
        return None
    await (await writer()).save(snapshot)
    return snapshot.reference


def reference_for_events(conversation_id: str, events: List[Dict[str, Any]]) -> str:
    """The story's short reference, known before anything is written."""
    snapshot = snapshot_from_events(conversation_id, list(events))
    return snapshot.reference if snapshot else ""
