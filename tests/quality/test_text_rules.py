"""The scorer's reading rules (tests/quality/text_rules.py) on known cases, so a wrong rule
cannot quietly pass or fail the bot. Fast: no stack."""
from __future__ import annotations

import pytest

from quality import text_rules as tr


def test_split_reply_takes_the_last_question_sentence():
    ack, question = tr.split_reply(["Dus de bezorger was te laat. Wat had je verwacht?"])
    assert (ack, question) == ("Dus de bezorger was te laat.", "Wat had je verwacht?")
    assert tr.split_reply(["Sorry, dat kon ik niet goed lezen.", "Wat had je verwacht?"])[1] == "Wat had je verwacht?"
    assert tr.split_reply(["Dank je wel voor je verhaal."])[1] is None


@pytest.mark.parametrize("question, language, is_open", [
    ("Wat had je verwacht?", "nl", True),
    ("Om terug te komen op je 4: wat is daar de belangrijkste reden voor?", "nl", True),
    ("Heb je nog iets toe te voegen?", "nl", False),
    ("Was het de bezorger?", "nl", False),
    ("Do you have anything to add?", "en", False),
    ("Is there something we missed?", "en", False),
    ("What did you expect?", "en", True),
])
def test_open_questions(question, language, is_open):
    assert tr.is_open(question, language) is is_open


def test_suggested_answers():
    assert tr.suggests_answer("Wat ging er mis, bijvoorbeeld de levering?", "nl")
    assert tr.suggests_answer("What went wrong, maybe the delivery?", "en")
    assert not tr.suggests_answer("Wat had je op dat moment van ons verwacht?", "nl")


def test_band_questions():
    assert tr.asks("Wat ontbrak er nog om er een 9 of 10 van te maken?", "nine_or_ten")
    assert not tr.asks("What makes it 7 out of 10 for you?", "nine_or_ten")
    assert tr.asks("Wat moeten we vooral nooit veranderen?", "keep_or_difference")
    assert tr.asks("What made the difference for you?", "keep_or_difference")
    assert tr.asks("Hoe ging het, van het begin af aan?", "situation")
    assert not tr.asks("Wat had je verwacht?", "situation")


def test_content_words_and_echo():
    said = "Het eten was prima, maar de bezorger was een uur te laat"
    assert tr.shared_content_words("De bezorging liep een uur uit.", said, "nl")  # bezorg-, uur
    assert not tr.shared_content_words("Dank je dat je dat vertelt.", said, "nl")
    assert tr.shared_content_words("So the klantenservice was slow.", "service is slow", "en")
    assert tr.shared_content_words("You've had it with us, I hear.", "I've had it with you", "en")
    assert not tr.shared_content_words("What did you expect from us?", "I've had it with you", "en")
    long_said = "de monteur is twee keer niet komen opdagen en niemand heeft me gebeld"  # 13 words
    assert tr.longest_common_run("Dus de monteur is twee keer niet komen opdagen.", long_said) == 8
    assert tr.longest_common_run("De monteur kwam twee keer niet.", long_said) == 3  # "twee keer niet"


def test_refusal_quoted_in_summary():
    assert tr.mentions_phrase("Wat je had verwacht: bedankt.", "nee bedankt")
    assert tr.mentions_phrase("What you expected: not that you can think of.", "not that I can think of") is False
    assert not tr.mentions_phrase("Je gaf een 8.", "ja")
