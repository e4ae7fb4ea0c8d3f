"""How the feedback form asks each question.

The words come from bot.listening: an acknowledgement that reflects what this customer
just said, then exactly one open question for the dimension the planner chose.

The form's validation action (actions/feedback_form.py) asks the question itself, in the
same action-server call that validated the answer: Rasa's form finds no `action_ask_*` /
`utter_ask_*` for the slot and leaves the asking to the custom action (documented Rasa
behaviour). One action-server call per turn instead of two: see docs/benchmarks.md.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.listening import compose_followup, compose_reason_question, resummarise, summarise
from bot.listening.summary import resummary_record, summary_record

from actions.conversation import (
    DIMENSION_SLOTS,
    answers,
    conversation_state,
    is_injection,
    language_events,
    language_of,
    latest_intent,
    latest_text,
    say,
    score_buttons,
    turn_index,
    yes_no_buttons,
)

# After these, the question is asked again without reflecting the customer's message.
NOT_AN_ANSWER = {"why_ask", "out_of_scope", "abuse", "nlu_fallback", "request_human", "stop"}


def answer_to_reflect(tracker: Tracker) -> str | None:
    text = latest_text(tracker)
    if not text.strip() or is_injection(text):
        return None
    # the form stored it as an answer, whatever the NLU thought it was: it is reflected
    stored = text.strip() in {value.strip() for value in answers(tracker).values()}
    if latest_intent(tracker) in NOT_AN_ANSWER and not stored:
        return None
    if tracker.latest_action_name not in (None, "action_listen", "validate_feedback_form",
                                          "feedback_form"):
        return None  # re-asking after an interruption handled by another action
    return text


def unreadable(tracker: Tracker, slot: str) -> bool:
    """The answer to this question could not be read (action_clarify asked once already):
    the question comes again in other words, with how short an answer may be."""
    return tracker.get_slot("clarified_slot") == slot


class Question(ABC):
    """Base: how to ask for one slot of the feedback form."""

    slot: Text = ""

    @abstractmethod
    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> List[Dict[str, Any]]:
        """Utter the question; return extra events."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
        """Ask in the customer's language: the question's events, the language slot included."""
        language = language_of(tracker)
        return language_events(tracker, language) + self.ask(dispatcher, tracker, language)


class AskScore(Question):
    slot = "score_answer"

    def ask(self, dispatcher, tracker, language):
        ambiguous = tracker.get_slot("score_ambiguous")
        if ambiguous and tracker.get_slot("score_answer") is None and len(ambiguous) >= 2:
            say(dispatcher, "score_ambiguous", language, a=ambiguous[0], b=ambiguous[-1],
                buttons=[{"title": str(n), "payload": str(n)} for n in ambiguous])
        elif tracker.get_slot("score_attempts"):
            say(dispatcher, "ask_score_retry", language, buttons=score_buttons())
        else:
            say(dispatcher, "ask_score", language, variant=1 if tracker.get_slot("opened_with_story") else 0,
                buttons=score_buttons())
        return []


class AskReason(Question):
    slot = "answer_reason"

    def ask(self, dispatcher, tracker, language):
        state = conversation_state(tracker, language)
        again = answer_to_reflect(tracker) is None and tracker.latest_action_name != "action_opening"
        dispatcher.utter_message(text=compose_reason_question(state, again=again,
                                                              unreadable=unreadable(tracker, self.slot)))
        return []


def _follow_up_action(dimension: str) -> type:
    """action_ask_answer_<dimension>: reflect the last answer, then the planner's question."""

    def ask(self, dispatcher, tracker, language):
        state = conversation_state(tracker, language)
        answer = answer_to_reflect(tracker)
        # No answer to reflect means we are asking again after an interruption: other words.
        dispatcher.utter_message(text=compose_followup(state, dimension, answer, again=answer is None,
                                                       unreadable=unreadable(tracker, self.slot)))
        return []

    return type(f"Ask_{dimension}", (Question,), {"slot": DIMENSION_SLOTS[dimension], "ask": ask})


AskSituation = _follow_up_action("situation")
AskExpectation = _follow_up_action("expectation")
AskImpact = _follow_up_action("impact")
AskPriority = _follow_up_action("priority")
AskInOurPlace = _follow_up_action("in_our_place")
AskBlindSpot = _follow_up_action("blind_spot")


class AskSummaryFeedback(Question):
    slot = "summary_feedback"

    def ask(self, dispatcher, tracker, language):
        state = conversation_state(tracker, language)
        dispatcher.utter_message(text=summarise(state), buttons=yes_no_buttons(language))
        # stored without the bot's intro and "Klopt dat?": the story the customer checks
        return [SlotSet("summary", summary_record(state))]


class AskCorrection(Question):
    slot = "correction"

    def ask(self, dispatcher, tracker, language):
        say(dispatcher, "ask_correction", language, variant=turn_index(tracker))
        return []


class AskResummaryFeedback(Question):
    slot = "resummary_feedback"

    def ask(self, dispatcher, tracker, language):
        state = conversation_state(tracker, language)
        correction = tracker.get_slot("correction") or ""
        dispatcher.utter_message(text=resummarise(state, correction), buttons=yes_no_buttons(language))
        return [SlotSet("summary", resummary_record(state, correction))]


class AskContactConsent(Question):
    slot = "contact_consent"

    def ask(self, dispatcher, tracker, language):
        say(dispatcher, "offer_follow_up", language, variant=1 if tracker.get_slot("unresolved_question") else 0,
            buttons=yes_no_buttons(language))
        return []


class AskContactDetails(Question):
    slot = "contact_details"

    def ask(self, dispatcher, tracker, language):
        if tracker.get_slot("contact_attempts") and latest_intent(tracker) not in NOT_AN_ANSWER \
                and tracker.get_slot("contact_consent") is not None:
            # the second try in other words, so it does not read like the bot is stuck
            say(dispatcher, "contact_invalid", language, variant=int(tracker.get_slot("contact_attempts")) - 1)
        else:
            say(dispatcher, "ask_contact", language)
        return []


QUESTIONS: Dict[Text, Question] = {
    cls.slot: cls() for cls in (
        AskScore, AskReason, AskSituation, AskExpectation, AskImpact, AskPriority, AskInOurPlace,
        AskBlindSpot, AskSummaryFeedback, AskCorrection, AskResummaryFeedback, AskContactConsent,
        AskContactDetails,
    )
}
