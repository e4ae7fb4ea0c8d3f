"""An answer given to one follow-up question but clearly about another perspective is
stored under that perspective, and the question asked counts as answered (issue #13)."""
import asyncio

import yaml
from pathlib import Path
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback_form import ValidateFeedbackForm

ROOT = Path(__file__).resolve().parents[2]
SLOT_NAMES = yaml.safe_load((ROOT / "domain.yml").read_text())["slots"]


def form_tracker(text, slots, requested):
    events = [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
    events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": "inform", "confidence": 1.0}}})
    all_slots = {name: None for name in SLOT_NAMES}
    all_slots.update(slots, requested_slot=requested, **{requested: text})
    return Tracker("filing", all_slots, {"text": text, "intent": {"name": "inform", "confidence": 1.0}},
                   events, False, None, {"name": "feedback_form"}, "feedback_form")


def test_an_impact_given_to_the_priority_question_is_stored_as_impact():
    text = "Het meest teleurstellend vind ik dat niemand terugbelde"
    slots = {"score": 3.0, "score_answer": "3", "language": "nl",
             "answer_reason": "mijn factuur klopte niet", "followups_asked": ["expectation"],
             "answer_expectation": "dat het in één keer goed ging"}
    t = form_tracker(text, slots, "answer_priority")
    out = ValidateFeedbackForm()._validate_answer("answer_priority", text, t)
    assert out["answer_impact"] == text
    assert out["answer_priority"] == ""  # asked and answered, nothing of its own
    assert out["followups_asked"] == ["expectation", "priority"]


def test_an_answer_that_fits_its_question_stays_there():
    text = "dat ze gewoon terugbellen"
    t = form_tracker(text, {"language": "nl", "answer_reason": "x"}, "answer_priority")
    out = ValidateFeedbackForm()._validate_answer("answer_priority", text, t)
    assert out["answer_priority"] == text and "answer_impact" not in out


def test_the_form_moves_on_after_a_refiled_answer():
    text = "Het meest teleurstellend vind ik dat niemand terugbelde"
    slots = {"score": 3.0, "score_answer": "3", "language": "nl", "answer_reason": "mijn factuur klopte niet",
             "followups_asked": ["expectation", "priority"], "answer_expectation": "dat het goed ging",
             "answer_priority": "", "answer_impact": text}
    t = form_tracker(text, slots, "answer_priority")
    form = ValidateFeedbackForm()
    required = asyncio.run(form.required_slots([], CollectingDispatcher(), t, {}))
    following = next((s for s in required if t.slots.get(s) is None), None)
    assert following not in ("answer_priority", "answer_impact", "answer_expectation")


def test_a_stored_answer_is_reflected_whatever_the_nlu_thought():
    """'Mijn abonnement is opgezegd …' read as nlu_fallback but stored as the reason: the
    next question still acknowledges it (the scorecard found it asked bare)."""
    from actions.ask import QUESTIONS

    text = "Mijn abonnement is opgezegd zonder dat ik dat vroeg"
    slots = {"score": 3.0, "score_answer": "3", "language": "nl", "answer_reason": text}
    all_slots = {name: None for name in SLOT_NAMES}
    all_slots.update(slots, requested_slot="answer_expectation")
    t = Tracker("reflect", all_slots, {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}},
                [{"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback"}}}],
                False, None, {"name": "feedback_form"}, "feedback_form")
    dispatcher = CollectingDispatcher()
    QUESTIONS["answer_expectation"].run(dispatcher, t)
    said = dispatcher.messages[0]["text"]
    assert "abonnement" in said and said.count("?") == 1, said


def test_nothing_to_add_in_other_words_is_not_reflected():
    from bot.listening import ConversationState, compose_acknowledgement, summarise

    for lang, text in (("nl", "neuh"), ("nl", "niet echt"), ("en", "not that I can think of")):
        state = ConversationState(lang, 4, {"reason": "x y z", "expectation": text}, asked=["expectation"])
        said = compose_acknowledgement(state, text)
        assert text.split()[-1] not in said.lower(), said
        assert text not in summarise(state).lower()
