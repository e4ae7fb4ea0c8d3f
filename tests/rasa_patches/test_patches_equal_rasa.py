"""Each patch of bot/rasa_patches/ against the Rasa function it replaces: property tests that
the patched function gives what Rasa's own gives (installed by conftest.py, strict)."""
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError, validate

from rasa.core.actions.action import RemoteAction

VALID = {"events": [{"event": "slot", "name": "language", "value": "nl", "timestamp": None}],
         "responses": [{"text": "Hoi", "buttons": [{"title": "0", "payload": "0"}]}]}
INVALID = [
    {"events": [{"event": "slot"}]},                       # slot event without a name
    {"events": "not a list"},
    {"events": [{"name": "x"}]},                            # event without a type
    {"events": [{"event": "no_such_event"}]},               # no branch of the oneOf
    {"events": [{"event": ["slot"], "name": "x", "value": 1}]},
    {"events": ["not an object"]},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"}]},
    {"events": [{"event": "user", "text": "hoi", "parse_data": {"intent": {"name": 5}}}]},
    {"events": [{"event": "action", "name": "x"}, {"event": "slot", "name": 3, "value": 1}]},
    {"responses": "not a list"},
    {"responses": ["not an object"]},
    ["not", "an", "object"],
]
MORE_VALID = [
    {},
    {"events": []},
    {"events": [{"event": "user", "text": "hoi", "parse_data": {"intent": {"name": "greet", "confidence": 0.9},
                                                                 "entities": []}},
                {"event": "bot", "text": "Hoi!", "metadata": {"utter_action": "x"}},
                {"event": "active_loop", "name": None}, {"event": "reset_slots"}]},
]


def test_the_compiled_validator_is_installed():
    assert getattr(RemoteAction._validate_action_result, "gehoor_patch", False)


def test_valid_response_passes():
    validate(VALID, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert RemoteAction(name="x", action_endpoint=None)._validate_action_result(VALID) is True


@pytest.mark.parametrize("response", MORE_VALID)
def test_more_valid_responses_pass_both(response):
    validate(response, RemoteAction.action_response_format_spec())
    assert RemoteAction(name="x", action_endpoint=None)._validate_action_result(response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_response_fails_like_rasas_own_check(response):
    with pytest.raises(ValidationError):
        validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction(name="x", action_endpoint=None)._validate_action_result(response)


def _fast_check():
    from jsonschema.validators import validator_for

    from bot.rasa_patches.response_validator import fast_response_check

    schema = RemoteAction.action_response_format_spec()
    return fast_response_check(schema), validator_for(schema)(schema)


def test_the_compiled_check_agrees_with_jsonschema_on_the_examples():
    fast, full = _fast_check()
    for response in [VALID, *MORE_VALID]:
        assert fast(response) is True and full.is_valid(response)
    for response in INVALID:
        assert fast(response) is False and not full.is_valid(response)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=6)


@st.composite
def _responses(draw):
    spec = RemoteAction.action_response_format_spec()
    branches = spec["properties"]["events"]["items"]["oneOf"]
    events = []
    for _ in range(draw(st.integers(0, 3))):
        branch = draw(st.sampled_from(branches))
        names = sorted(set(branch["properties"]) | {"timestamp", "metadata"})
        event = {"event": draw(st.sampled_from([branch["properties"]["event"]["const"], "no_such_event"]))}
        for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=4)):
            if name != "event":
                event[name] = draw(_JSON)
        events.append(event)
    response = {"events": events, "responses": draw(st.lists(st.dictionaries(st.text(max_size=4), _JSON, max_size=2),
                                                             max_size=2))}
    if draw(st.booleans()):
        response[draw(st.sampled_from(["events", "responses", "extra"]))] = draw(_JSON)
    return response


@settings(max_examples=400, deadline=None)
@given(_responses())
def test_the_compiled_check_never_disagrees_with_jsonschema(response):
    fast, full = _fast_check_cached()
    # Equal both ways: a wrong yes would let a bad response through, a wrong no costs the full check.
    assert fast(response) == full.is_valid(response)


_CHECK = []


