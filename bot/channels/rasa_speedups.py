"""Performance fixes for Rasa 3.6, installed when Rasa loads Gehoor's channels.

Each one keeps Rasa's behaviour and removes repeated work found by profiling a Gehoor turn
(docs/benchmarks.md):

* Action-response validation: `jsonschema.validate(result, schema)` re-checks the *schema
  itself* against the draft 2020-12 meta-schema on every call (~75 % of the Rasa server's
  CPU at first). The schema is checked once and the compiled validator reused: every
  response is still validated, with the same errors.
* HTTP to the action server: `EndpointConfig.request` opens a new aiohttp session — a new
  TCP connection — for every call. One pooled keep-alive session per event loop is reused.
  The tracker it posts is encoded with orjson (~0.05 ms instead of ~0.25 with ujson).
* SQL tracker store: reading a conversation built an ORM object per stored event; only the
  event's JSON is read now. `save` adds one ORM object per new event, which SQLAlchemy
  inserts one statement at a time (it must read back each id): one executemany insert of
  the same rows. It COUNTs the stored events of the conversation on every save, and with an
  event broker reads and replays the whole stored tracker again to find the new events: the
  tracker now carries how many of its events are stored (set when read, after each save).
* Forms: the temporary tracker handed to a form's validation action is a copy of the
  current tracker plus the few events Rasa adds, instead of a replay of the whole history.
* Action calls carry a slimmer tracker: Rasa stamps every event with the model's id (in
  its metadata) and keeps each message's whole intent ranking; the action server never
  reads either, and they were half of the JSON posted, parsed and rebuilt on every call.
  Removed from the events of the tracker sent to custom actions: `model_id`/`assistant_id`
  from event metadata, and `intent_ranking`, `response_selector`, `text_tokens` and the
  copy of the event's metadata from the parse data of every user message but the latest
  (whose parse also stays whole in `latest_message`). Text, intent, entities, channel,
  metadata and times all stay. This one changes what actions see, for Gehoor's actions
  only (docs/architecture.md). The state is built without `dataclasses.asdict`'s deep copy
  of the active form's trigger message (a whole NLU parse), as it is serialised at once.
* Slot extraction after every message (`action_extract_slots`) walks every mapping of
  every slot — intent checks, conditions, entity checks — though Gehoor's free-text slots
  are conditioned on the form's requested slot and its bookkeeping slots are `custom`
  without an action: only the slot being asked for can be filled. Rasa's own extraction
  now runs over the slots that have a mapping that could fill something on this turn.
* `DialogueStateTracker.applied_events()` (the events not undone by reverts, restarts or a
  form's own re-runs) is computed from the first event on every call — several times per
  turn, and with a walk back through the history for every run of a form. The tracker
  now remembers its last result and, when its events only grew since and no new form
  appeared, goes on from there with Rasa's own rules.
* The processor copies the tracker for every action it runs (`DialogueStateTracker.copy`,
  a replay of every event): a copy of the current state instead, with the followup action
  a replay would end with; histories with reverts or a capped length are still replayed.
* After the validation action has chosen the next slot (and asked for it itself, as
  Gehoor's does), FormAction still builds a temporary tracker to ask for it, then finds
  no `utter_ask_*`/`action_ask_*` to run. Without one, that tracker is no longer built.
* Debug log lines: FormAction and the message processor deep-copy the latest message (with
  its whole NLU parse), slot candidates and every action's events for `structlogger.debug`
  on every turn, whether or not debug logging is on, and format every slot's value into a
  debug line after each action. Both only happen when that log line can be written.
* A new tracker copies each of the domain's slots with `copy.copy`'s generic path (~6 us a
  slot, ~0.2 ms with Gehoor's 31) — for every conversation read from the store and for every
  replay of its past states that a prediction makes. The same shallow copy, made directly.
* Event deserialisation: `Event.resolve_by_type` walks every Event subclass (with
  `inspect.isabstract`) for every event of every tracker loaded. Found classes are cached.

The stock-Rasa baseline in bench/bench_roundtrip.py loads the same credentials.yml, so it
gets the same fixes and the comparison stays fair.
"""
from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any, Dict, Optional, Text, Type

