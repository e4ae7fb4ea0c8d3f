"""Opening, closing and the "anywhere in the flow" actions (data/rules.yml routes to them)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import config
from bot.listening import acknowledge, analyze_cached, parse_score
from bot.listening import text as text_of
from bot.listening.interrupts import ANSWER, CLARIFY, TurnReading, read_turn

from actions.conversation import (
    DIMENSION_SLOTS,
    is_injection,
    language_events,
    language_of,
    latest_confidence,
    latest_intent,
    latest_text,
    persist,
    say,
    turn_index,
)
from actions.feedback_form import NO_CONTACT, ValidateFeedbackForm
from actions.story_sink import reference_for_events

FINISHED = ("complete", "abandoned", "handed_off")


def answer_events(tracker: Tracker, slot: str, text: str) -> List[Dict[str, Any]]:
    """Record `text` as the answer to the question the form asked, validated as the form
    validates it: after an interruption's action Rasa's form validates nothing."""
    validate = getattr(ValidateFeedbackForm(), f"validate_{slot}")
    values = validate(text, CollectingDispatcher(), tracker, {})
    return [SlotSet(name, value) for name, value in values.items()]


def awaited_answer(tracker: Tracker) -> Optional[str]:
    """The slot the form waits for (score, story, summary check, contact), if any."""
    requested = tracker.get_slot("requested_slot")
    return requested if requested and hasattr(ValidateFeedbackForm, f"validate_{requested}") else None


def reading_of(tracker: Tracker, language: str) -> TurnReading:
    """Answer or interruption? (bot/listening/interrupts.py)"""
    text = latest_text(tracker)
    return read_turn(text, latest_intent(tracker), latest_confidence(tracker),
                     analyze_cached(text, previous_language=language))


def as_answer(dispatcher: CollectingDispatcher, tracker: Tracker, language: str,
              reading: TurnReading) -> List[Dict[str, Any]]:
    """The message routed to an interruption is the answer: store it and let the form go
    on. Swearing in it is met calmly once per conversation, then no more."""
    events: List[Dict[str, Any]] = []
    if reading.abuse and not tracker.get_slot("abuse_calmed"):
        say(dispatcher, "calm", language, variant=turn_index(tracker))
        events.append(SlotSet("abuse_calmed", True))
    return events + answer_events(tracker, awaited_answer(tracker), latest_text(tracker))


class SpeakingAction(Action, ABC):
    """Base for actions that say something: language follows the customer; the story is stored."""

    key: Text = ""  # catalogue key said by the default respond()

    @abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> List[Dict[str, Any]]:
        say(dispatcher, self.key, language, variant=turn_index(tracker))
        return []

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[Dict[str, Any]]:
        language = language_of(tracker)
        events = language_events(tracker, language) + self.respond(dispatcher, tracker, language)
        await persist(tracker, dispatcher, events)
        return events


def say_opening(dispatcher: CollectingDispatcher, key: str, language: str, **kwargs: Any) -> str:
    """The opening, ending with one short clause in the other language ("English is fine too")."""
    message = " ".join((text_of(key, language, company=config.company_name(), **kwargs),
                        text_of("intro_other_language", language)))
    dispatcher.utter_message(text=message)
    return message


class ActionOpening(SpeakingAction):
    """First message of a session: say who we are; keep a score or a story the customer opened with."""

    def name(self) -> Text:
        return "action_opening"

    def respond(self, dispatcher, tracker, language):
        events: List[Dict[str, Any]] = [SlotSet("story_status", "in_progress")]
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        if not text.strip() or is_injection(text):
            say_opening(dispatcher, "intro", language)
            return events

        score = parse_score(text)
        analysis = analyze_cached(text, previous_language=language)
        if score.value is not None or score.candidates:
            say_opening(dispatcher, "intro", language)
            if score.value is not None:
                events += [SlotSet("score_answer", text), SlotSet("score", float(score.value))]
            else:
                events.append(SlotSet("score_ambiguous", list(score.candidates)))
        elif intent == "out_of_scope":
            say_opening(dispatcher, "intro", language)
            say(dispatcher, "cannot_answer", language)
            events.append(SlotSet("unresolved_question", True))
        elif intent == "inform" and not analysis.vague:
            # The first message is the story: acknowledge it and do not ask for it again.
            say_opening(dispatcher, "intro_after_story", language, acknowledgement=acknowledge(text, analysis, language))
            events += [SlotSet("answer_reason", text), SlotSet("opened_with_story", True)]
        else:
            say_opening(dispatcher, "intro", language)
        return events


def closed_before(tracker: Tracker) -> bool:
    """Whether this session already got its closing message."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "action" and event.get("name") == "action_close":
            return True
    return False


