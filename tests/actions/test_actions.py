"""The custom actions with rasa_sdk's own Tracker and CollectingDispatcher, against a real
(temporary SQLite) story store."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from actions import story_sink
from actions.ask import AskReason, AskScore, AskSummaryFeedback
from actions.feedback_form import NO_CONTACT, ValidateFeedbackForm
from actions.flow import ActionClarify, ActionClose, ActionFallback, ActionHandoff, ActionOpening, ActionStop
from bot.store.models import Story

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text())
# What Rasa sends as the domain: nothing (endpoints: enable_selective_domain), so no action may need it.
SENT_DOMAIN: Dict[str, Any] = {}


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'stories.db'}"
    monkeypatch.setenv("GEHOOR_DB_URL", url)
    monkeypatch.setenv("GEHOOR_VAR_DIR", str(tmp_path))
    import bot.store.db as db

    for name in ("_engine", "_ENGINE", "_factory"):
        if hasattr(db, name):
            monkeypatch.setattr(db, name, None, raising=False)
    monkeypatch.setattr(story_sink, "_writer", None)
    monkeypatch.setattr(story_sink, "_lock", asyncio.Lock())
    monkeypatch.setattr(story_sink, "_in_flight", set())
    monkeypatch.setattr(story_sink, "_pending", {})
    yield url


def user(text: str, intent: str, ts: float, channel: str = "rest", metadata: Optional[dict] = None) -> dict:
    return {"event": "user", "text": text, "timestamp": ts, "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": []},
            "metadata": metadata or {}}


def tracker(text: str, intent: str, slots: Optional[Dict[str, Any]] = None,
            history: Optional[List[dict]] = None, sender: str = "t-1",
            latest_action: str = "action_listen", active_loop: Optional[str] = None,
            metadata: Optional[dict] = None) -> Tracker:
    now = time.time()
    events = [{"event": "action", "name": "action_session_start", "timestamp": now - 10},
              {"event": "session_started", "timestamp": now - 10},
              {"event": "action", "name": "action_listen", "timestamp": now - 10}]
    events += history or []
    # The store rebuilds a story from the events, so the slots must be in them too.
    events += [{"event": "slot", "name": k, "value": v, "timestamp": now - 5} for k, v in (slots or {}).items()]
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [],
               "metadata": metadata or {}}
    events.append(user(text, intent, now, metadata=metadata))
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    return Tracker(sender, all_slots, message, events, False, None,
                   {"name": active_loop} if active_loop else {}, latest_action)


def run(action, t: Tracker) -> tuple[List[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()

    async def act():
        events = await action.run(dispatcher, t, SENT_DOMAIN)
        await story_sink.drain()  # the write happens after the answer; wait for it here
        return events

    return asyncio.run(act()), dispatcher


def ask(question, t: Tracker) -> tuple[List[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    return question.run(dispatcher, t), dispatcher


def slot_events(events: List[dict]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def stored_story(url: str, sender: str) -> Story:
    engine = create_engine(url)
    with Session(engine) as session:
        story = session.query(Story).filter_by(conversation_id=sender).one()
        _ = story.messages  # load the transcript before the session closes
        session.expunge(story)
    engine.dispose()
    return story


def required(slots: Dict[str, Any], text: str = "x", intent: str = "inform") -> List[str]:
    t = tracker(text, intent, slots, active_loop="feedback_form")
    form = ValidateFeedbackForm()
    return asyncio.run(form.required_slots(form.domain_slots(SENT_DOMAIN), CollectingDispatcher(), t, SENT_DOMAIN))


def next_slot(slots: Dict[str, Any]) -> Optional[str]:
    return next((s for s in required(slots) if slots.get(s) is None), None)


# --- the planner-driven form --------------------------------------------------------

@pytest.mark.parametrize("slots, expected", [
    ({}, "score_answer"),
    ({"score_answer": "4", "score": 4.0}, "answer_reason"),
    ({"answer_reason": "mijn pakket kwam weer niet", "opened_with_story": True}, "score_answer"),
    ({"handoff_requested": True}, "contact_details"),
    ({"handoff_requested": True, "contact_details": "+31612345678"}, None),
])
def test_form_asks_the_right_next_slot(slots, expected):
    assert next_slot(slots) == expected


def test_follow_up_is_never_an_answered_or_asked_dimension():
    slots = {"score_answer": "4", "score": 4.0, "language": "nl",
             "answer_reason": "Ik had verwacht dat de bezorger zou aanbellen, maar hij liet een briefje achter",
             "answer_impact": "Ik moest een dag vrij nemen", "followups_asked": ["impact"]}
    chosen = next_slot(slots)
    assert chosen is not None and chosen.startswith("answer_")
    assert chosen not in ("answer_reason", "answer_impact", "answer_expectation")


def test_done_signal_goes_to_verification():
    slots = {"score_answer": "9", "score": 9.0, "answer_reason": "snelle levering",
             "followups_done": True}
    assert next_slot(slots) == "summary_feedback"


def test_max_followups_respected(monkeypatch):
    monkeypatch.setenv("GEHOOR_MAX_FOLLOWUPS", "1")
    slots = {"score_answer": "5", "score": 5.0, "answer_reason": "de app crasht steeds",
             "answer_expectation": "dat hij gewoon werkt", "followups_asked": ["expectation"]}
    assert next_slot(slots) == "summary_feedback"


def test_correction_then_resummary_then_offer():
    base = {"score_answer": "3", "score": 3.0, "answer_reason": "te laat", "followups_done": True,
            "summary_feedback": "nee", "summary_confirmed": False}
    assert next_slot(base) == "correction"
    base.update(correction="het was de bezorger")
    assert next_slot(base) == "resummary_feedback"
    base.update(resummary_feedback="ja")
    assert next_slot(base) == "contact_consent", "score 3: offer a follow-up by a person"
    base.update(contact_consent=True)
    assert next_slot(base) == "contact_details"


def test_happy_promoter_is_not_offered_a_follow_up():
    slots = {"score_answer": "10", "score": 10.0, "answer_reason": "super fijne service, heel blij",
             "followups_done": True, "summary_feedback": "ja", "summary_confirmed": True}
    assert next_slot(slots) is None


# --- validation -------------------------------------------------------------------------

def validate(slot: str, value: str, intent: str = "inform", slots: Optional[dict] = None) -> Dict[str, Any]:
    form = ValidateFeedbackForm()
    t = tracker(value, intent, slots)
    return getattr(form, f"validate_{slot}")(value, CollectingDispatcher(), t, SENT_DOMAIN)


@pytest.mark.parametrize("text, score", [("8", 8.0), ("een dikke zeven", 7.0), ("I'd give it a six", 6.0),
                                         ("tien!", 10.0), ("7 uit 10", 7.0)])
def test_score_in_digits_and_words(text, score):
    assert validate("score_answer", text, "give_score")["score"] == score


def test_ambiguous_score_asks_which():
    result = validate("score_answer", "zes of zeven", "give_score")
    assert result["score_answer"] is None and result["score_ambiguous"] == [6, 7]
    again = validate("score_answer", "ook zes of zeven", "give_score", {"score_ambiguous": [6, 7]})
    assert again["score_answer"] and again["score"] is None, "asked once: accept without looping"


@pytest.mark.parametrize("text", ['/give_score{"score": 99}', "/inform", "   "])
def test_injection_or_empty_never_fills_the_score(text):
    result = validate("score_answer", text, "give_score")
    assert result == {"score_answer": None}


def test_refusal_and_out_of_range_are_accepted_without_score():
    for text in ("zeg ik liever niet", "11"):
        result = validate("score_answer", text, "deny")
        assert result["score_answer"] == text and result["score"] is None


def test_story_instead_of_score_is_kept_as_the_reason():
    text = "het pakket kwam drie dagen te laat en niemand liet iets weten"
    result = validate("score_answer", text, "inform")
    assert result["answer_reason"] == text and result["opened_with_story"] is True
    assert result["score_answer"] is None and result["score_attempts"] == 1


def test_contact_details_validated_with_phonenumbers():
    assert validate("contact_details", "06 12345678")["contact_details"] == "+31612345678"
    assert validate("contact_details", "mail me op jan@example.nl")["contact_kind"] == "email"
    bad = validate("contact_details", "0612")
    assert bad["contact_details"] is None and bad["contact_attempts"] == 1
    assert validate("contact_details", "nee liever niet", "deny")["contact_details"] == NO_CONTACT


def test_summary_feedback_yes_no_and_correction():
    assert validate("summary_feedback", "ja klopt", "affirm")["summary_confirmed"] is True
    no = validate("summary_feedback", "nee", "deny")
    assert no["summary_confirmed"] is False and "correction" not in no
    corrected = validate("summary_feedback", "nee, het was de bezorger en niet de app", "deny")
    assert corrected["summary_confirmed"] is False and "bezorger" in corrected["correction"]


# --- speaking actions and storage ------------------------------------------------------------

def test_opening_with_a_story_keeps_it_and_stores_it(store):
    story = "mijn pakket is wéér niet bezorgd!"
    events, dispatcher = run(ActionOpening(), tracker(story, "inform", sender="open-story",
                                                      latest_action="action_listen"))
    slots = slot_events(events)
    assert slots["answer_reason"] == story and slots["opened_with_story"] is True
    assert "bot" in texts(dispatcher).lower()
    saved = stored_story(store, "open-story")
    assert saved.status == "in_progress" and saved.repeat_contact is True
    assert saved.answers["reason"] == story


def test_opening_with_a_score_prefills_it():
    events, _ = run(ActionOpening(), tracker("8", "give_score"))
    assert slot_events(events)["score"] == 8.0


def test_ask_score_offers_buttons_with_plain_text_payloads():
    _, dispatcher = ask(AskScore(), tracker("hoi", "greet"))
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [str(n) for n in range(11)]


def test_reason_question_names_the_score():
    _, dispatcher = ask(AskReason(), tracker("4", "give_score", {"score": 4.0, "score_answer": "4", "language": "nl"}))
    assert "4" in texts(dispatcher) and texts(dispatcher).count("?") == 1


def test_summary_uses_the_customers_words_and_sets_the_summary_slot():
    slots = {"score": 4.0, "language": "nl", "answer_reason": "Ik moest drie keer bellen over mijn factuur"}
    events, dispatcher = ask(AskSummaryFeedback(), tracker("dat was het", "done", slots))
    assert "factuur" in texts(dispatcher)
    stored = slot_events(events)["summary"]  # the story as confirmed, without intro and "Klopt dat?"
    assert stored in texts(dispatcher) and "factuur" in stored and "Klopt dat?" not in stored


def test_stop_ends_at_once_and_keeps_the_story(store):
    events, dispatcher = run(ActionStop(), tracker("stop", "stop", {"score": 3.0}, sender="stopper"))
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events if e.get("event") == "active_loop"]
    assert "?" not in texts(dispatcher)
    saved = stored_story(store, "stopper")
    assert saved.status == "abandoned" and saved.end_reason == "customer_stopped"


def test_handoff_flags_the_story(store):
    events, dispatcher = run(ActionHandoff(), tracker("ik wil een mens spreken", "request_human", sender="human"))
    assert slot_events(events)["handoff_requested"] is True
    assert stored_story(store, "human").status == "handed_off"


def test_close_gives_the_reference_that_is_stored(store):
    t = tracker("ja", "affirm", {"score": 9.0, "summary_confirmed": True, "story_status": "in_progress"},
                sender="closer")
    events, dispatcher = run(ActionClose(), t)
    saved = stored_story(store, "closer")
    assert saved.reference in texts(dispatcher)
    assert saved.status == "complete"
    assert slot_events(events)["story_status"] == "complete"


def test_clarify_once_then_move_on():
    first, d1 = run(ActionClarify(), tracker("qwx zzv", "nlu_fallback", {"requested_slot": "answer_reason"}))
    assert slot_events(first)["clarified_slot"] == "answer_reason"
    assert "answer_reason" not in slot_events(first)
    second, _ = run(ActionClarify(), tracker("vvv qqq", "nlu_fallback",
                                             {"requested_slot": "answer_reason", "clarified_slot": "answer_reason"}))
    assert slot_events(second)["answer_reason"] == "vvv qqq"


def test_language_follows_the_customer():
    events, dispatcher = run(ActionFallback(), tracker("sorry, I don't understand what you mean", "inform",
                                                       {"language": "nl"}))
    assert slot_events(events)["language"] == "en"
    assert any(e.get("event") == "rewind" for e in events), "the fallback reverts the user turn"


def test_keyboard_mash_read_as_stop_does_not_end_the_conversation():
    events, dispatcher = run(ActionStop(), tracker("asdfgh", "stop", {"requested_slot": "answer_reason"}))
    assert not any(e.get("event") == "active_loop" for e in events)
    assert slot_events(events).get("story_status") is None


def test_keyboard_mash_read_as_affirm_gives_no_consent():
    result = validate("contact_consent", "jkjkjk", "affirm")
    assert result.get("contact_consent") is not True


def test_channel_language_hint_sets_the_opening_language(store):
    events, dispatcher = run(ActionOpening(), tracker("hi", "greet", sender="hint",
                                                      metadata={"ui_language": "en", "page_url": "/order"}))
    assert slot_events(events)["language"] == "en"
    assert "feedback bot" in texts(dispatcher)
    assert stored_story(store, "hint").channel_metadata["page_url"] == "/order"


def test_a_just_answered_follow_up_stays_in_the_list_so_it_is_validated():
    slots = {"score_answer": "4", "score": 4.0, "answer_reason": "de bezorging was te laat",
             "answer_expectation": "dat hij op tijd zou komen"}
    assert "answer_expectation" in required(slots)


def test_close_after_a_hand_off_thanks_for_the_contact_and_gives_the_reference(store):
    slots = {"handoff_requested": True, "story_status": "handed_off", "contact_details": "+31612345678",
             "contact_kind": "phone"}
    events, dispatcher = run(ActionClose(), tracker("06 12345678", "inform", slots, sender="handoff-close"))
    saved = stored_story(store, "handoff-close")
    assert saved.reference in texts(dispatcher)
    assert len(dispatcher.messages) == 2, "contact thanks, then the close"
    assert saved.status == "handed_off" and saved.contact == "+31612345678"


def test_a_statement_misread_as_out_of_scope_is_kept_as_the_answer():
    from actions.flow import ActionCannotAnswer

    events, dispatcher = run(ActionCannotAnswer(), tracker(
        "Dat ik weet wanneer het komt", "out_of_scope", {"requested_slot": "answer_priority"}))
    assert slot_events(events)["answer_priority"] == "Dat ik weet wanneer het komt"
    assert "unresolved_question" not in slot_events(events)
    events, dispatcher = run(ActionCannotAnswer(), tracker(
        "waar is mijn pakket?", "out_of_scope", {"requested_slot": "answer_priority"}))
    assert slot_events(events)["unresolved_question"] is True


# --- one action-server call per turn: validation asks the next question ----------------

def form_tracker(text: str, intent: str, slots: Dict[str, Any], sender: str, requested: str) -> Tracker:
    """The tracker Rasa's form sends to validate_feedback_form: the answer is in its slot."""
    t = tracker(text, intent, {**slots, "requested_slot": requested}, sender=sender,
                latest_action="feedback_form", active_loop="feedback_form")
    t.events.append({"event": "slot", "name": requested, "value": text, "timestamp": time.time()})
    t.slots[requested] = text
    return t


