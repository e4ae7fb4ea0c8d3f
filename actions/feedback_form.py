"""The feedback form: validation of every answer, and the planner-driven list of questions.

domain.yml lists every slot the form can ask; `required_slots` narrows that list turn by
turn with the listening planner (bot.listening.plan_next_dimension), so which follow-up
comes next is decided by what the customer has and has not told yet.

Rasa calls this action every time the form runs (after an answer, and after an
interruption such as "why do you ask?"), and then asks for the slot it sets as
`requested_slot`. The domain has no `action_ask_*`/`utter_ask_*`, so this action asks the
question itself (actions/ask.py) and stores the story: one action-server call per turn.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.contact import InvalidContact, parse_contact
from bot.listening import (
    FOLLOWUP_DIMENSIONS,
    analyze_cached,
    file_answer,
    interpret_confirmation,
    needs_follow_up_offer,
    parse_score,
    plan_next_dimension,
    says_nothing_is_wrong,
)
from bot.listening.confirmation import bare_reply
from bot.listening.interrupts import ends_story

from actions.ask import QUESTIONS
from actions.conversation import (
    DIMENSION_SLOTS,
    SLOT_DIMENSIONS,
    answers,
    conversation_state,
    is_injection,
    latest_confidence,
    latest_intent,
    persist,
)

NO_CONTACT = "not_given"  # contact_details marker: the customer gave none (declined or invalid)
NOTHING_TO_ADD = ""  # an answer slot answered with a polite refusal or bare yes/no (docs/architecture.md)


# Intents of a reply that is not a story: "ja", "hoi", "8" never become the reason.
NOT_A_STORY = ("greet", "give_score", "affirm", "deny", "dont_know", "done", "thanks")


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def validated_score(value: Any, tracker: Tracker) -> Dict[Text, Any]:
    """The slots an answer to the score question sets (also used when an interruption's
    action finds the message was the answer after all: actions/flow.py)."""
    if _blank(value) or is_injection(value):
        return {"score_answer": None}
    result = parse_score(value)
    if result.value is not None:
        return {"score_answer": value, "score": float(result.value), "score_ambiguous": None}
    if result.candidates and not tracker.get_slot("score_ambiguous"):
        return {"score_answer": None, "score_ambiguous": list(result.candidates)}
    if result.refused or result.out_of_range:  # respected, never looped
        return {"score_answer": value, "score": None}

    events: Dict[Text, Any] = {}
    # A story instead of a number is the story: keep it, do not ask for it again.
    if tracker.get_slot("answer_reason") is None and latest_intent(tracker) not in NOT_A_STORY:
        analysis = analyze_cached(value, previous_language=tracker.get_slot("language"))
        if not analysis.vague and not analysis.gibberish and not analysis.nothing_to_add:
            events.update(answer_reason=value, opened_with_story=True)
    attempts = int(tracker.get_slot("score_attempts") or 0)
    if attempts >= 1 or tracker.get_slot("score_ambiguous"):
        return {**events, "score_answer": value, "score": None}  # asked twice: move on
    return {**events, "score_answer": None, "score_attempts": attempts + 1}


def validated_answer(slot: Text, value: Any, tracker: Tracker) -> Dict[Text, Any]:
    """The slots an answer to a story question sets: the answer (or NOTHING_TO_ADD for
    "nee bedankt", "ja", "no thanks"), the dimension as asked, and whether the story is told."""
    if _blank(value) or is_injection(value):
        return {slot: None}
    analysis = analyze_cached(value, previous_language=tracker.get_slot("language"))
    # "nee bedankt", "ja", "weet ik niet": the question is answered, with nothing to add
    empty = analysis.nothing_to_add or analysis.dont_know
    events: Dict[Text, Any] = {slot: NOTHING_TO_ADD if empty else value}
    dimension = SLOT_DIMENSIONS[slot]
    asked = list(tracker.get_slot("followups_asked") or [])
    if dimension != "reason" and dimension not in asked:
        events["followups_asked"] = asked + [dimension]
    if not empty:
        filed = file_answer(dimension, value, analysis.language, answers(tracker))
        if filed != dimension:  # it gives another perspective: stored there, the question asked is answered
            events.update({DIMENSION_SLOTS[filed]: value, slot: NOTHING_TO_ADD})
    if ends_story(analysis, latest_intent(tracker), latest_confidence(tracker)):
        events["followups_done"] = True
    return events


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_feedback_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[Dict[Text, Any]]:
        before = dict(tracker.slots)
        events = await super().run(dispatcher, tracker, domain)  # validated slots applied to tracker
        # The SDK repeats every validated slot, unchanged ones too: Rasa already holds those
        # (extracted before this call), so sending them back only lengthens the tracker.
        events = [e for e in events if e.get("event") != "slot" or e.get("name") == "requested_slot"
                  or e.get("name") not in before or before[e.get("name")] != e.get("value")]
        slot = next((e.get("value") for e in reversed(events)
                     if e.get("event") == "slot" and e.get("name") == "requested_slot"), None)
        question = QUESTIONS.get(slot) if slot else None
        if question is None:
            return events  # the form is done: the rules close the conversation
        events += question.run(dispatcher, tracker)
        await persist(tracker, dispatcher, events)
        return events

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[Dict[Text, Any]]:
        # Rasa's slot mappings fill every slot; this action has no `extract_<slot>` methods, so
        # the SDK's pass over them (one more planner run for the required slots) finds nothing.
        return []

    async def next_requested_slot(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Optional[Dict[Text, Any]]:
        # The SDK leaves the choice to Rasa when the list happens to equal the domain's; the
        # planner always decides here, and this action always asks.
        required = await self.required_slots([], dispatcher, tracker, domain)  # the planner's list only
        return SlotSet("requested_slot", next((s for s in required if tracker.slots.get(s) is None), None))

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
        tracker: Tracker, domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot("handoff_requested"):
            return ["contact_details"]

        base = ["score_answer", "answer_reason"]
        if tracker.get_slot("opened_with_story"):
            base.reverse()
        state = conversation_state(tracker)
        # Follow-ups asked so far, plus any just answered: a slot missing from this list is
        # not validated by the SDK, and validation is what records it as asked.
        followups = list(state.asked) + [
            dim for dim in FOLLOWUP_DIMENSIONS
            if dim not in state.asked and tracker.get_slot(DIMENSION_SLOTS[dim]) is not None
        ]
        slots = base + [DIMENSION_SLOTS[dim] for dim in followups]
        if any(tracker.get_slot(slot) is None for slot in slots):
            return slots

        next_dimension = plan_next_dimension(state)
        if next_dimension is not None:
            return slots + [DIMENSION_SLOTS[next_dimension]]

        slots.append("summary_feedback")
        if tracker.get_slot("summary_confirmed") is False:
            slots += ["correction", "resummary_feedback"]
        if tracker.get_slot("summary_feedback") is None:
            return slots
        if needs_follow_up_offer(state) or tracker.get_slot("unresolved_question"):
            slots.append("contact_consent")
            if tracker.get_slot("contact_consent") is True:
                slots.append("contact_details")
        return slots

    # --- score -----------------------------------------------------------------

    def validate_score_answer(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return validated_score(value, tracker)

    # --- the story and the follow-ups ---------------------------------------------

    def _validate_answer(self, slot: Text, value: Any, tracker: Tracker) -> Dict[Text, Any]:
        return validated_answer(slot, value, tracker)

    def validate_answer_reason(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_reason", value, tracker)

    def validate_answer_situation(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_situation", value, tracker)

    def validate_answer_expectation(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_expectation", value, tracker)

    def validate_answer_impact(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_impact", value, tracker)

    def validate_answer_priority(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_priority", value, tracker)

    def validate_answer_in_our_place(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_in_our_place", value, tracker)

    def validate_answer_blind_spot(self, value, dispatcher, tracker, domain):
        return self._validate_answer("answer_blind_spot", value, tracker)

    # --- verification --------------------------------------------------------------

    def validate_summary_feedback(self, value, dispatcher, tracker, domain):
        if _blank(value) or is_injection(value):
            return {"summary_feedback": None}
        verdict, correction = interpret_confirmation(value)
        intent = latest_intent(tracker)
        if verdict == "yes" or (verdict == "unclear" and intent == "affirm"):
            return {"summary_feedback": value, "summary_confirmed": True}
        if verdict == "correction":
            return {"summary_feedback": value, "summary_confirmed": False, "correction": correction or value}
        if verdict == "no" or intent == "deny":
            return {"summary_feedback": value, "summary_confirmed": False}
        if intent == "dont_know" or analyze_cached(value).dont_know:
            # "weet ik niet" / "niks": neither a verdict nor a correction — accepted, move on
            return {"summary_feedback": value}
        # Neither yes nor no: the customer added or changed something — that is a correction.
        return {"summary_feedback": value, "summary_confirmed": False, "correction": value}

    def validate_correction(self, value, dispatcher, tracker, domain):
        if _blank(value) or is_injection(value):
            return {"correction": None}
        if says_nothing_is_wrong(value):  # "wat heb ik verkeerd begrepen?" — "klopt wel", "niks"
            return {"correction": None, "summary_confirmed": True}
        if bare_reply(value):
            # "ja" / "nee bedankt" after their no: neither a yes to the summary nor a
            # correction — stored as not confirmed, no correction; nothing to re-summarise
            return {"correction": NOTHING_TO_ADD, "resummary_feedback": value}
        if analyze_cached(value).dont_know:
            # "weet ik niet": accepted as their answer, and nothing to re-summarise — the
            # re-summary question counts as answered by it, so the form moves on.
            return {"correction": value, "resummary_feedback": value}
        return {"correction": value}

    def validate_resummary_feedback(self, value, dispatcher, tracker, domain):
        if _blank(value) or is_injection(value):
            return {"resummary_feedback": None}
        verdict, correction = interpret_confirmation(value)
        if verdict == "yes" or (verdict == "unclear" and latest_intent(tracker) == "affirm"):
            return {"resummary_feedback": value, "summary_confirmed": True}
        events: Dict[Text, Any] = {"resummary_feedback": value, "summary_confirmed": False}
        addition = correction if verdict == "correction" else (
            value if verdict == "unclear" and not analyze_cached(value).dont_know else None)
        if addition:  # re-summarised once already: keep what they add, do not loop
            events["correction"] = f"{tracker.get_slot('correction')}\n{addition}"
        return events

    # --- respond and help ------------------------------------------------------------

    def validate_contact_consent(self, value, dispatcher, tracker, domain):
        if _blank(value) or is_injection(value):
            return {"contact_consent": None}
        try:  # "ja, mail me op jan@example.nl" answers both questions at once
            contact = parse_contact(value)
            return {"contact_consent": True, "contact_details": contact.value, "contact_kind": contact.kind}
        except InvalidContact:
            pass
        verdict, _ = interpret_confirmation(value)
        intent = latest_intent(tracker)
        if verdict == "yes" or (intent == "affirm" and not analyze_cached(value).gibberish):
            return {"contact_consent": True}
        if verdict == "no" or intent in ("deny", "dont_know", "done"):
            return {"contact_consent": False}
        attempts = int(tracker.get_slot("contact_attempts") or 0)
        if attempts >= 1:
            return {"contact_consent": False}
        return {"contact_consent": None, "contact_attempts": attempts + 1}

    def validate_contact_details(self, value, dispatcher, tracker, domain):
        if _blank(value) or is_injection(value):
            return {"contact_details": None}
        try:
            contact = parse_contact(value)
            return {"contact_details": contact.value, "contact_kind": contact.kind, "contact_consent": True}
        except InvalidContact:
            pass
        verdict, _ = interpret_confirmation(value)
        if verdict == "no" or latest_intent(tracker) in ("deny", "dont_know"):
            return {"contact_details": NO_CONTACT, "contact_kind": None}
        attempts = int(tracker.get_slot("contact_attempts") or 0) + 1
        if attempts >= 3:
            return {"contact_details": NO_CONTACT, "contact_kind": None, "contact_attempts": attempts}
        return {"contact_details": None, "contact_attempts": attempts}
