"""Summary points (user test, findings 1 and 3): an answer is read back under a dimension
label only when its own words are that dimension; otherwise it is a plain point in the
customer's terms. One-word verdicts and emoji the story already says are left out."""
import pytest

from bot.listening import ConversationState
from bot.listening.summary import summary_record


def record(lang: str, score: int, answers: dict) -> str:
    return summary_record(ConversationState(lang, score, answers, asked=[k for k in answers if k != "reason"]))


@pytest.mark.parametrize("lang, answers, wrong, plain", [
    # what happened, given to the expectation question
    ("nl", {"reason": "Bezorging was te laat", "expectation": "2 dagen te laat en niemand belde"},
     "Wat je had verwacht: 2 dagen", "2 dagen te laat en niemand belde."),
    ("en", {"reason": "my parcel never came", "impact": "parcel lost AGAIN"},
     "What it meant for you: parcel", "arcel lost AGAIN."),
    ("nl", {"reason": "De bezorger was te laat", "priority": "2 dagen te laat en niemand belde"},
     "Wat voor jou het belangrijkste is: 2 dagen", "2 dagen te laat en niemand belde."),
    ("en", {"reason": "the parcel was late", "in_our_place": "ridiculous"},
     "What you'd want in our place: ridiculous", ""),
])
def test_an_answer_that_is_not_the_dimension_gets_no_label(lang, answers, wrong, plain):
    summary = record(lang, 4, answers)
    assert wrong not in summary, summary
    assert plain in summary, summary


@pytest.mark.parametrize("lang, answers, label", [
    ("nl", {"reason": "De monteur kwam niet", "expectation": "dat hij gewoon op tijd zou komen of zou bellen"},
     "Wat je had verwacht: dat hij gewoon op tijd zou komen"),
    ("nl", {"reason": "De monteur kwam niet", "impact": "een hele vakantiedag kwijt"},
     "Wat het voor je betekende: een hele vakantiedag kwijt"),
    ("en", {"reason": "the driver was late", "expectation": "that it should arrive before noon"},
     "What you expected: that it should arrive before noon"),
    ("en", {"reason": "fast delivery and a friendly driver", "priority": "never change the drivers"},
     "What matters most to you: never change the drivers"),
    ("nl", {"reason": "De medewerker was super vriendelijk", "priority": "dat ze echt de tijd nam en meedacht"},
     "Wat voor jou het belangrijkste is: dat ze echt de tijd nam en meedacht"),
    ("nl", {"reason": "Super vriendelijke medewerker", "impact": "Nooit die persoonlijke aanpak veranderen!"},
     "Wat voor jou het belangrijkste is: nooit die persoonlijke aanpak veranderen"),
])
def test_an_answer_that_says_its_dimension_keeps_the_label(lang, answers, label):
    assert label in record(lang, 4, answers)


@pytest.mark.parametrize("lang, answers, dropped", [
    ("nl", {"reason": "Bezorging was te laat", "impact": "belachelijk"}, "belachelijk"),
    ("nl", {"reason": "Bezorging was te laat", "expectation": "belachelijk"}, "belachelijk"),
    ("nl", {"reason": "De app crasht steeds", "impact": "🤬"}, "🤬"),
    ("en", {"reason": "the parcel was lost again", "impact": "ridiculous"}, "ridiculous"),
])
def test_a_one_word_verdict_the_story_already_says_is_left_out(lang, answers, dropped):
    summary = record(lang, 3, answers)
    assert dropped not in summary.lower(), summary
    assert ("Bezorging" in summary or "app" in summary or "parcel" in summary)


def test_a_one_word_answer_with_content_stays():
    summary = record("nl", 7, {"reason": "Goede service maar duur", "priority": "prijs"})
    assert "prijs" in summary.lower()


def test_a_one_word_reason_is_still_quoted():
    assert "“belachelijk”" in record("nl", 2, {"reason": "belachelijk"})


def test_the_same_words_twice_are_read_back_once():
    summary = record("en", 3, {"reason": "parcel lost AGAIN", "impact": "parcel lost AGAIN"})
    assert summary.lower().count("parcel lost again") == 1, summary
