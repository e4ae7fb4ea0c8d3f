"""Speed-up: debug-log arguments built with debug logging off.

Replaces the `copy` module seen by `rasa.core.actions.forms` and `rasa.core.processor`
(Rasa 3.6.21), whose every `copy.deepcopy(...)` is an argument of a `structlogger.debug`
line: the latest message with its whole NLU parse, slot candidates, every action's events,
the extraction and prediction events — deep-copied every turn whether or not the line is
written. The stand-in copies only when that module's debug logging is on.

It decides by reading Rasa's source: if any `copy.` use in those modules is not the
expected debug-log deepcopy, the patch does not fit (PatchDoesNotFit; the tests fail).
"""
from __future__ import annotations

import copy
import importlib
import inspect
import logging
from typing import Any

from bot.rasa_patches import PatchDoesNotFit

REPLACES = "copy.deepcopy in rasa.core.actions.forms (3 uses) and rasa.core.processor (6 uses)"
GAIN = "~0.2-0.3 ms per turn (timeit: the latest parse 71 us a copy, 3 events 22 us; not in the round-trip log)"

# Written for Rasa 3.6.21, where every `copy.` in these modules is a debug-log argument.
EXPECTED_USES = {"rasa.core.actions.forms": 3, "rasa.core.processor": 6}


class CopiesForDebugLog:
    """Stands in for the `copy` module inside a Rasa module that uses it only for the values
    of its debug log lines: with debug logging off for that module (structlog's
    `filter_by_level` would drop the line), the value is passed on uncopied and unused."""

    def __init__(self, logger_name: str) -> None:
        self._logger = logging.getLogger(logger_name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value


def check_fits(module: Any, expected_uses: int) -> None:
    uses = [line for line in inspect.getsource(module).splitlines() if "copy." in line]
    if module.copy is not copy or len(uses) != expected_uses or not all("copy.deepcopy(" in line for line in uses):
        raise PatchDoesNotFit(f"{module.__name__} uses copy otherwise than the {expected_uses} debug-log "
                              f"deepcopies this was written for: {uses}")


def install() -> None:
    modules = {name: importlib.import_module(name) for name in EXPECTED_USES}
    for name, module in modules.items():
        if not isinstance(module.copy, CopiesForDebugLog):
            check_fits(module, EXPECTED_USES[name])
    for module in modules.values():
        if not isinstance(module.copy, CopiesForDebugLog):
            setattr(module, "copy", CopiesForDebugLog(module.__name__))  # noqa: B010  (a module attribute)
