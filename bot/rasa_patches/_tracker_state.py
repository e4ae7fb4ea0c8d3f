"""Helpers shared by the tracker patches: a tracker's state copied without a replay."""
from __future__ import annotations

import copy
from collections import deque
from typing import Any, Dict, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (ActionExecuted, ActionReverted, FollowupAction, Restarted, SessionStarted,
                                     UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DEFAULT_SENDER_ID

# The number of a tracker's events already in the SQL tracker store, noted on the tracker
# object when it is read and after each save (bot/rasa_patches/sql_tracker_store.py).
STORED = "_gehoor_stored_events"

_PLAIN_CLASSES: Dict[type, bool] = {}


def copy_slot(slot: Any) -> Any:
    """copy.copy(slot) for Rasa's plain slot objects, without the generic __reduce_ex__ path
    (it was most of a tracker copy's time)."""
    cls: Any = type(slot)
    plain = _PLAIN_CLASSES.get(cls)
    if plain is None:
        plain = _PLAIN_CLASSES[cls] = not hasattr(cls, "__copy__") \
            and not any(vars(base).get("__slots__") for base in cls.__mro__) \
            and cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__ \
            and not hasattr(cls, "__getstate__") and not hasattr(cls, "__setstate__")
    if not plain or not hasattr(slot, "__dict__"):
        return copy.copy(slot)
    duplicate = cls.__new__(cls)
    duplicate.__dict__.update(slot.__dict__)
    return duplicate


def state_copy(tracker: Any) -> Any:
    """A new tracker in the state `tracker` is in, as Rasa's replay of its events would
    leave it, sharing no mutable state with it (the caller checks that it may be used)."""
    duplicate = copy.copy(tracker)
    duplicate.sender_id = tracker.sender_id or DEFAULT_SENDER_ID
    duplicate.events = deque(tracker.events)
    duplicate.slots = {name: copy_slot(slot) for name, slot in tracker.slots.items()}
    duplicate.active_loop = copy.copy(tracker.active_loop)
    duplicate.latest_action = dict(tracker.latest_action or {})
    duplicate.sender_source = None
    duplicate.model_id = duplicate.assistant_id = None
    duplicate.__dict__.pop(STORED, None)
    return duplicate


def replayed_followup_action(events: Any) -> Optional[str]:
    """The followup action a replay of `events` ends with (the live tracker's may have been
    cleared since, by the processor): "" when a revert makes it a replay's own business."""
    for event in reversed(events):
        if isinstance(event, (ActionExecuted, UserUttered)):
            return None
        if isinstance(event, FollowupAction):
            return event.action_name
        if isinstance(event, Restarted):
            return ACTION_SESSION_START_NAME
        if isinstance(event, SessionStarted):
            return ACTION_LISTEN_NAME
        if isinstance(event, (UserUtteranceReverted, ActionReverted)):
            return ""
    return ACTION_LISTEN_NAME
