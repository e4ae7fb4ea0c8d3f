"""Aspect matching beyond the word list (bot/listening/aspect_index.py) and the
classifier's second opinion (bot/listening/aspect_classifier.py)."""
from __future__ import annotations

import pytest

from bot.listening.analysis import analyze
from bot.listening.lexicon import resources


def aspects(text: str, lang: str) -> set[str]:
    return set(analyze(text, lang).aspect_names)


@pytest.mark.parametrize("text, expected", [
    # a Dutch compound is its head's aspect
    ("De pakketbezorger gooide het over de schutting", {"delivery"}),
    ("De baliemedewerker was kortaf", {"staff_attitude"}),
    ("De glasvezelinstallateur was keurig", {"staff_attitude"}),
    # a person head keeps its modifier's aspect too
    ("De klantenservicemedewerker hing op", {"customer_service", "staff_attitude"}),
    # the head decides, not a prefix wildcard on the modifier
    ("De bezorgkosten zijn belachelijk", {"price_billing"}),
    # without a head, a modifier that is a lexicon noun tells what it is about
    ("De pakketautomaat ging niet open", {"delivery"}),
    # both parts of a compound must be words: "account|ant" and "toon|bank" are not aspects
    ("Mijn accountant vond het ook raar", set()),
    ("Ik stond aan de toonbank", set()),
    # exceptions: a password is not waiting
    ("Mijn wachtwoord werd niet geaccepteerd op de site", {"website_app"}),
    # irregular verb forms through spaCy's lookup lemmas and the lexicon
    ("Ik heb drie keer gebeld", {"customer_service"}),
])
def test_dutch_compounds_heads_modifiers_and_exceptions(text, expected):
    assert aspects(text, "nl") == expected


@pytest.mark.parametrize("text, lang, expected", [
    # a term inside a longer term of another aspect does not count
    ("The bus driver was rude", "en", {"staff_attitude"}),
    ("I want my money back", "en", {"returns_refunds"}),
    # a weak term counts only when nothing of another aspect is named
    ("Where is my order?", "en", {"delivery"}),
    ("I was charged twice for the same order", "en", {"price_billing"}),
    ("Waar blijft mijn bestelling?", "nl", {"delivery"}),
    ("Ik heb twee keer betaald voor dezelfde bestelling", "nl", {"price_billing"}),
    # idioms
    ("Ik ben van het kastje naar de muur gestuurd", "nl", {"customer_service"}),
    ("I got the runaround", "en", {"customer_service"}),
])
def test_longest_match_weak_terms_and_idioms(text, lang, expected):
    assert aspects(text, lang) == expected


def test_the_classifier_is_asked_only_when_the_lexicon_finds_nothing(monkeypatch):
    index = resources().languages["nl"].aspects
    calls = []
    real = index.second_opinion
    monkeypatch.setattr(index, "second_opinion", lambda doc, lang: calls.append(doc.text) or real(doc, lang))
    from bot.listening.nlp import fold, get_nlp
    nlp = get_nlp("nl")
    index.find(nlp(fold("de bezorger was te laat")))
    assert calls == []
    index.find(nlp(fold("het brood was oudbakken en hard")))
    assert calls == ["het brood was oudbakken en hard"]


def test_the_classifier_says_which_words_decided_and_is_deterministic():
    from bot.listening.aspect_classifier import AspectClassifier, load_training
    from bot.listening.lexicon import _read_yaml, lexicon_path

    lexicon = _read_yaml(lexicon_path())["aspects"]
    first = AspectClassifier(load_training(), tuple(lexicon), lexicon)
    second = AspectClassifier(load_training(), tuple(lexicon), lexicon)
    text = "the soup was cold and tasteless"
    a, b = first.explain(text, "en"), second.explain(text, "en")
    assert a == b
    assert a.aspect == "product_quality"
    assert a.deciding and all(weight > 0 for _, weight in a.deciding)
    assert any("tast" in feature for feature in a.deciding_words), a.deciding


def test_the_classifier_can_be_switched_off(monkeypatch):
    from bot.listening import lexicon

    monkeypatch.setenv("GEHOOR_ASPECT_CLASSIFIER", "off")
    try:
        assert lexicon.reload().languages["nl"].aspects.second_opinion is None
    finally:
        monkeypatch.delenv("GEHOOR_ASPECT_CLASSIFIER")
        lexicon.reload()


@pytest.mark.parametrize("text, lang", [("no idea", "en"), ("slecht", "nl"), ("ja", "nl"), ("😡", "nl"),
                                        ("weet ik niet", "nl"), ("it was fine", "en")])
def test_short_answers_get_no_aspect_from_the_classifier(text, lang):
    # before the word minimum, "no idea" was communication and "slecht" the product
    assert aspects(text, lang) == set()
