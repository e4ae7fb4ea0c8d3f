"""Feature of the production tracker store: its refusal is not turned into an empty tracker.

Replaces `rasa.core.tracker_store.FailSafeTrackerStore.on_tracker_store_error` and
`.on_tracker_store_retrieve_error` (Rasa 3.6.21). Rasa wraps every tracker store in the
fail-safe store, which answers a failed read with *no* tracker (a new, empty conversation
session) and keeps a failed write in memory only. `TrackerDatabaseUnavailable` (raised by
bot/channels/tracker_store.py after waiting out an outage) is let through instead, so the
message is refused rather than processed from an empty tracker; every other error gets
Rasa's own handling.

Not one of `bot.rasa_patches.PATCHES`: `GehoorSQLTrackerStore` installs it when it is
built (only endpoints.prod.yml configures that store), whatever GEHOOR_RASA_PATCHES says,
because that store's behaviour depends on it; like the others, only on Rasa 3.6.21
(docs/architecture.md).
"""
from __future__ import annotations

import logging
from typing import Callable

import rasa
from rasa.core.tracker_store import FailSafeTrackerStore

from bot.rasa_patches import SUPPORTED_RASA, is_patched, mark

logger = logging.getLogger(__name__)

REPLACES = "rasa.core.tracker_store.FailSafeTrackerStore.on_tracker_store_error / on_tracker_store_retrieve_error"
GAIN = "correctness: no restarted conversation during a database outage"


def install(refused: type) -> None:
    """Let errors of class `refused` through the fail-safe wrapper (on the pinned Rasa only)."""
    if rasa.__version__ != SUPPORTED_RASA:
        logger.error("failsafe_passthrough: written for Rasa %s, this is Rasa %s: not installed (a tracker "
                     "database outage falls back to Rasa's in-memory tracker)", SUPPORTED_RASA, rasa.__version__)
        return
    for name in ("on_tracker_store_error", "on_tracker_store_retrieve_error"):
        original = getattr(FailSafeTrackerStore, name, None)
        if original is None or is_patched(original):
            continue

        def handler(self: FailSafeTrackerStore, error: Exception, _original: Callable = original) -> None:
            if isinstance(error, refused):
                raise error
            return _original(self, error)

        setattr(FailSafeTrackerStore, name, mark(handler, original))
