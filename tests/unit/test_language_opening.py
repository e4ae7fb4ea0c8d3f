"""Language at the first word (issue #13): a greeting names its language; the channel's
language hint wins; docs/listening.md, "Language at the first word"."""
import pytest

from bot.listening.language import opening_language


@pytest.mark.parametrize("text", ["hello", "Hi", "hi!", "hey", "Hey there", "good morning", "Good evening!",
                                  "yo", "hiya", "good afternoon", "hello?", "hi there 👋", "heyy", "hellooo"])
def test_an_english_greeting_opens_in_english(text, monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "nl")
    assert opening_language(text) == "en"


@pytest.mark.parametrize("text", ["hoi", "Hallo", "goedemorgen", "goedenavond!", "hee", "hoi hoi", "dag",
                                  "goeiemiddag", "hoiii", "hey, mijn pakket is niet bezorgd", "hi, ik heb een klacht"])
def test_a_dutch_greeting_or_dutch_words_open_in_dutch(text, monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "en")
    assert opening_language(text) == "nl"


@pytest.mark.parametrize("text", ["8", "👍", "ok", "", "Acme"])
def test_no_language_in_it_opens_in_the_default(text, monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "nl")
    assert opening_language(text) == "nl"
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "en")
    assert opening_language(text) == "en"


def test_the_channel_hint_wins_over_a_greeting():
    assert opening_language("hello", hint="nl") == "nl"
    assert opening_language("hoi", hint="en") == "en"
    # a whole sentence still shows which language the customer writes
    assert opening_language("my parcel never arrived and nobody called me back", hint="nl") == "en"