class ActionClose(SpeakingAction):
    def name(self) -> Text:
        return "action_close"

    async def run(self, dispatcher, tracker, domain):
        language = language_of(tracker)
        handed_off = bool(tracker.get_slot("handoff_requested"))
        events = language_events(tracker, language) + [
            SlotSet("story_status", "handed_off" if handed_off else "complete"),
            SlotSet("end_reason", "handed_off" if handed_off else "completed"),
        ]
        # The reference is derived from the session, so it is known before the story is written.
        reference = reference_for_events(tracker.sender_id, tracker.events)
        if closed_before(tracker):
            say(dispatcher, "after_close", language, reference=reference)
        else:
            if tracker.get_slot("contact_kind"):
                say(dispatcher, "contact_thanks", language)
            elif tracker.get_slot("contact_details") == NO_CONTACT and (
                    tracker.get_slot("contact_consent") or handed_off):
                # They wanted a person, but no usable address or number came (three unreadable
                # tries, or "nee" when asked for it): say so rather than let them wait.
                say(dispatcher, "contact_not_saved", language)
            say(dispatcher, "close", language, reference=reference)
        await persist(tracker, dispatcher, events)
        return events


class ActionStop(SpeakingAction):
    key = "stop"

    def name(self) -> Text:
        return "action_stop"

    def respond(self, dispatcher, tracker, language):
        reading = reading_of(tracker, language)
        resume = [FollowupAction("feedback_form")] if awaited_answer(tracker) else []
        if reading.kind == CLARIFY:
            # Keyboard mash the classifier happened to read as "stop": ask, do not end.
            say(dispatcher, "clarify", language, variant=turn_index(tracker))
            return resume
        if reading.kind == ANSWER and resume:
            # "ik heb er schoon genoeg van" is an answer, not a goodbye. The follow-up comes
            # first: the form validates only slot events at the end of the tracker.
            return resume + as_answer(dispatcher, tracker, language, reading)
        say(dispatcher, "stop", language)
        events: List[Dict[str, Any]] = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if tracker.get_slot("story_status") not in FINISHED:
            events += [SlotSet("story_status", "abandoned"), SlotSet("end_reason", "customer_stopped")]
        return events


class ActionExplainWhy(SpeakingAction):
    key = "why_ask"

    def name(self) -> Text:
        return "action_explain_why"

    def respond(self, dispatcher, tracker, language):
        reading = reading_of(tracker, language)
        if reading.kind == ANSWER and awaited_answer(tracker):
            return as_answer(dispatcher, tracker, language, reading)
        return super().respond(dispatcher, tracker, language)


class ActionCannotAnswer(SpeakingAction):
    key = "cannot_answer"

    def name(self) -> Text:
        return "action_cannot_answer"

    def respond(self, dispatcher, tracker, language):
        reading = reading_of(tracker, language)
        if reading.kind == ANSWER and awaited_answer(tracker):
            # Not a question after all (the classifier misread an answer): keep it as the
            # answer and let the form go on.
            return as_answer(dispatcher, tracker, language, reading)
        say(dispatcher, "cannot_answer", language)
        return [SlotSet("unresolved_question", True)]


