"""Sentiment per clause (issue #13): after "maar"/"but"/"although"/"alleen" the later
clause weighs more; negation and intensity are kept. A complaint with a word of praise is
mixed or negative, never positive; praise after a small complaint is not negative."""
import pytest

from bot.listening import analyze


@pytest.mark.parametrize("text", [
    "lekker eten, maar de bezorger was een uur te laat en niemand nam op",
    "het eten was prima, maar de bezorger was een uur te laat",
    "de bezorging was wel snel, maar het pakket was kapot",
    "goed product, alleen de levering duurde lang",
    "vriendelijke medewerker, maar mijn probleem is nog steeds niet opgelost",
    "the food was great but the driver was an hour late",
    "although the staff were friendly, the wait was awful",
    "nice app but it crashes every day",
    "fast delivery, but the box was damaged and nobody replied to my email",
    "de app ziet er mooi uit maar hij loopt steeds vast",
])
def test_a_complaint_after_praise_is_not_positive(text):
    a = analyze(text)
    assert a.sentiment_label in ("negative", "mixed") and a.sentiment < 0, (text, a.sentiment, a.sentiment_label)


@pytest.mark.parametrize("text", [
    "het duurde even, maar ze waren heel vriendelijk en alles is opgelost",
    "a bit slow, but the staff were really helpful",
    "de bezorger was laat maar wel heel vriendelijk",
])
def test_praise_after_a_small_complaint_is_not_negative(text):
    a = analyze(text)
    assert a.sentiment_label in ("positive", "mixed") and a.sentiment > 0, (text, a.sentiment, a.sentiment_label)


@pytest.mark.parametrize("text, label", [
    ("niet goed", "negative"), ("not happy at all", "negative"), ("niet slecht", "positive"),
    ("heel erg slecht", "negative"), ("really good", "positive"), ("super snel geleverd!", "positive"),
])
def test_negation_and_intensity_are_kept(text, label):
    assert analyze(text).sentiment_label == label, (text, analyze(text).sentiment)


def test_intensity_weighs_more():
    assert analyze("heel erg slecht").sentiment < analyze("slecht").sentiment
    assert analyze("really good").sentiment > analyze("good").sentiment


@pytest.mark.parametrize("text", [
    "De reparatie is goed gedaan, al duurde het wel erg lang",
    "het mag allemaal wat sneller",
    "it could all be a bit quicker",
    "Wat is er zo moeilijk aan een pakket op tijd bezorgen?",
    "How hard is it to deliver a parcel on time?",
])
def test_a_wish_a_late_complaint_or_a_rhetorical_question_is_not_positive(text):
    a = analyze(text)
    assert a.sentiment_label in ("negative", "mixed") and a.sentiment < 0, (text, a.sentiment, a.sentiment_label)


def test_al_is_only_a_contrast_after_a_comma():
    assert analyze("ik heb al gebeld en alles is goed opgelost").sentiment_label == "positive"
