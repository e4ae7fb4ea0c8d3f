"""Feature (changes what custom actions receive): a slim tracker in every action call.

Replaces `rasa.core.actions.action.RemoteAction._action_call_format` (Rasa 3.6.21). Rasa
stamps every event with the model's id and keeps each message's whole intent ranking; no
Gehoor action reads either, and they were half of the JSON posted, parsed and rebuilt on
every call (17.4 KB -> 9.9 KB at turn 6). Removed from the events sent to custom actions:
`model_id`/`assistant_id` from event metadata, and `intent_ranking`, `response_selector`,
`text_tokens` and the copy of the event's metadata from the parse data of every user
message but the latest (whose parse also stays whole in `latest_message`). Text, intent,
entities, channel, metadata and times stay. The state is built without
`dataclasses.asdict`'s deep copy of the active form's trigger message, as it is serialised
at once (0.74 -> 0.39 ms per call at 62 events). docs/architecture.md says what an action
that needs an earlier message's ranking would have to do.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Text

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.constants import ACTIVE_LOOP, FOLLOWUP_ACTION
from rasa.shared.core.trackers import EventVerbosity, TrackerActiveLoop

from bot.rasa_patches import PatchDoesNotFit, is_patched, mark

REPLACES = "rasa.core.actions.action.RemoteAction._action_call_format"
GAIN = "action-call body 17.4 -> 9.9 KB at turn 6; state 0.74 -> 0.39 ms per call"

MODEL_METADATA_KEYS = ("model_id", "assistant_id")  # Rasa's own stamps, not the channel's
# Removed from the parse of earlier messages; "metadata" there repeats the event's own.
RANKING_KEYS = ("intent_ranking", "response_selector", "text_tokens", "metadata")


def slim_events(events: list) -> list:
    """The event dicts of a tracker as sent to the action server (see the module docstring).
    Returns new dicts where something was removed; never changes the ones passed in."""
    last_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), -1)
    slim = []
    for i, event in enumerate(events):
        metadata = event.get("metadata")
        parse = event.get("parse_data") if i != last_user else None
        trim_metadata = isinstance(metadata, dict) and not metadata.keys().isdisjoint(MODEL_METADATA_KEYS)
        trim_parse = isinstance(parse, dict) and not parse.keys().isdisjoint(RANKING_KEYS)
        if trim_metadata or trim_parse:
            event = dict(event)
            if trim_metadata and isinstance(metadata, dict):
                event["metadata"] = {k: v for k, v in metadata.items() if k not in MODEL_METADATA_KEYS}
            if trim_parse and isinstance(parse, dict):
                event["parse_data"] = {k: v for k, v in parse.items() if k not in RANKING_KEYS}
        slim.append(event)
    return slim


def action_tracker_state(tracker: Any) -> Dict[Text, Any]:
    """`tracker.current_state(EventVerbosity.ALL)` of Rasa 3.6 with slim events, and with the
    active loop's trigger message passed as it is instead of deep-copied by
    `dataclasses.asdict`: the state is serialised for the action server at once and then
    dropped, and the events in it share the tracker's dicts as Rasa's own do."""
    events = tracker._events_for_verbosity(EventVerbosity.ALL)
    loop = tracker.active_loop
    return {
        "sender_id": tracker.sender_id,
        "slots": tracker.current_slot_values(),
        "latest_message": tracker._latest_message_data(),
        "latest_event_time": tracker.events[-1].timestamp if len(tracker.events) > 0 else None,
        FOLLOWUP_ACTION: tracker.followup_action,
        "paused": tracker.is_paused(),
        "events": slim_events([e.as_dict() for e in events]) if events is not None else None,
        "latest_input_channel": tracker.get_latest_input_channel(),
        ACTIVE_LOOP: {f.name: getattr(loop, f.name) for f in dataclasses.fields(loop)} if loop else {},
        "latest_action": tracker.latest_action,
        "latest_action_name": tracker.latest_action_name,
    }


def install() -> None:
    original = RemoteAction._action_call_format
    if is_patched(original):
        return
    if any(dataclasses.is_dataclass(f.type) for f in dataclasses.fields(TrackerActiveLoop)):
        raise PatchDoesNotFit("TrackerActiveLoop nests a dataclass: asdict() would convert it, this would not")

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
        """Rasa 3.6's RemoteAction._action_call_format with action_tracker_state()."""
        result = {"next_action": self._name, "sender_id": tracker.sender_id,
                  "tracker": action_tracker_state(tracker), "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = mark(_action_call_format, original)  # type: ignore[method-assign]