import orjson

logger = logging.getLogger(__name__)

# Sanic (the action server) closes an idle keep-alive connection after 5 s; the client
# drops its own idle connections well before that, so it never reuses one being closed.
KEEPALIVE_SECONDS = 2.0


def install() -> None:
    import rasa

    if not rasa.__version__.startswith("3.6."):
        return  # written against Rasa 3.6's internals; another version runs unpatched
    _install_compiled_response_validator()
    _install_pooled_endpoint_sessions()
    _install_event_type_cache()
    _install_sql_tracker_store_shortcuts()
    _install_form_temporary_tracker()
    _install_debug_log_copies()
    _install_slim_action_tracker()
    _install_slot_extraction_prefilter()
    _install_incremental_applied_events()
    _install_tracker_copy()
    _install_slot_copies()
    _install_form_request_shortcut()


def _install_compiled_response_validator() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "gehoor_speedup", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    is_valid = _fast_response_check(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        if is_valid(result):
            return True
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result.gehoor_speedup = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result


def _fast_response_check(schema: Dict[Text, Any]) -> Any:
    """A yes/no check equal to the full schema, without its 23-way `oneOf` per event.

    Each event schema in Rasa's `oneOf` is told apart by `{"event": {"const": ...}}` and the
    base schema requires "event", so an event passes the `oneOf` exactly when it passes the
    base schema and the one branch whose const is its type. The parts are compiled with
    fastjsonschema (they use only keywords that mean the same in its drafts and in the
    2020-12 draft jsonschema applies: type, properties, required, const, items,
    patternProperties). Anything that does not pass here is re-checked by the full
    validator, which gives Rasa's own error.
    """
    import fastjsonschema

    events_schema = schema["properties"]["events"]
    event_schema = events_schema["items"]
    base_event = {k: v for k, v in event_schema.items() if k != "oneOf"}
    if events_schema.get("type") != "array" or set(events_schema) != {"type", "items"} \
            or len({branch["properties"]["event"]["const"] for branch in event_schema["oneOf"]}) \
            != len(event_schema["oneOf"]) or not _only_keywords(schema, _DRAFT_NEUTRAL_KEYWORDS):
        return lambda result: False  # not the schema this was written for: full check only
    by_type = {branch["properties"]["event"]["const"]: _compiled(fastjsonschema, branch)
               for branch in event_schema["oneOf"]}
    envelope = _compiled(fastjsonschema, dict(schema, properties=dict(schema["properties"], events={"type": "array"})))
    base = _compiled(fastjsonschema, base_event)

    def is_valid(result: Any) -> bool:
        if not envelope(result):
            return False
        for event in result.get("events") or ():
            kind = event.get("event") if isinstance(event, dict) else None
            branch = by_type.get(kind) if isinstance(kind, str) else None
            if branch is None or not base(event) or not branch(event):
                return False
        return True

    return is_valid


_DRAFT_NEUTRAL_KEYWORDS = {"type", "properties", "required", "const", "items", "oneOf", "patternProperties"}


def _only_keywords(schema: Any, allowed: set, under_properties: bool = False) -> bool:
    if isinstance(schema, list):
        return all(_only_keywords(item, allowed) for item in schema)
    if not isinstance(schema, dict):
        return True
    if under_properties:  # keys are property names (or patterns), values are schemas
        return all(_only_keywords(value, allowed) for value in schema.values())
    return all(key in allowed and _only_keywords(value, allowed, key in ("properties", "patternProperties"))
               for key, value in schema.items() if key != "type")


def _compiled(fastjsonschema: Any, schema: Dict[Text, Any]) -> Any:
    validate = fastjsonschema.compile(schema)

    def passes(value: Any) -> bool:
        try:
            validate(value)
            return True
        except fastjsonschema.JsonSchemaException:
            return False

    return passes


def _dumps(value: Any) -> str:
    """The JSON of an action call (the whole tracker, 10-20 KB): orjson takes ~0.05 ms where
    ujson took ~0.25 and json.dumps ~0.55. json.dumps stays the fallback for what orjson
    refuses (keys that are not strings, integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


class _SharedSession:
    """`async with` yields the loop's pooled session and leaves it open for the next call."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _install_pooled_endpoint_sessions() -> None:
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    if getattr(EndpointConfig.session, "gehoor_speedup", False):
        return
    original = EndpointConfig.session
    pools: Dict[tuple, aiohttp.ClientSession] = {}

    def session(self: EndpointConfig) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return original(self)
        # Headers and auth are session-wide in aiohttp, so each distinct set gets its own pool;
        # a pool made on another (earlier) event loop is replaced below.
        key = (tuple(sorted((self.headers or {}).items())), tuple(sorted((self.basic_auth or {}).items())))
        pooled = pools.get(key)
        if pooled is None or pooled.closed or pooled._loop is not loop:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) \
                if self.basic_auth else None
            pooled = aiohttp.ClientSession(
                headers=self.headers, auth=auth, json_serialize=_dumps,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS, limit=0))
            pools[key] = pooled
        return _SharedSession(pooled)

    session.gehoor_speedup = True  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[assignment]

    original_request = EndpointConfig.request

    async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original_request(self, *args, **dict(kwargs))
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # A pooled connection the peer closed just as it was reused (an nginx reload or
            # restart): once more on a fresh connection. Gehoor's actions are safe to repeat,
            # as nginx's own retry of a cut-off action call already assumes (docs/deploy.md).
            logger.warning("%s: connection closed by the server (%s); sending once more", self.url, exc)
            return await original_request(self, *args, **dict(kwargs))

    request.gehoor_speedup = True  # type: ignore[attr-defined]
    EndpointConfig.request = request  # type: ignore[assignment]