def test_validation_asks_the_next_question_and_stores_the_story(store):
    slots = {"score_answer": "4", "score": 4.0, "language": "nl"}
    answer = "Ik moest weer drie keer bellen over mijn factuur"
    events, dispatcher = run(ValidateFeedbackForm(), form_tracker(answer, "inform", slots, "one-call", "answer_reason"))
    requested = slot_events(events)["requested_slot"]
    assert requested and requested.startswith("answer_") and requested != "answer_reason"
    assert len(dispatcher.messages) == 1 and texts(dispatcher).count("?") == 1
    saved = stored_story(store, "one-call")
    assert [m.text for m in saved.messages][-2:] == [answer, texts(dispatcher)]


def test_validation_asks_again_after_an_interruption_with_other_words(store):
    slots = {"score_answer": "4", "score": 4.0, "language": "nl", "requested_slot": "answer_reason"}
    first, d1 = ask(AskReason(), tracker("4", "give_score", slots))
    # "waarom vraag je dat?": Rasa runs the form again with nothing to validate.
    t = tracker("waarom vraag je dat?", "why_ask", slots, sender="again",
                latest_action="feedback_form", active_loop="feedback_form")
    events, d2 = run(ValidateFeedbackForm(), t)
    assert slot_events(events)["requested_slot"] == "answer_reason"
    assert texts(d2).count("?") == 1 and texts(d2) != texts(d1)


