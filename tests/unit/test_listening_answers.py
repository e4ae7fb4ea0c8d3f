"""Whole-message signals that decide how an answer is filed: "nothing to add" (polite
refusals, bare yes/no), "done" (the story really ends) and fed-up idioms (frustration,
not done). See docs/listening.md, "Answers that add nothing" and "Done or fed up"."""
import pytest

from bot.listening import analyze


@pytest.mark.parametrize("text", [
    "nee bedankt", "Nee, dank je wel", "nee hoor", "nee", "ja", "Ja hoor", "nee bedankt hoor",
    "no thanks", "No thank you.", "yes", "nope", "yeah", "nah", "ok", "nee dankjewel",
    "niks toe te voegen", "nothing to add", "no, thanks", "jawel", "niet echt", "neuh", "no",
    "not that I can think of",
])
def test_polite_refusals_and_bare_yes_no_add_nothing(text):
    assert analyze(text).nothing_to_add, text


@pytest.mark.parametrize("text", [
    "ja, de bezorger was te laat", "nee, het duurde te lang", "bedankt voor de snelle hulp",
    "no, the parcel never came", "yes it was fine but slow", "belachelijk", "het mag allemaal wat sneller",
    "snelheid", "dat ze terugbellen", "thanks to your driver I missed my train",
])
def test_answers_with_content_are_not_nothing(text):
    assert not analyze(text).nothing_to_add, text


# --- done or fed up ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "ik heb er schoon genoeg van", "ik ben het zat", "I've had it with you", "I'm so over this",
    "ik ben er klaar mee", "ik ben het spuugzat", "I'm sick and tired of it", "ik ben het beu",
    "I'm fed up with this company",
])
def test_fed_up_idioms_are_frustration_not_done(text):
    a = analyze(text)
    assert a.fed_up and not a.done_signal, text
    assert "frustration" in a.emotion_names, a.emotion_names
    assert a.sentiment_label == "negative", (text, a.sentiment)


@pytest.mark.parametrize("text", [
    "dat was het", "nee verder niks", "that's all", "nothing else", "dat was het wel", "that's it",
])
def test_only_what_ends_the_story_is_done(text):
    a = analyze(text)
    assert a.done_signal and not a.fed_up, text


@pytest.mark.parametrize("text", ["no thanks", "no thank you", "nee bedankt"])
def test_a_polite_no_to_one_question_does_not_end_the_story(text):
    assert not analyze(text).done_signal, text
