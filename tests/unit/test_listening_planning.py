"""The next question that adds most (issue #13, item 3): by what the story already holds
and by its valence; answers filed under the perspective they actually give."""
import re

import pytest

from bot.listening import ConversationState, compose_followup, plan_next_dimension
from bot.listening.planner import file_answer

WHAT_HAPPENED = re.compile(r"wat gebeurde|wat is er .*gebeurd|hoe ging het|what happened|how did it go", re.I)
YES_NO_OPENERS = re.compile(r"^(heb|had|was|is|ben|kun|kan|wil|zou|vind|do|does|did|is|are|was|were|have|has|"
                            r"can|could|would|will|should)\b", re.I)


def next_question(lang, score, reason, answers=None, asked=None):
    state = ConversationState(lang, score, {"reason": reason, **(answers or {})}, asked=list(asked or []))
    dim = plan_next_dimension(state)
    return dim, (compose_followup(state, dim, list(state.answers.values())[-1]) if dim else None)


def question_part(message):
    return re.split(r"(?<=[.!])\s+", message)[-1]


@pytest.mark.parametrize("lang, score, reason", [
    ("nl", 3, "De monteur kwam twee uur te laat en had de verkeerde onderdelen bij zich"),
    ("nl", 2, "Ik heb drie keer gebeld en niemand belde terug"),
    ("nl", 5, "mijn pakket kwam pas na 2 weken"),
    ("en", 3, "The engineer turned up two hours late with the wrong parts"),
    ("en", 2, "I called three times and nobody called back"),
    ("en", 7, "delivery took 5 days"),
])
def test_a_concrete_story_is_not_asked_what_happened(lang, score, reason):
    dim, msg = next_question(lang, score, reason)
    assert dim != "situation", msg
    assert not WHAT_HAPPENED.search(question_part(msg)), msg


@pytest.mark.parametrize("lang, score, reason", [
    ("nl", 3, "slecht"), ("nl", 2, "gewoon niet goed"), ("en", 3, "bad"), ("en", 4, "not great tbh"),
])
def test_a_vague_story_is_asked_what_happened(lang, score, reason):
    dim, _ = next_question(lang, score, reason)
    assert dim == "situation"


@pytest.mark.parametrize("lang, score, reason, nine", [
    ("nl", 7, "Prima service, snel geleverd", "9 of 10"),
    ("nl", 8, "de bezorger was vriendelijk maar het duurde drie dagen", "9 of 10"),
    ("en", 8, "good service, quick delivery", "9 or 10"),
    ("en", 7, "the driver was friendly but it took three days", "9 or 10"),
])
def test_a_passive_is_asked_what_would_have_made_it_a_9_or_10(lang, score, reason, nine):
    dim, msg = next_question(lang, score, reason)
    assert nine in question_part(msg), msg
    assert question_part(msg).count("?") == 1


@pytest.mark.parametrize("lang, score, reason, keep", [
    ("nl", 9, "Super snel geleverd en de bezorger was heel vriendelijk", r"nooit veranderen|het verschil|zo houden"),
    ("nl", 10, "de monteur legde alles rustig uit", r"nooit veranderen|het verschil|zo houden"),
    ("en", 9, "quick delivery and friendly staff", r"never change|the difference|must we keep"),
    ("en", 10, "the engineer explained everything calmly", r"never change|the difference|must we keep"),
])
def test_a_promoter_is_asked_what_made_the_difference(lang, score, reason, keep):
    _, msg = next_question(lang, score, reason)
    assert re.search(keep, question_part(msg), re.I), msg


