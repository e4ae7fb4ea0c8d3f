"""Speed-up: the slots of every new tracker.

Replaces the `copy` module seen by `rasa.shared.core.trackers` (Rasa 3.6.21), whose one use
is `copy.copy(slot)` for every slot of the domain in `DialogueStateTracker.__init__`: a
tracker is built for every conversation read from the store and for every past-state
replay of a prediction. copy.copy's generic path cost ~6 us a slot; the same shallow copy
made directly: 0.22 -> 0.09 ms per tracker with Gehoor's 31 slots (docs/benchmarks.md).

It decides by reading Rasa's source: if that line is not the module's only use of `copy`,
the patch does not fit (PatchDoesNotFit; the tests fail).
"""
from __future__ import annotations

import copy
import inspect
from types import ModuleType

from rasa.shared.core import trackers

from bot.rasa_patches import PatchDoesNotFit
from bot.rasa_patches._tracker_state import copy_slot

REPLACES = "copy.copy in rasa.shared.core.trackers (DialogueStateTracker.__init__'s slot copies)"
GAIN = "0.22 -> 0.09 ms per tracker built (31 slots)"

EXPECTED_USES = ["self.slots = {slot.name: copy.copy(slot) for slot in slots}"]


class SlotCopies:
    """Stands in for the `copy` module in rasa.shared.core.trackers."""

    copy = staticmethod(copy_slot)


def check_fits(module: ModuleType) -> None:
    uses = [line.strip() for line in inspect.getsource(module).splitlines() if "copy." in line]
    if getattr(module, "copy", None) is not copy or uses != EXPECTED_USES:
        raise PatchDoesNotFit(f"rasa.shared.core.trackers uses copy otherwise than {EXPECTED_USES}: {uses}")


def install() -> None:
    if isinstance(trackers.copy, SlotCopies):  # type: ignore[attr-defined]
        return
    check_fits(trackers)
    trackers.copy = SlotCopies()  # type: ignore[attr-defined]