def _install_event_type_cache() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    if getattr(original, "gehoor_speedup", False):
        return
    found: Dict[Text, Type[Event]] = {}

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            # Only real matches are cached: a default or None stays a per-call answer.
            if cls is not None and cls is not default and cls.type_name == type_name:
                found[type_name] = cls
        return cls

    resolve_by_type.gehoor_speedup = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


# The number of a tracker's events already in the SQL tracker store, noted on the tracker
# object when it is read and after each save. Rasa 3.6 otherwise finds it with a COUNT over
# the conversation's rows on every save, and — with an event broker — reads and replays the
# whole stored tracker again on every save just to tell which events are new.
_STORED = "_gehoor_stored_events"


def _stored_events(tracker: Any) -> Optional[int]:
    stored = tracker.__dict__.get(_STORED)
    if stored is None or getattr(tracker, "_max_event_history", None) is not None or stored > len(tracker.events):
        return None  # unknown, or a capped event history: ask the database as Rasa does
    return stored


def _install_sql_tracker_store_shortcuts() -> None:
    import itertools

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    if getattr(SQLTrackerStore.save, "gehoor_speedup", False):
        return
    original_retrieve = SQLTrackerStore._retrieve
    original_stream_events = SQLTrackerStore.stream_events

    async def _retrieve(self: SQLTrackerStore, sender_id: Text, fetch_events_from_all_sessions: bool) -> Any:
        """Rasa 3.6's SQLTrackerStore._retrieve, reading only the `data` column of the same
        query: building an ORM object per stored event was ~20 us a row, most of the read."""
        if not self.domain:
            return await original_retrieve(self, sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions) \
                .with_entities(self.SQLEvent.data).all()
            events = [json.loads(data) for (data,) in rows]
        if not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            tracker.__dict__[_STORED] = len(tracker.events)  # exactly the rows save() would count
        return tracker

    async def stream_events(self: SQLTrackerStore, tracker: Any) -> None:
        stored = _stored_events(tracker) if self.event_broker is not None else None
        if stored is None:
            return await original_stream_events(self, tracker)
        new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self: SQLTrackerStore, tracker: Any) -> None:
        """Rasa 3.6's SQLTrackerStore.save: the same rows, in one executemany, without the COUNT
        when the tracker knows how many of its events are stored."""
        await self.stream_events(tracker)
        stored = _stored_events(tracker)
        tracker.__dict__.pop(_STORED, None)  # until this save has committed: a retry counts again
        with self.session_scope() as session:
            new_events = (self._additional_events(session, tracker) if stored is None
                          else itertools.islice(tracker.events, stored, len(tracker.events)))
            rows = []
            for event in new_events:
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        tracker.__dict__[_STORED] = len(tracker.events)

    for function in (_retrieve, stream_events, save):
        function.gehoor_speedup = True  # type: ignore[attr-defined]
    _retrieve.rasas_own = original_retrieve  # type: ignore[attr-defined]  (tests compare the two)
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[assignment]
    SQLTrackerStore.stream_events = stream_events  # type: ignore[assignment]
    SQLTrackerStore.save = save  # type: ignore[assignment]


