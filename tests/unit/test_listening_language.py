"""detect_language: function-word based, short/neutral messages inherit."""
import pytest

from bot.listening import detect_language


@pytest.mark.parametrize("text, expected", [
    ("mijn pakket is wéér niet bezorgd!", "nl"),
    ("Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen", "nl"),
    ("het ging eigenlijk wel goed", "nl"),
    ("honestly the app is fine but your delivery guys are rude", "en"),
    ("I had to call three times before someone fixed my invoice", "en"),
    ("it was fine", "en"),
    ("geen idee", "nl"),
    ("thank you", "en"),
])
def test_detects(text, expected):
    assert detect_language(text) == expected
    other = "en" if expected == "nl" else "nl"
    assert detect_language(text, previous=other) == expected


@pytest.mark.parametrize("text", ["ok", "8", "👍", "", "   ", "10/10", "Acme", "yes", "ja"])
@pytest.mark.parametrize("previous", ["nl", "en"])
def test_short_or_neutral_inherits_previous(text, previous):
    assert detect_language(text, previous=previous) == previous


def test_default_is_dutch(monkeypatch):
    monkeypatch.delenv("GEHOOR_DEFAULT_LANGUAGE", raising=False)
    assert detect_language("ok") == "nl"
    assert detect_language("8") == "nl"


def test_switch_mid_conversation():
    assert detect_language("sorry, can we continue in English please", previous="nl") == "en"
    assert detect_language("kunnen we verder in het Nederlands", previous="en") == "nl"