class ActionRespondCalmly(SpeakingAction):
    key = "calm"

    def name(self) -> Text:
        return "action_respond_calmly"

    def respond(self, dispatcher, tracker, language):
        reading = reading_of(tracker, language)
        if reading.kind == ANSWER and awaited_answer(tracker):
            # "wat een klotebedrijf" is feedback: stored, met calmly once, and the form goes on
            return as_answer(dispatcher, tracker, language, reading)
        return super().respond(dispatcher, tracker, language)


class ActionHandoff(SpeakingAction):
    """The customer wants a person: say clearly what happens, flag the story, ask how to reach them."""

    def name(self) -> Text:
        return "action_handoff"

    def respond(self, dispatcher, tracker, language):
        reading = reading_of(tracker, language)
        if reading.kind == ANSWER and awaited_answer(tracker):
            return as_answer(dispatcher, tracker, language, reading)  # "dat ze terugbellen" is a wish
        contact = tracker.get_slot("contact_details")
        known = bool(contact) and contact != NO_CONTACT
        say(dispatcher, "handoff_known_contact" if known else "handoff", language)
        events = [
            SlotSet("handoff_requested", True),
            SlotSet("story_status", "handed_off"),
            SlotSet("end_reason", "handed_off"),
            SlotSet("contact_consent", True),
        ]
        if contact == NO_CONTACT:  # declined earlier; asking for a person changes that
            events += [SlotSet("contact_details", None), SlotSet("contact_attempts", 0)]
        return events


def media_without_text(tracker: Tracker) -> bool:
    """A photo, sticker, voice note, location or file without text: the channels send it as
    ``/nlu_fallback{"received": ...}`` with ``media``/``location`` metadata (docs/channels.md)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return is_injection(latest_text(tracker)) and bool(metadata.get("media") or metadata.get("location"))


class ActionClarify(SpeakingAction):
    """Gibberish or an empty message: one gentle clarification, then move on."""

    def name(self) -> Text:
        return "action_clarify"

    def respond(self, dispatcher, tracker, language):
        if media_without_text(tracker):  # never an answer, however often it comes
            say(dispatcher, "text_only", language, variant=turn_index(tracker))
            return []
        reading = reading_of(tracker, language)
        if reading.kind == ANSWER and awaited_answer(tracker):
            return as_answer(dispatcher, tracker, language, reading)  # "rampzalig", "meh": an answer
        requested = tracker.get_slot("requested_slot")
        if requested and tracker.get_slot("clarified_slot") != requested:
            say(dispatcher, "clarify", language, variant=turn_index(tracker))
            return [SlotSet("clarified_slot", requested)]
        # Already asked once for this question: accept what we have and go on.
        say(dispatcher, "dont_know_ok", language, variant=turn_index(tracker))
        text = latest_text(tracker)
        if requested == "score_answer":
            return [SlotSet("score_answer", text or "-"), SlotSet("score", None)]
        if requested in DIMENSION_SLOTS.values():
            return answer_events(tracker, requested, text or "-")
        if requested in ("summary_feedback", "resummary_feedback"):
            return [SlotSet(requested, text or "-")]
        if requested == "correction":
            return [SlotSet("correction", text or "-")]
        if requested == "contact_consent":
            return [SlotSet("contact_consent", False)]
        if requested == "contact_details":
            return [SlotSet("contact_details", NO_CONTACT)]
        return []


class ActionFallback(SpeakingAction):
    """Rasa's core fallback: a message no rule expects, e.g. after the conversation ended."""

    def name(self) -> Text:
        return "action_fallback"

    def respond(self, dispatcher, tracker, language):
        if tracker.get_slot("story_status") in FINISHED:
            say(dispatcher, "after_close", language, reference=reference_for_events(tracker.sender_id, tracker.events))
        else:
            say(dispatcher, "fallback", language)
        # Like Rasa's own fallback: the message stays in the tracker's events (and so in the
        # story) but no longer steers the dialogue, so the bot listens again.
        return [UserUtteranceReverted()]