_PLAIN_CLASSES: Dict[type, bool] = {}


def _copy_slot(slot: Any) -> Any:
    """copy.copy(slot) for Rasa's plain slot objects, without the generic __reduce_ex__ path
    (it was most of a tracker copy's time)."""
    cls = type(slot)
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


def _state_copy(tracker: Any) -> Any:
    """A new tracker in the state `tracker` is in, as Rasa's replay of its events would
    leave it, sharing no mutable state with it (the caller checks that it may be used)."""
    from collections import deque

    from rasa.shared.core.trackers import DEFAULT_SENDER_ID

    duplicate = copy.copy(tracker)
    duplicate.sender_id = tracker.sender_id or DEFAULT_SENDER_ID
    duplicate.events = deque(tracker.events)
    duplicate.slots = {name: _copy_slot(slot) for name, slot in tracker.slots.items()}
    duplicate.active_loop = copy.copy(tracker.active_loop)
    duplicate.latest_action = dict(tracker.latest_action or {})
    duplicate.sender_source = None
    duplicate.model_id = duplicate.assistant_id = None
    duplicate.__dict__.pop(_STORED, None)
    return duplicate


def _replayed_followup_action(events: Any) -> Optional[str]:
    """The followup action a replay of `events` ends with (the live tracker's may have been
    cleared since, by the processor): "" when a revert makes it a replay's own business."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.core.events import (ActionExecuted, ActionReverted, FollowupAction, Restarted, SessionStarted,
                                         UserUttered, UserUtteranceReverted)

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


def _install_tracker_copy() -> None:
    """`DialogueStateTracker.copy()` replays every event into a new tracker; the processor
    copies the tracker so for every action it runs (to drop the action's events if it is
    rejected). A copy of the current state is the same tracker at a fraction of the cost;
    histories with reverts or a capped length are still replayed."""
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.copy
    if getattr(original, "gehoor_speedup", False):
        return

    def copy_(self: DialogueStateTracker) -> DialogueStateTracker:
        followup = _replayed_followup_action(self.events)
        if self._max_event_history is not None or followup == "":
            return original(self)
        duplicate = _state_copy(self)
        duplicate.followup_action = followup
        return duplicate

    copy_.gehoor_speedup = True  # type: ignore[attr-defined]
    copy_.rasas_own = original  # type: ignore[attr-defined]  (tests compare the two)
    DialogueStateTracker.copy = copy_  # type: ignore[assignment]


class _SlotCopies:
    """Stands in for the `copy` module in rasa.shared.core.trackers, whose one use of it is
    `copy.copy(slot)` for every slot of the domain in the tracker's constructor: a tracker is
    built for every stored conversation read, and again for every past-state replay of a
    prediction. With Gehoor's 31 slots the generic copy was ~0.2 ms per tracker."""

    copy = staticmethod(_copy_slot)


def _install_slot_copies() -> None:
    import inspect

    from rasa.shared.core import trackers

    if isinstance(trackers.copy, _SlotCopies):
        return
    uses = [line.strip() for line in inspect.getsource(trackers).splitlines() if "copy." in line]
    if trackers.copy is not copy or uses != ["self.slots = {slot.name: copy.copy(slot) for slot in slots}"]:
        return  # another Rasa than the one this was written against: leave it alone
    trackers.copy = _SlotCopies()  # type: ignore[attr-defined]


