"""read_turn: inside the feedback form a message is the answer to what was asked, unless
it is clearly a stop, a request for a person, a "why do you ask", a question we cannot
answer, or keyboard mash (docs/listening.md, "An answer is an answer")."""
import pytest

from bot.listening.interrupts import ANSWER, CLARIFY, HIGH_CONFIDENCE, read_turn, ends_story
from bot.listening import analyze


@pytest.mark.parametrize("text, intent, confidence", [
    ("belachelijk", "inform", 0.97),
    ("rampzalig", "nlu_fallback", 0.45),
    ("meh", "nlu_fallback", 0.45),
    ("het mag allemaal wat sneller", "out_of_scope", 0.68),
    ("het mag allemaal wat sneller", "out_of_scope", 0.95),  # no question: an answer
    ("wat een klotebedrijf", "abuse", 0.94),
    ("ik heb er schoon genoeg van", "stop", 0.97),
    ("ik ben het zat", "nlu_fallback", 0.45),
    ("I've had it with you", "nlu_fallback", 0.45),
    ("I'm so over this", "stop", 0.68),
    ("ik ben er klaar mee", "stop", 0.99),
    ("dat ze gewoon terugbellen", "request_human", 0.9),  # a wish, not a request now
    ("de bezorger was een uur te laat en niemand nam op", "stop", 0.85),
    ("waarom duurt alles bij jullie zo lang, de bezorging was drie dagen te laat", "why_ask", 0.9),
    ("ik heb geen zin meer", "stop", 0.6),  # not sure enough: keep it as the answer
    ("snelheid", "why_ask", 0.5),
    ("Waarom staat er nergens een telefoonnummer op jullie site?", "out_of_scope", 0.95),
    ("Why do I never get an order confirmation?", "out_of_scope", 0.95),
    ("Wat is er zo moeilijk aan een pakket op tijd bezorgen?", "out_of_scope", 0.9),
    ("wtf, waarom is mijn bestelling geannuleerd", "out_of_scope", 0.9),
])
def test_answers_are_answers(text, intent, confidence):
    reading = read_turn(text, intent, confidence, analyze(text))
    assert reading.kind == ANSWER, (text, reading)


@pytest.mark.parametrize("text, intent, kind", [
    ("stop", "stop", "stop"),
    ("ik wil stoppen", "stop", "stop"),
    ("I want to stop", "stop", "stop"),
    ("waarom vraag je dat?", "why_ask", "why_ask"),
    ("why do you ask", "why_ask", "why_ask"),
    ("ik wil een medewerker spreken", "request_human", "request_human"),
    ("can I talk to a real person", "request_human", "request_human"),
    ("waar is mijn pakket?", "out_of_scope", "out_of_scope"),
    ("how do I reset my password?", "out_of_scope", "out_of_scope"),
    ("i've had enough of this chat", "stop", "stop"),
    ("wat doen jullie met deze info?", "why_ask", "why_ask"),
    ("Waarom wil je dat weten?", "why_ask", "why_ask"),
    ("ik heb genoeg van deze vragen", "stop", "stop"),
])
def test_clear_interruptions_interrupt(text, intent, kind):
    reading = read_turn(text, intent, 0.95, analyze(text))
    assert reading.kind == kind, (text, reading)


@pytest.mark.parametrize("text, intent", [
    ("asdfgh jkl", "nlu_fallback"), ("qwerqwer", "nlu_fallback"), ("sdfkjsdf", "stop"),
    ("", "nlu_fallback"), ("   ", "inform"),
])
def test_keyboard_mash_and_empty_messages_are_asked_again(text, intent):
    assert read_turn(text, intent, 0.45, analyze(text)).kind == CLARIFY


def test_abuse_inside_an_answer_is_an_answer_flagged_for_one_calm_word():
    reading = read_turn("wat een klotebedrijf", "abuse", 0.94, analyze("wat een klotebedrijf"))
    assert reading.kind == ANSWER and reading.abuse


def test_a_stop_in_so_many_words_needs_less_confidence():
    assert read_turn("stop alsjeblieft", "stop", 0.79, analyze("stop alsjeblieft")).kind == "stop"
    assert read_turn("ik heb geen zin meer", "stop", 0.79, analyze("ik heb geen zin meer")).kind == ANSWER


def test_nlu_fallback_alone_never_interrupts():
    for text in ("rampzalig", "meh", "het kan beter", "nou ja, zo zo", "pfff"):
        assert read_turn(text, "nlu_fallback", 0.45, analyze(text)).kind == ANSWER, text


@pytest.mark.parametrize("text, intent, confidence, done", [
    ("dat was het", "done", 0.99, True),
    ("nee verder niks", "done", 0.99, True),
    ("that's all", "done", 0.99, True),
    ("ik ben er klaar mee", "done", 1.0, False),
    ("ik heb er schoon genoeg van", "stop", 0.97, False),
    ("I'm so over this", "done", 0.9, False),
    ("de bezorging was prima", "done", 0.5, False),
])
def test_only_what_ends_the_story_ends_it(text, intent, confidence, done):
    assert ends_story(analyze(text), intent, confidence) is done, text


def test_high_confidence_is_high():
    assert HIGH_CONFIDENCE >= 0.8
