"""Speed-up: slot extraction after every customer message.

Replaces `rasa.core.actions.action.ActionExtractSlots.run` (Rasa 3.6.21), which walks every
mapping of every slot (intent checks, conditions, entity checks), though Gehoor's free-text
slots are conditioned on the form's requested slot and its bookkeeping slots are `custom`
without an action: only the slot being asked for can be filled. Rasa's own extraction now
runs over the slots with a mapping that could fill something on this turn (0.43 -> 0.07 ms
with 29 slots, docs/benchmarks.md). With `action_validate_slot_mappings` in the domain it is
Rasa's own pass.
"""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
from rasa.shared.core.slot_mappings import SlotMappingType

from bot.rasa_patches import is_patched, mark

REPLACES = "rasa.core.actions.action.ActionExtractSlots.run"
GAIN = "0.43 -> 0.07 ms per customer message"


class _DomainWithSlots:
    """The domain, with `slots` narrowed to a list; everything else is the domain's own."""

    def __init__(self, domain: Any, slots: list) -> None:
        self._domain = domain
        self.slots = slots

    def __getattr__(self, name: str) -> Any:
        return getattr(self._domain, name)


def install() -> None:
    original = ActionExtractSlots.run
    if is_patched(original):
        return
    custom = str(SlotMappingType.CUSTOM)

    def may_fill(mapping: Dict[Text, Any], tracker: Any, slot_name: Text) -> bool:
        # Rasa's loop passes over a mapping when its conditions do not hold, and a `custom`
        # mapping without an action sets nothing; both checks are Rasa's own and pure.
        if mapping.get("type") == custom and not mapping.get("action"):
            return False
        return ActionExtractSlots._verify_mapping_conditions(mapping, tracker, slot_name)

    async def run(self: ActionExtractSlots, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        if ACTION_VALIDATE_SLOT_MAPPINGS in domain.user_actions:
            return await original(self, output_channel, nlg, tracker, domain)  # it replays with domain.slots
        slots = [slot for slot in domain.slots
                 if any(may_fill(mapping, tracker, slot.name) for mapping in slot.mappings)]
        return await original(self, output_channel, nlg, tracker, _DomainWithSlots(domain, slots))

    ActionExtractSlots.run = mark(run, original)  # type: ignore[method-assign]