def _install_form_temporary_tracker() -> None:
    """FormAction builds a temporary tracker for its validation action on every turn of a
    form by replaying the conversation's whole history (`DialogueStateTracker.from_events`).
    The current tracker already holds that replayed state: copy it and apply only the
    events Rasa appends (requested slot, the form's ActionExecuted, the slot candidates)."""
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, Restarted, SlotSet

    original = FormAction._temporary_tracker
    if getattr(original, "gehoor_speedup", False):
        return

    def _temporary_tracker(self: FormAction, current_tracker: Any, additional_events: Any, domain: Any) -> Any:
        if current_tracker._max_event_history is not None \
                or set(current_tracker.slots) != {slot.name for slot in domain.slots} \
                or any(isinstance(event, Restarted) for event in current_tracker.events):
            return original(self, current_tracker, additional_events, domain)
        # What from_events(sender_id, events, slots=domain.slots) would leave different:
        tracker = _state_copy(current_tracker)
        tracker.sender_id = current_tracker.sender_id
        tracker.is_rule_tracker = False
        for event in [SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
                      ActionExecuted(self.name()), *additional_events]:
            tracker.update(event, domain)
        return tracker

    _temporary_tracker.gehoor_speedup = True  # type: ignore[attr-defined]
    _temporary_tracker.rasas_own = original  # type: ignore[attr-defined]  (tests compare the two)
    FormAction._temporary_tracker = _temporary_tracker  # type: ignore[assignment]