def test_validation_asks_nothing_when_the_form_is_done(store):
    slots = {"score_answer": "10", "score": 10.0, "answer_reason": "super fijne service, heel blij",
             "followups_done": True, "summary_confirmed": True, "language": "nl"}
    events, dispatcher = run(ValidateFeedbackForm(), form_tracker("ja", "affirm", slots, "done", "summary_feedback"))
    assert slot_events(events)["requested_slot"] is None
    assert dispatcher.messages == []


def test_the_form_fills_no_slot_by_extract_methods():
    # get_extraction_events returns nothing without looking: true only while no extract_<slot> exists
    assert not [name for name in dir(ValidateFeedbackForm) if name.startswith("extract_")]
    assert asyncio.run(ValidateFeedbackForm().get_extraction_events(
        CollectingDispatcher(), tracker("7", "inform", {}, active_loop="feedback_form"), SENT_DOMAIN)) == []


@pytest.mark.parametrize("reply", ["klopt", "het klopt wel", "niks", "that's correct"])
def test_nothing_wrong_after_all_confirms_the_summary_without_a_correction(reply):
    slots = {"score_answer": "7", "score": 7.0, "answer_reason": "pakket bij de buren", "followups_done": True,
             "summary_feedback": "nee", "summary_confirmed": False}
    result = validate("correction", reply, "affirm", slots)
    assert result == {"correction": None, "summary_confirmed": True}  # never "Met jouw correctie: klopt"
    slots.update(result)
    assert next_slot(slots) is None