def _fast_check_cached():
    if not _CHECK:
        _CHECK.append(_fast_check())
    return _CHECK[0]


# --- pooled keep-alive calls to the action server -------------------------------------

async def test_action_calls_reuse_one_connection_and_survive_a_closed_one():
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    peers: list = []
    state = {"close_next": False}

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        if state["close_next"]:
            state["close_next"] = False
            request.transport.close()  # like nginx closing a pooled connection on reload
            return web.Response()
        return web.json_response({"events": [], "responses": [], "n": len(peers)})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        first = await endpoint.request(json={"a": 1}, method="post")
        second = await endpoint.request(json={"a": 2}, method="post")
        assert (first["n"], second["n"]) == (1, 2)
        assert peers[0] == peers[1], "the second call reused the first call's connection"
        state["close_next"] = True
        third = await endpoint.request(json={"a": 3}, method="post")
        assert third["n"] == 4, "the call cut off by the closed connection was sent once more"
        assert peers[3] != peers[0], "on a new connection"
    finally:
        await runner.cleanup()


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30))
def test_action_calls_are_encoded_as_json_dumps_would(value):
    import json

    from bot.rasa_patches.pooled_sessions import dumps as _dumps

    encoded = _dumps(value)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == json.loads(json.dumps(value))


def test_what_orjson_refuses_is_encoded_by_json_dumps():
    import json

    from bot.rasa_patches.pooled_sessions import dumps as _dumps

    for value in ({1: "int key"}, {"big": 2 ** 70}, {"tekst": "één € – ✓"}):
        assert json.loads(_dumps(value)) == json.loads(json.dumps(value))


# --- SQL tracker store: stored-event count on the tracker, bulk insert --------------

class CollectingBroker:
    def __init__(self) -> None:
        self.published: list = []

    def publish(self, event) -> None:
        self.published.append(event)


def sql_store(tmp_path, broker=None):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker)


def stored_rows(tmp_path, sender):
    import json
    import sqlite3

    with sqlite3.connect(tmp_path / "tracker.db") as db:
        return [json.loads(d)["event"] for (d,) in db.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,))]


def turn(tracker, text):
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    for event in (UserUttered(text, {"name": "inform", "confidence": 1.0}), ActionExecuted("utter_x"),
                  BotUttered("ok"), ActionExecuted("action_listen")):
        tracker.update(event)


