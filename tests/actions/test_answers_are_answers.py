"""An answer is an answer (issue #13): inside the feedback form, messages the classifier
routes to an interruption (stop, hand-off, why-ask, cannot-answer, calm, clarify) are kept
as the answer unless they clearly are one — with rasa_sdk's own Tracker, as Rasa sends it."""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

import pytest
from rasa_sdk import Tracker

from actions.feedback_form import NOTHING_TO_ADD, ValidateFeedbackForm
from actions.flow import (
    ActionCannotAnswer,
    ActionClarify,
    ActionExplainWhy,
    ActionHandoff,
    ActionRespondCalmly,
    ActionStop,
)
from test_actions import DOMAIN, run, slot_events, store, texts  # noqa: F401  (store: autouse fixture)

BASE = {"language": "nl", "score_answer": "3", "score": 3.0}


def form_turn(text: str, intent: str, confidence: float, requested: str,
              slots: Optional[Dict[str, Any]] = None) -> Tracker:
    """The tracker Rasa sends to an interruption's action while the form waits for `requested`."""
    now = time.time()
    slots = {**BASE, **(slots or {}), "requested_slot": requested}
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [], "metadata": {}}
    events = [{"event": "action", "name": "action_session_start", "timestamp": now - 10},
              {"event": "session_started", "timestamp": now - 10}]
    events += [{"event": "slot", "name": k, "value": v, "timestamp": now - 5} for k, v in slots.items()]
    events += [{"event": "action", "name": "action_listen", "timestamp": now - 1},
               {"event": "user", "text": text, "timestamp": now, "input_channel": "rest",
                "parse_data": parse, "metadata": {}}]
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots)
    return Tracker("answers-1", all_slots, parse, events, False, None, {"name": "feedback_form"}, "action_listen")


def followup(events) -> Optional[str]:
    return next((e.get("name") for e in events if e.get("event") == "followup"), None)


@pytest.mark.parametrize("action, text, intent, confidence, slot", [
    (ActionClarify(), "rampzalig", "nlu_fallback", 0.45, "answer_reason"),
    (ActionClarify(), "meh", "nlu_fallback", 0.45, "answer_expectation"),
    (ActionClarify(), "ik ben het zat", "nlu_fallback", 0.45, "answer_impact"),
    (ActionCannotAnswer(), "het mag allemaal wat sneller", "out_of_scope", 0.68, "answer_in_our_place"),
    (ActionHandoff(), "dat ze gewoon terugbellen", "request_human", 0.9, "answer_priority"),
    (ActionExplainWhy(), "snelheid", "why_ask", 0.5, "answer_priority"),
])
def test_a_misread_answer_is_stored_without_an_interruption_line(action, text, intent, confidence, slot):
    events, dispatcher = run(action, form_turn(text, intent, confidence, slot))
    assert slot_events(events)[slot] == text
    assert not texts(dispatcher), "no 'Sorry, dat kon ik niet goed lezen', no hand-off or why text"
    assert "handoff_requested" not in slot_events(events)


def test_fed_up_is_an_answer_not_a_stop():
    events, dispatcher = run(ActionStop(), form_turn("ik heb er schoon genoeg van", "stop", 0.97, "answer_reason"))
    slots = slot_events(events)
    assert slots["answer_reason"] == "ik heb er schoon genoeg van"
    assert "story_status" not in slots and not any(e.get("event") == "active_loop" for e in events)
    assert followup(events) == "feedback_form", "the form goes on and asks its next question"
    assert not slots.get("followups_done")


def test_a_clear_stop_still_stops():
    events, dispatcher = run(ActionStop(), form_turn("ik wil stoppen", "stop", 0.99, "answer_reason"))
    assert slot_events(events)["story_status"] == "abandoned"


def test_a_clear_request_for_a_person_is_a_hand_off():
    events, _ = run(ActionHandoff(), form_turn("ik wil een medewerker spreken", "request_human", 0.99, "answer_reason"))
    assert slot_events(events)["handoff_requested"] is True


def test_abuse_in_an_answer_is_stored_and_met_calmly_once():
    events, dispatcher = run(ActionRespondCalmly(), form_turn("wat een klotebedrijf", "abuse", 0.94, "answer_reason"))
    slots = slot_events(events)
    assert slots["answer_reason"] == "wat een klotebedrijf" and slots["abuse_calmed"] is True
    assert len(dispatcher.messages) == 1
    events, dispatcher = run(ActionRespondCalmly(), form_turn(
        "echt een kutbedrijf", "abuse", 0.94, "answer_impact", {"abuse_calmed": True}))
    assert slot_events(events)["answer_impact"] == "echt een kutbedrijf"
    assert not dispatcher.messages, "calm once; then the conversation simply moves on"


def test_keyboard_mash_is_still_asked_again():
    events, dispatcher = run(ActionClarify(), form_turn("qwerqwer", "nlu_fallback", 0.45, "answer_reason"))
    assert "answer_reason" not in slot_events(events)
    assert dispatcher.messages


def test_an_unreadable_score_answer_goes_to_the_score_validation():
    events, dispatcher = run(ActionClarify(), form_turn("belachelijk", "nlu_fallback", 0.45, "score_answer",
                                                         {"score_answer": None, "score": None}))
    slots = slot_events(events)
    assert slots.get("score_attempts") == 1 and slots.get("score_answer") is None
    assert not dispatcher.messages, "the form re-asks the score itself, in other words"


def validate(slot: str, value: str, intent: str, confidence: float, slots: Optional[dict] = None) -> Dict[str, Any]:
    t = form_turn(value, intent, confidence, slot, slots)
    return getattr(ValidateFeedbackForm(), f"validate_{slot}")(value, None, t, {})


@pytest.mark.parametrize("text, intent, done", [
    ("ik ben er klaar mee", "done", False),
    ("I'm so over this", "stop", False),
    ("dat was het", "done", True),
    ("nee verder niks", "done", True),
    ("that's all", "done", True),
])
def test_only_what_ends_the_story_goes_to_the_summary(text, intent, done):
    result = validate("answer_expectation", text, intent, 0.99)
    assert bool(result.get("followups_done")) is done


@pytest.mark.parametrize("text", ["nee bedankt", "ja", "no thanks", "nope", "nee hoor", "weet ik niet", "no idea"])
def test_a_polite_refusal_is_recorded_as_nothing_to_add(text):
    result = validate("answer_priority", text, "deny", 0.95, {"followups_asked": ["expectation"]})
    assert result["answer_priority"] == NOTHING_TO_ADD
    assert result["followups_asked"] == ["expectation", "priority"]


def test_an_address_the_classifier_could_not_place_is_the_contact_asked_for():
    events, dispatcher = run(ActionClarify(), form_turn("jan.klant@example.com", "nlu_fallback", 0.45,
                                                         "contact_details", {"contact_consent": True}))
    assert slot_events(events)["contact_details"] == "jan.klant@example.com"
    assert not dispatcher.messages


def test_a_summary_check_answer_routed_elsewhere_is_still_the_answer():
    events, _ = run(ActionCannotAnswer(), form_turn("het was eigenlijk de app, niet de bezorger", "out_of_scope",
                                                     0.7, "summary_feedback", {"summary": "…"}))
    slots = slot_events(events)
    assert slots["summary_feedback"] == "het was eigenlijk de app, niet de bezorger"
    assert slots["summary_confirmed"] is False