def test_dont_know_what_was_wrong_is_kept_and_not_resummarised():
    slots = {"score_answer": "3", "score": 3.0, "answer_reason": "te laat", "followups_done": True,
             "summary_feedback": "nee", "summary_confirmed": False}
    result = validate("correction", "weet ik niet", "dont_know", slots)
    assert result["correction"] == "weet ik niet" and result["resummary_feedback"] == "weet ik niet"
    slots.update(result)
    assert next_slot(slots) == "contact_consent", "score 3: offer a follow-up by a person, no re-summary"


def test_a_real_correction_is_still_a_correction():
    assert validate("correction", "het was de bezorger, niet de winkel", "inform") == {
        "correction": "het was de bezorger, niet de winkel"}


@pytest.mark.parametrize("reply, intent", [("niks", "dont_know"), ("weet ik niet", "dont_know"), ("geen idee", "inform")])
def test_dont_know_at_the_summary_is_neither_a_verdict_nor_a_correction(reply, intent):
    slots = {"score_answer": "10", "score": 10.0, "answer_reason": "super", "followups_done": True}
    result = validate("summary_feedback", reply, intent, slots)
    assert result == {"summary_feedback": reply}  # was stored as the correction "niks" and re-summarised
    slots.update(result)
    assert next_slot(slots) is None