async def test_tracker_reads_equal_rasas_own(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    rasas_own = SQLTrackerStore._retrieve.rasas_own
    store = sql_store(tmp_path)
    tracker = store.init_tracker("s-3")
    turn(tracker, "hoi")
    tracker.update(SessionStarted())  # a second session: retrieve() reads only that one
    turn(tracker, "8")
    turn(tracker, "het duurde te lang")
    await store.save(tracker)
    for every_session in (False, True):
        fast = await store._retrieve("s-3", every_session)
        full = await rasas_own(store, "s-3", every_session)
        assert _state(fast) == _state(full)
        assert [e.as_dict() for e in fast.events] == [e.as_dict() for e in full.events]
    assert len((await store.retrieve("s-3")).events) == 9  # session_started + 2 turns
    assert await store.retrieve("nobody") is None and await rasas_own(store, "nobody", False) is None


async def test_tracker_saves_store_each_event_once_and_publish_only_new_ones(tmp_path):
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    broker = CollectingBroker()
    store = sql_store(tmp_path, broker)
    tracker = store.init_tracker("s-1")
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    turn(tracker, "hoi")
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing stored or published twice
    for text in ("8", "te laat"):
        tracker = await store.retrieve("s-1")  # a new message reads the tracker again
        turn(tracker, text)
        await store.save(tracker)
    expected = ["action", "session_started", "action"] + ["user", "action", "bot", "action"] * 3
    assert stored_rows(tmp_path, "s-1") == expected
    assert [e["event"] for e in broker.published] == expected
    assert [e["text"] for e in broker.published if e["event"] == "user"] == ["hoi", "8", "te laat"]
    # Rasa reads the session from its SessionStarted on (the action_session_start before it is older)
    assert len((await store.retrieve("s-1")).events) == len(expected) - 1


async def test_a_failed_tracker_save_counts_again_and_stores_nothing_twice(tmp_path, monkeypatch):
    store = sql_store(tmp_path)
    tracker = store.init_tracker("s-2")
    turn(tracker, "hoi")
    await store.save(tracker)
    tracker = await store.retrieve("s-2")
    turn(tracker, "8")
    original = store.session_scope
    calls = {"n": 0}

    def failing_once():
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database gone for a moment")
        return original()

    monkeypatch.setattr(store, "session_scope", failing_once)
    with pytest.raises(ConnectionError):
        await store.save(tracker)
    await store.save(tracker)  # the retry: counted in the database, each event once
    assert stored_rows(tmp_path, "s-2") == ["user", "action", "bot", "action"] * 2



# --- the form's temporary tracker: a copy, not a replay ---------------------------------

def _conversation(domain, *, restart: bool = False):
    from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, Restarted, SessionStarted,
                                         SlotSet, UserUttered)
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [SessionStarted(), ActionExecuted("action_listen"),
              UserUttered("hoi", {"name": "greet", "confidence": 0.9}), ActionExecuted("action_opening"),
              BotUttered("Hoi!"), SlotSet("language", "nl"), ActionExecuted("feedback_form"),
              ActiveLoop("feedback_form"), SlotSet("requested_slot", "score_answer"),
              ActionExecuted("action_listen"), UserUttered("waarom vraag je dat?", {"name": "why_ask"})]
    if restart:
        events += [Restarted(), ActionExecuted("action_listen"), UserUttered("7", {"name": "inform"})]
    events += [ActionExecuted("action_explain_why"), BotUttered("Omdat…"),
               ActionExecuted("action_listen"), UserUttered("een dikke zeven", {"name": "inform"}),
               SlotSet("score_answer", "een dikke zeven")]
    return DialogueStateTracker.from_events("customer", events, slots=domain.slots)


def _state(tracker):
    """Everything a validation action can see of a tracker; event times are 'now' in both."""
    from rasa.shared.core.trackers import EventVerbosity

    state = tracker.current_state(EventVerbosity.ALL)
    state.pop("latest_event_time")
    for event in state["events"]:
        event.pop("timestamp")
    return (state, {name: slot.value for name, slot in tracker.slots.items()}, tracker.active_loop,
            tracker.latest_action, tracker.latest_message, tracker.followup_action, tracker.is_paused(),
            tracker.model_id, tracker.sender_source)


@pytest.mark.parametrize("restart", [False, True], ids=["one session", "after a restart (replayed as Rasa does)"])
def test_the_forms_temporary_tracker_equals_rasas_replay(restart):
    from pathlib import Path

    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet

    assert getattr(FormAction._temporary_tracker, "gehoor_patch", False)
    replay = FormAction._temporary_tracker.rasas_own  # Rasa's own
    domain = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
    form = FormAction("feedback_form", None)
    current = _conversation(domain, restart=restart)
    before = _state(current)
    candidates = [SlotSet("score_answer", "een dikke zeven")]

    fast = form._temporary_tracker(current, candidates, domain)
    assert _state(fast) == _state(replay(form, current, candidates, domain))
    assert fast.get_slot("requested_slot") == ("score_answer" if not restart else None)
    assert _state(current) == before  # the current tracker is left as it was
    fast.update(SlotSet("language", "en"))  # the copy shares no state with the current tracker
    assert _state(current) == before and fast.get_slot("language") == "en"


@pytest.mark.parametrize("module_name", ["rasa.core.actions.forms", "rasa.core.processor"])
def test_debug_log_values_are_copied_only_when_debug_logging_is_on(module_name):
    import importlib
    import logging

    module = importlib.import_module(module_name)
    value = {"slot_candidates": {"score_answer": ["8"]}}
    logger = logging.getLogger(module.__name__)
    level = logger.level
    try:
        logger.setLevel(logging.INFO)  # the line would be dropped: nothing to copy for it
        assert module.copy.deepcopy(value) is value
        logger.setLevel(logging.DEBUG)  # it is written: a real copy, as Rasa makes
        copied = module.copy.deepcopy(value)
        assert copied == value and copied is not value
        assert copied["slot_candidates"]["score_answer"] is not value["slot_candidates"]["score_answer"]
    finally:
        logger.setLevel(level)