@pytest.mark.parametrize("lang, reason", [
    ("nl", "De monteur kwam twee uur te laat en had de verkeerde onderdelen bij zich"),
    ("en", "The engineer turned up two hours late with the wrong parts"),
])
def test_a_detractor_gets_expectation_and_impact_before_in_our_place(lang, reason):
    state = ConversationState(lang, 2, {"reason": reason})
    order = []
    while (dim := plan_next_dimension(state)) is not None:
        order.append(dim)
        state.asked.append(dim)
        state.answers[dim] = "weet ik niet eigenlijk" if lang == "nl" else "not sure really"
        if len(order) > 5:
            break
    assert order[:2] == ["expectation", "impact"], order


@pytest.mark.parametrize("lang, asked, text, filed", [
    ("nl", "priority", "Het meest teleurstellend vind ik dat niemand terugbelde", "impact"),
    ("nl", "in_our_place", "Ik had verwacht dat ze me zouden bellen", "expectation"),
    ("nl", "expectation", "Daardoor moest ik een dag vrij nemen", "impact"),
    ("en", "priority", "The most disappointing thing is that nobody called back", "impact"),
    ("en", "in_our_place", "I expected them to call me", "expectation"),
    # what was asked stays when the answer gives it, or gives nothing else
    ("nl", "priority", "het belangrijkste is dat ze terugbellen", "priority"),
    ("nl", "impact", "een hele middag kwijt", "impact"),
    ("en", "expectation", "a phone call", "expectation"),
])
def test_an_answer_is_filed_under_the_perspective_it_gives(lang, asked, text, filed):
    assert file_answer(asked, text, lang, {"reason": "x"}) == filed


def test_a_refiled_answer_counts_the_question_asked_as_answered():
    text = "Het meest teleurstellend vind ik dat niemand terugbelde"
    state = ConversationState("nl", 3, {"reason": "mijn factuur klopte niet en ik belde drie keer",
                                        "impact": text, "priority": ""}, asked=["expectation", "priority"])
    state.answers["expectation"] = "dat het in één keer goed ging"
    dim = plan_next_dimension(state)
    assert dim not in ("priority", "impact", "expectation")


def test_an_answer_is_not_refiled_onto_a_perspective_already_answered():
    assert file_answer("priority", "Het meest teleurstellend vind ik dat niemand terugbelde", "nl",
                       {"reason": "x", "impact": "een middag kwijt"}) == "priority"


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("score", [0, 3, 6, 7, 8, 9, 10, None])
def test_every_question_is_open_and_new(lang, score):
    reasons = {"nl": ["slecht", "de bezorger was een uur te laat", "Super snel geleverd en vriendelijk"],
               "en": ["bad", "the driver was an hour late", "super quick delivery and friendly staff"]}[lang]
    for reason in reasons:
        state = ConversationState(lang, score, {"reason": reason})
        seen = []
        while (dim := plan_next_dimension(state)) is not None:
            msg = compose_followup(state, dim, list(state.answers.values())[-1])
            q = question_part(msg)
            assert msg.count("?") == 1 and msg.endswith("?"), msg
            assert not YES_NO_OPENERS.match(q), msg
            assert q not in seen, (q, seen)
            seen.append(q)
            state.asked.append(dim)
            state.answers[dim] = "dat weet ik eigenlijk niet zo goed" if lang == "nl" else "something else"
            assert len(seen) <= 3


def test_a_refiled_answer_does_not_use_up_a_question():
    # situation asked, answered with an expectation (filed there), then impact asked
    state = ConversationState("en", 6, {"reason": "the driver was very late",
                                        "expectation": "I expected him in the morning",
                                        "impact": "I had to stay home all day"},
                              asked=["situation", "impact"], max_followups=3)
    assert plan_next_dimension(state) is not None  # two questions asked, one more to go


def test_two_answers_stored_empty_stop_the_questions():
    # the form stores "no idea" / "nee bedankt" as "" (nothing to add): the state has no text
    state = ConversationState("en", 2, {"reason": "bad"}, asked=["situation", "expectation"])
    assert plan_next_dimension(state) is None
    one = ConversationState("en", 2, {"reason": "bad"}, asked=["situation"])
    assert plan_next_dimension(one) is not None