def test_dont_know_at_the_resummary_adds_nothing_to_the_correction():
    slots = {"correction": "het was vier keer", "summary_confirmed": False}
    result = validate("resummary_feedback", "weet ik niet", "dont_know", slots)
    assert result == {"resummary_feedback": "weet ik niet", "summary_confirmed": False}


@pytest.mark.parametrize("slots, says_not_saved", [
    ({"contact_consent": True, "contact_details": "not_given"}, True),      # three unreadable tries
    ({"handoff_requested": True, "contact_details": "not_given"}, True),   # asked for a person
    ({"contact_consent": False}, False),                                    # declined: nothing promised
    ({"contact_consent": True, "contact_details": "jan@example.nl", "contact_kind": "email"}, False),
])
def test_close_says_when_a_wanted_follow_up_has_no_contact_details(store, slots, says_not_saved):
    slots = {"score": 2.0, "story_status": "in_progress", **slots}
    _, dispatcher = run(ActionClose(), tracker("0612", "inform", slots, sender=f"close-{len(slots)}-{says_not_saved}"))
    said = texts(dispatcher)
    assert ("niemand vanuit dit gesprek contact" in said) is says_not_saved
    assert ("genoteerd. Je gegevens staan bij je verhaal" in said) is ("contact_kind" in slots)