# --- action calls carry a slim tracker --------------------------------------------------

def _ranked_conversation(domain):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    stamp = {"model_id": "m-1", "assistant_id": "gehoor"}

    def said(text, intent, metadata=None):
        ranking = [{"name": intent, "confidence": 0.9}, {"name": "deny", "confidence": 0.1}]
        parse = {"intent": ranking[0], "entities": [], "text": text, "intent_ranking": ranking,
                 "text_tokens": [[0, len(text)]], "response_selector": {"all_retrieval_intents": []}}
        return UserUttered(text, ranking[0], [], parse, input_channel="rest",
                           metadata={**stamp, **(metadata or {})})

    events = [SessionStarted(metadata=dict(stamp)), ActionExecuted("action_listen", metadata=dict(stamp)),
              said("hoi", "greet", {"page": "/bedankt"}), ActionExecuted("action_opening", metadata=dict(stamp)),
              BotUttered("Hoi!", metadata=dict(stamp)), SlotSet("language", "nl", metadata=dict(stamp)),
              ActionExecuted("action_listen", metadata=dict(stamp)), said("8", "give_score"),
              SlotSet("score_answer", "8", metadata=dict(stamp))]
    return DialogueStateTracker.from_events("customer", events, slots=domain.slots)


def test_action_calls_carry_the_tracker_without_model_stamps_and_old_rankings():
    from pathlib import Path

    from rasa.shared.core.domain import Domain

    assert getattr(RemoteAction._action_call_format, "gehoor_patch", False)
    rasas_own = RemoteAction._action_call_format.rasas_own
    domain = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
    tracker = _ranked_conversation(domain)
    action = RemoteAction("validate_feedback_form", None)
    full, slim = rasas_own(action, tracker, domain), action._action_call_format(tracker, domain)

    full_events, slim_events = full["tracker"].pop("events"), slim["tracker"].pop("events")
    assert slim == full  # everything but the events is as Rasa sends it, latest_message too
    assert [e["event"] for e in slim_events] == [e["event"] for e in full_events]
    assert all("model_id" not in e.get("metadata", {}) and "assistant_id" not in e.get("metadata", {})
               for e in slim_events)
    first, latest = [e for e in slim_events if e["event"] == "user"]
    full_latest = [e for e in full_events if e["event"] == "user"][-1]
    assert first["metadata"] == {"page": "/bedankt"}  # the channel's metadata stays
    assert first["parse_data"] == {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": "hoi",
                                   "message_id": None}
    assert first["text"] == "hoi" and first["input_channel"] == "rest"
    assert latest["parse_data"] == full_latest["parse_data"]  # the latest message keeps its ranking
    for slim_event, full_event in zip(slim_events, full_events):
        for key in set(full_event) - {"metadata", "parse_data"}:
            assert slim_event[key] == full_event[key]
    # Rasa's own dicts (the tracker's) were not changed by slimming
    assert "intent_ranking" in full_events[2]["parse_data"] and "model_id" in full_events[0]["metadata"]


# --- slot extraction over the slots that can be filled ------------------------------------

def _extraction_cases(domain):
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    intents = ["inform", "give_score", "affirm", "deny", "why_ask", "stop", "request_human", "dont_know", "greet"]
    requested = [None] + [slot.name for slot in domain.slots if slot.name != "requested_slot"]
    for form_active in (True, False):
        for slot in requested:
            for intent in intents:
                events = [SessionStarted(), ActionExecuted("action_listen")]
                if form_active:
                    events += [ActionExecuted("feedback_form"), ActiveLoop("feedback_form")]
                if slot:
                    events.append(SlotSet("requested_slot", slot))
                events += [ActionExecuted("action_listen"),
                           UserUttered("ik moest weer bellen", {"name": intent, "confidence": 0.9},
                                       [{"entity": "score", "value": "8", "start": 0, "end": 1}])]
                yield DialogueStateTracker.from_events("customer", events, slots=domain.slots)


