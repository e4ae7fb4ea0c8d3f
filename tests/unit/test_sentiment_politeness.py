"""Politeness is not gratitude nor praise of the service; praise that says "never change X"
is praise (usertest finding 6, docs/listening.md "Sentiment")."""
import pytest

from bot.listening.analysis import analyze, analyze_story

POLITE = ["dank", "bedankt", "nee bedankt", "ja graag", "dank je", "thanks", "no thanks",
          "yes please", "thank you"]


@pytest.mark.parametrize("text", POLITE)
def test_politeness_is_neutral_and_not_gratitude(text):
    a = analyze(text)
    assert a.sentiment_label == "neutral", (text, a.sentiment)
    assert "gratitude" not in a.emotion_names


@pytest.mark.parametrize("text", ["bedankt voor het snelle regelen",
                                  "thanks for sorting it so fast",
                                  "heel erg bedankt voor jullie hulp"])
def test_real_gratitude_stays_positive(text):
    a = analyze(text)
    assert a.sentiment_label == "positive"
    assert "gratitude" in a.emotion_names


def test_repeated_calls_about_invoice_then_ja_graag_is_negative():
    story = analyze_story(["4", "ik heb 3x gebeld over mijn factuur en het klopt nog steeds niet",
                           "ja graag"], "nl")
    assert story.sentiment == "negative"
    assert "gratitude" not in story.emotions


@pytest.mark.parametrize("text", ["never change the drivers", "Nooit die persoonlijke aanpak veranderen!",
                                  "please never change that"])
def test_never_change_is_praise(text):
    assert analyze(text).sentiment_label == "positive"


@pytest.mark.parametrize("texts,language", [
    (["10!", "Fast delivery and the driver was really friendly",
      "Honestly it was the driver, he carried it upstairs for me", "never change the drivers",
      "nothing", "yes that's right", "no"], "en"),
    (["9", "De medewerker aan de telefoon was super vriendelijk en had mijn probleem binnen vijf minuten opgelost.",
      "Dat ze echt de tijd nam en meedacht.", "Nooit die persoonlijke aanpak veranderen!",
      "niks", "klopt", "nee"], "nl"),
])
def test_all_praise_promoter_story_is_positive(texts, language):
    assert analyze_story(texts, language).sentiment == "positive"