class _CopiesForDebugLog:
    """Stands in for the `copy` module inside a Rasa module that uses it only for the values
    of its debug log lines: with debug logging off for that module (structlog's
    `filter_by_level` would drop the line), the value is passed on uncopied and unused."""

    def __init__(self, logger_name: str) -> None:
        self._deepcopy = copy.deepcopy
        self._logger = logging.getLogger(logger_name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return self._deepcopy(value, memo)
        return value


def _install_debug_log_copies() -> None:
    import importlib
    import inspect

    # Written for Rasa 3.6.21, where every `copy.` in these modules is a debug-log argument.
    for name, uses_expected in (("rasa.core.actions.forms", 3), ("rasa.core.processor", 6)):
        module = importlib.import_module(name)
        if isinstance(module.copy, _CopiesForDebugLog):
            continue
        uses = [line for line in inspect.getsource(module).splitlines() if "copy." in line]
        if module.copy is not copy or len(uses) != uses_expected \
                or not all("copy.deepcopy(" in line for line in uses):
            continue
        module.copy = _CopiesForDebugLog(module.__name__)  # type: ignore[attr-defined]

    from rasa.core.processor import MessageProcessor

    log_slots = MessageProcessor.__dict__["_log_slots"].__func__
    if getattr(log_slots, "gehoor_speedup", False):
        return
    processor_logger = logging.getLogger(MessageProcessor.__module__)

    def _log_slots(tracker: Any) -> None:
        if processor_logger.isEnabledFor(logging.DEBUG):
            log_slots(tracker)

    _log_slots.gehoor_speedup = True  # type: ignore[attr-defined]
    MessageProcessor._log_slots = staticmethod(_log_slots)  # type: ignore[assignment]


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
            if trim_metadata:
                event["metadata"] = {k: v for k, v in metadata.items() if k not in MODEL_METADATA_KEYS}
            if trim_parse:
                event["parse_data"] = {k: v for k, v in parse.items() if k not in RANKING_KEYS}
        slim.append(event)
    return slim


def _action_tracker_state(tracker: Any) -> Dict[Text, Any]:
    """`tracker.current_state(EventVerbosity.ALL)` of Rasa 3.6 with slim events, and with the
    active loop's trigger message (the whole parse of the message that started the form)
    passed as it is instead of deep-copied by `dataclasses.asdict`: the state is serialised
    for the action server at once and then dropped, and the events in it share the tracker's
    dicts as Rasa's own do."""
    import dataclasses

    from rasa.shared.core.constants import ACTIVE_LOOP, FOLLOWUP_ACTION
    from rasa.shared.core.trackers import EventVerbosity

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


def _install_slim_action_tracker() -> None:
    import dataclasses

    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import TrackerActiveLoop

    original = RemoteAction._action_call_format
    if getattr(original, "gehoor_speedup", False):
        return
    if any(dataclasses.is_dataclass(f.type) for f in dataclasses.fields(TrackerActiveLoop)):
        return  # asdict() would convert a nested dataclass: another Rasa than this was written for

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
        """Rasa 3.6's RemoteAction._action_call_format with _action_tracker_state()."""
        result = {"next_action": self._name, "sender_id": tracker.sender_id,
                  "tracker": _action_tracker_state(tracker), "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    _action_call_format.gehoor_speedup = True  # type: ignore[attr-defined]
    _action_call_format.rasas_own = original  # type: ignore[attr-defined]  (tests compare the two)
    RemoteAction._action_call_format = _action_call_format  # type: ignore[assignment]


class _DomainWithSlots:
    """The domain, with `slots` narrowed to a list; everything else is the domain's own."""

    def __init__(self, domain: Any, slots: list) -> None:
        self._domain = domain
        self.slots = slots

    def __getattr__(self, name: str) -> Any:
        return getattr(self._domain, name)


def _install_slot_extraction_prefilter() -> None:
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
    from rasa.shared.core.slot_mappings import SlotMappingType

    original = ActionExtractSlots.run
    if getattr(original, "gehoor_speedup", False):
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

    run.gehoor_speedup = True  # type: ignore[attr-defined]
    run.rasas_own = original  # type: ignore[attr-defined]  (tests compare the two)
    ActionExtractSlots.run = run  # type: ignore[assignment]


_APPLIED = "_gehoor_applied_events"  # (events seen, loop names, applied events) of the last call


def _install_incremental_applied_events() -> None:
    import itertools

    from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, Restarted, SessionStarted,
                                         UserUttered, UserUtteranceReverted)
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.applied_events
    if getattr(original, "gehoor_speedup", False):
        return

    def applied_events(self: DialogueStateTracker) -> list:
        """Rasa 3.6.21's applied_events, resumed after the events of the previous call when
        those are still the first events (the same objects) and the loop names are the same
        (which events a form's run undoes depends on all of them)."""
        events = self.events
        loop_names = [event.name for event in events if isinstance(event, ActiveLoop) and event.name]
        start, applied = 0, []
        memo = self.__dict__.get(_APPLIED)
        if memo is not None:
            seen, seen_loop_names, seen_applied = memo
            if len(seen) <= len(events) and seen_loop_names == loop_names \
                    and all(a is b for a, b in zip(seen, events)):
                start, applied = len(seen), list(seen_applied)
        for event in itertools.islice(events, start, None):
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                self._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                self._undo_till_previous(UserUttered, applied)
                self._undo_till_previous(ActionExecuted, applied)
            elif (
                isinstance(event, ActionExecuted)
                and event.action_name in loop_names
                and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
            ):
                self._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        self.__dict__[_APPLIED] = (tuple(events), loop_names, tuple(applied))
        return applied

    applied_events.gehoor_speedup = True  # type: ignore[attr-defined]
    applied_events.rasas_own = original  # type: ignore[attr-defined]  (tests compare the two)
    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]


def _install_form_request_shortcut() -> None:
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import SlotSet

    original = FormAction.request_next_slot
    if getattr(original, "gehoor_speedup", False):
        return

    async def request_next_slot(self: FormAction, tracker: Any, domain: Any, output_channel: Any, nlg: Any,
                                events_so_far: list) -> list:
        # Rasa's own steps for this case: not done, the slot the validation chose (the first
        # one it set), a temporary tracker for asking, nothing found to ask with -> [].
        chosen = next((event.value for event in events_so_far
                       if isinstance(event, SlotSet) and event.key == REQUESTED_SLOT), None)
        if chosen and self._name_of_utterance(domain, chosen) is None \
                and not await self.is_done(output_channel, nlg, tracker, domain, events_so_far):
            return []
        return await original(self, tracker, domain, output_channel, nlg, events_so_far)

    request_next_slot.gehoor_speedup = True  # type: ignore[attr-defined]
    request_next_slot.rasas_own = original  # type: ignore[attr-defined]  (tests compare the two)
    FormAction.request_next_slot = request_next_slot  # type: ignore[assignment]