async def test_slot_extraction_fills_what_rasas_full_pass_fills():
    from pathlib import Path

    from rasa.core.actions.action import ActionExtractSlots
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.domain import Domain

    assert getattr(ActionExtractSlots.run, "gehoor_patch", False)
    rasas_own = ActionExtractSlots.run.rasas_own
    domain = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
    action = ActionExtractSlots(None)
    filled = 0
    for tracker in _extraction_cases(domain):
        fast = await action.run(CollectingOutputChannel(), None, tracker, domain)
        full = await rasas_own(action, CollectingOutputChannel(), None, tracker, domain)
        assert fast == full, (tracker.active_loop_name, tracker.get_slot("requested_slot"), tracker.latest_message.intent)
        filled += bool(fast)
    assert filled > 50  # the cases do fill slots, not only nothing


# --- applied events: resumed, not recomputed ----------------------------------------------

def _event_strategy():
    from rasa.shared.core.events import (ActionExecuted, ActionExecutionRejected, ActionReverted, ActiveLoop,
                                         DefinePrevUserUtteredFeaturization, Restarted, SessionStarted, SlotSet,
                                         UserUttered, UserUtteranceReverted)

    return st.one_of(
        st.sampled_from(["action_listen", "feedback_form", "other_form", "utter_thanks"]).map(ActionExecuted),
        st.sampled_from(["feedback_form", "other_form", None]).map(ActiveLoop),
        st.just(None).map(lambda _: UserUttered("hoi", {"name": "greet", "confidence": 1.0})),
        st.sampled_from(["feedback_form", "other_form"]).map(ActionExecutionRejected),
        st.just(None).map(lambda _: DefinePrevUserUtteredFeaturization(False)),
        st.sampled_from([UserUtteranceReverted, ActionReverted, Restarted, SessionStarted]).map(lambda c: c()),
        st.just(None).map(lambda _: SlotSet("language", "nl")),
    )


