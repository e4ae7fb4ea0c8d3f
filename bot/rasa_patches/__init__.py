"""Gehoor's patches of Rasa Open Source, fenced in one package (docs/architecture.md,
"Rasa patches"): one module per patch, each naming the Rasa function it replaces and what
it saves.

Nothing is patched when this package is imported. `install()` is called once, by name,
when the Rasa server starts: Rasa builds the input channels listed in credentials.yml,
and the first of them, `bot.rasa_patches.startup.RasaPatches`, calls it. The patches are
written against one Rasa release (SUPPORTED_RASA); with any other, or with
GEHOOR_RASA_PATCHES=off, Rasa runs stock. One log line says which patches are active.
"""
from __future__ import annotations

import importlib
import logging
from typing import List, Optional

from bot import config

logger = logging.getLogger(__name__)

SUPPORTED_RASA = "3.6.21"

# Installed in this order (a later patch may rely on an earlier one being in place).
PATCHES = (
    # speed-ups: same behaviour, less repeated work
    "response_validator",
    "pooled_sessions",
    "event_type_cache",
    "sql_tracker_store",
    "form_temporary_tracker",
    "debug_log_copies",
    "slot_extraction",
    "applied_events",
    "tracker_copy",
    "slot_copies",
    # features: behaviour Gehoor chose to change (docs/architecture.md)
    "endpoint_retry",
    "slim_action_tracker",
    "store_unavailable",
    "session_windows",
    "message_dedupe",
)


class PatchDoesNotFit(RuntimeError):
    """The Rasa code a patch was written against is not what is installed."""


_active: Optional[List[str]] = None


def install(*, strict: bool = False, enabled: Optional[bool] = None) -> List[str]:
    """Install the patches once per process and return the names of the active ones.

    A patch that finds Rasa's code different from what it was written for is skipped with
    an error in the log; with `strict` (the tests) it raises PatchDoesNotFit instead, and
    every patch is checked again. `enabled` overrides GEHOOR_RASA_PATCHES (the tests)."""
    global _active
    if _active is not None and not strict:
        return list(_active)
    if not (config.rasa_patches_enabled() if enabled is None else enabled):
        logger.info("Rasa patches: off (GEHOOR_RASA_PATCHES=off), running stock Rasa")
        _active = []
        return []
    import rasa

    if rasa.__version__ != SUPPORTED_RASA:
        logger.error("Rasa patches: written for Rasa %s, this is Rasa %s: none installed, running stock Rasa",
                     SUPPORTED_RASA, rasa.__version__)
        _active = []
        return []
    active = []
    for name in PATCHES:
        module = importlib.import_module(f"{__name__}.{name}")
        try:
            module.install()
        except PatchDoesNotFit as exc:
            if strict:
                raise
            logger.error("Rasa patch %s not installed: %s", name, exc)
            continue
        active.append(name)
    _active = active
    logger.info("Rasa patches active for Rasa %s (%d of %d): %s", rasa.__version__, len(active), len(PATCHES),
                ", ".join(active))
    return list(active)


def active() -> List[str]:
    """The patches install() put in place ([] before it ran, when off, or on another Rasa)."""
    return list(_active or [])


def mark(function, original=None):  # noqa: ANN001, ANN201  (any callable)
    """Tag a replacement so a second install leaves it alone; keep Rasa's own for the tests."""
    function.gehoor_patch = True
    if original is not None:
        function.rasas_own = original
    return function


def is_patched(function) -> bool:  # noqa: ANN001
    return getattr(function, "gehoor_patch", False)