def test_an_unreadable_address_is_asked_for_again_in_other_words_and_the_last_try_says_so():
    from actions.ask import QUESTIONS

    said = []
    for attempts in (1, 2):
        slots = {"contact_consent": True, "contact_attempts": attempts, "requested_slot": "contact_details"}
        _, dispatcher = ask(QUESTIONS["contact_details"], tracker("0612", "inform", slots))
        said.append(texts(dispatcher))
    assert "kan ik niet lezen" in said[0] and said[0] != said[1]
    assert "laatste keer" in said[1]


def test_the_slim_tracker_rasa_sends_gets_the_same_answer_as_the_full_one():
    """bot/rasa_patches/slim_action_tracker.py removes model stamps and earlier messages' rankings from
    the tracker posted to the action server: every action must answer exactly the same."""
    import bot.rasa_patches
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_sdk.executor import ActionExecutor

    bot.rasa_patches.install(strict=True, enabled=True)
    stamp = {"model_id": "m-1", "assistant_id": "gehoor"}

    def said(text, intent):
        ranking = [{"name": intent, "confidence": 0.9}, {"name": "deny", "confidence": 0.1}]
        return UserUttered(text, ranking[0], [], {"intent": ranking[0], "entities": [], "intent_ranking": ranking},
                           input_channel="rest", metadata={**stamp, "page": "/bedankt"})

    domain = Domain.load(ROOT / "domain.yml")
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              said("hoi", "greet"), ActionExecuted("action_opening"), BotUttered("Hoi!"),
              SlotSet("language", "nl"), ActionExecuted("feedback_form"), ActiveLoop("feedback_form"),
              SlotSet("requested_slot", "score_answer"), ActionExecuted("action_listen"), said("4", "give_score"),
              SlotSet("score_answer", "4"), SlotSet("score", 4.0), SlotSet("requested_slot", "answer_reason"),
              ActionExecuted("action_listen"),
              said("Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen", "inform"),
              SlotSet("answer_reason", "Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen")]
    tracker = DialogueStateTracker.from_events("slim-1", events, slots=domain.slots)
    action = RemoteAction("validate_feedback_form", None)
    rasas_own = RemoteAction._action_call_format.rasas_own
    full, slim = rasas_own(action, tracker, domain), action._action_call_format(tracker, domain)
    assert len(str(slim["tracker"]["events"])) < len(str(full["tracker"]["events"]))  # it is slimmer

    executor = ActionExecutor()
    executor.register_package("actions")

    async def answer(call):
        result = await executor.run(call)
        await story_sink.drain()
        for event in result["events"]:
            event.pop("timestamp", None)
        return result

    full_answer, slim_answer = asyncio.run(answer(full)), asyncio.run(answer(slim))
    assert slim_answer == full_answer
    assert any(e.get("name") == "requested_slot" and e.get("value") for e in slim_answer["events"])
    assert slim_answer["responses"] and "bellen" in slim_answer["responses"][0]["text"]