def _a_form_named_later():
    """A loop's name appears only after its earlier runs: those must be judged again."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered

    said = UserUttered("hoi", {"name": "greet", "confidence": 1.0})
    return [ActionExecuted("action_listen"), said, ActionExecuted("other_form"), ActionExecuted("action_listen"),
            said, ActionExecuted("other_form"), ActiveLoop("other_form")]


@settings(max_examples=300, deadline=None)
@given(st.lists(_event_strategy(), max_size=40), st.integers(0, 40))
@example(_a_form_named_later(), 6)
def test_applied_events_equal_rasas_recomputation_after_every_new_event(events, split):
    from rasa.shared.core.trackers import DialogueStateTracker

    assert getattr(DialogueStateTracker.applied_events, "gehoor_patch", False)
    rasas_own = DialogueStateTracker.applied_events.rasas_own
    tracker = DialogueStateTracker.from_events("customer", events[:split])  # replays: remembers a result
    assert tracker.applied_events() == rasas_own(tracker)
    for event in events[split:]:
        tracker.update(event)  # reverts replay the tracker, which asks for the applied events too
        assert tracker.applied_events() == rasas_own(tracker)
        assert tracker.applied_events() == rasas_own(tracker)  # asked twice: the same
    # events replaced rather than appended: computed afresh
    tracker.events.clear()
    tracker.events.extend(reversed(events))
    assert tracker.applied_events() == rasas_own(tracker)


# --- the processor's tracker copies: the current state, not a replay ----------------------

_DOMAIN: list = []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_event_strategy(), st.sampled_from(["utter_thanks", "action_listen"]).map(
           lambda name: __import__("rasa.shared.core.events", fromlist=["FollowupAction"]).FollowupAction(name))),
           max_size=30),
       st.booleans(), st.booleans())
def test_a_tracker_copy_equals_rasas_replay(events, followup_cleared, with_slots):
    from pathlib import Path

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    assert getattr(DialogueStateTracker.copy, "gehoor_patch", False)
    if not _DOMAIN:
        _DOMAIN.append(Domain.load(Path(__file__).resolve().parents[2] / "domain.yml"))
    slots = _DOMAIN[0].slots if with_slots else None
    tracker = DialogueStateTracker.from_events("customer", events + [SlotSet("followups_asked", ["impact"])],
                                               slots=slots)
    tracker.model_id, tracker.sender_source = "m-1", "rest"
    if followup_cleared:
        tracker.clear_followup_action()  # as the processor does before it runs the followup action
    before = _state(tracker)
    fast, replay = tracker.copy(), DialogueStateTracker.copy.rasas_own(tracker)
    assert _state(fast) == _state(replay)
    assert {name: type(slot) for name, slot in fast.slots.items()} == {n: type(s) for n, s in replay.slots.items()}
    fast.update(SlotSet("followups_asked", ["impact", "expectation"]))  # no shared state with the original
    assert _state(tracker) == before


def test_a_new_trackers_slots_are_the_copies_rasa_makes(monkeypatch):
    import copy
    from pathlib import Path

    from rasa.shared.core import trackers
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_patches.slot_copies import SlotCopies

    assert isinstance(trackers.copy, SlotCopies)
    domain = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
    made = DialogueStateTracker("customer", domain.slots)
    with monkeypatch.context() as patched:
        patched.setattr(trackers, "copy", copy)
        rasas = DialogueStateTracker("customer", domain.slots)
    assert len(made.slots) == len(rasas.slots) == len(domain.slots) >= 30
    for slot in domain.slots:
        assert made.slots[slot.name] is not slot
        assert type(made.slots[slot.name]) is type(rasas.slots[slot.name])
        assert vars(made.slots[slot.name]) == vars(rasas.slots[slot.name])
    made.update(SlotSet("language", "en"))
    assert made.get_slot("language") == "en"
    assert next(s for s in domain.slots if s.name == "language").value is None, "the domain's slot is untouched"


@settings(max_examples=300, deadline=None)
@given(st.lists(_event_strategy(), max_size=30), st.booleans())
def test_the_tracker_sent_to_actions_is_rasas_current_state_with_slim_events(events, with_slots):
    # Built without dataclasses.asdict's deep copy of the form's trigger message: equal to
    # Rasa's own state (active loop with its trigger message included) and leaving it alone.
    from pathlib import Path

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    from bot.rasa_patches.slim_action_tracker import action_tracker_state as _action_tracker_state, slim_events

    if not _DOMAIN:
        _DOMAIN.append(Domain.load(Path(__file__).resolve().parents[2] / "domain.yml"))
    ranked = {"name": "inform", "confidence": 0.8}
    events = [UserUttered("het duurde lang", ranked, [], {"intent": ranked, "intent_ranking": [ranked],
                                                            "text": "het duurde lang", "entities": []})] + events
    tracker = DialogueStateTracker.from_events("customer", events, slots=_DOMAIN[0].slots if with_slots else None)
    rasas = tracker.current_state(EventVerbosity.ALL)
    sent = _action_tracker_state(tracker)
    assert sent == dict(rasas, events=slim_events(rasas["events"]))
    assert tracker.current_state(EventVerbosity.ALL) == rasas, "the tracker is unchanged"


def test_an_active_forms_trigger_message_goes_to_the_action_server():
    from rasa.shared.core.events import ActiveLoop, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    ranked = {"name": "inform", "confidence": 0.8}
    tracker = DialogueStateTracker.from_events("customer", [
        UserUttered("het duurde lang", ranked, [], {"intent": ranked, "intent_ranking": [ranked]}),
        ActiveLoop("feedback_form")], slots=None)
    from rasa.shared.core.domain import Domain

    action = RemoteAction("validate_feedback_form", None)
    sent = action._action_call_format(tracker, Domain.empty())["tracker"]["active_loop"]
    assert sent == RemoteAction._action_call_format.rasas_own(action, tracker, Domain.empty())["tracker"]["active_loop"]
    assert sent["name"] == "feedback_form" and sent["trigger_message"]["intent_ranking"] == [ranked]
