"""analyze / analyze_story: aspects, sentiment, emotions, dimensions, repeat contact,
vagueness, don't-know and done signals, in Dutch and English."""
import pytest
from hypothesis import given, settings, strategies as st

from bot.listening import MessageAnalysis, analyze, analyze_story
from bot.listening import lexicon as lexicon_mod


# --- aspects ------------------------------------------------------------------

@pytest.mark.parametrize("text, aspect, word", [
    ("mijn pakket is wéér niet bezorgd!", "delivery", "pakket"),
    ("de pakketten kwamen te laat", "delivery", "pakketten"),
    ("de bezorgers waren onbeschoft", "delivery", "bezorgers"),
    ("the deliveries were always late", "delivery", "deliveries"),
    ("de pakketbezorger belde niet aan", "delivery", "pakketbezorger"),
    ("de klantenservice nam niet op", "customer_service", "klantenservice"),
    ("customer service never called back", "customer_service", "customer service"),
    ("ik moest lang wachten", "waiting_time", "wachten"),
    ("we waited for hours in the queue", "waiting_time", "queue"),
    ("mijn facturen kloppen niet", "price_billing", "facturen"),
    ("the invoice was wrong", "price_billing", "invoice"),
    ("het product was kapot", "product_quality", "product"),
    ("the product quality is poor", "product_quality", "quality"),
    ("de app crasht steeds", "website_app", "app"),
    ("your website is confusing", "website_app", "website"),
    ("de medewerker was onvriendelijk", "staff_attitude", "medewerker"),
    ("the staff were rude", "staff_attitude", "staff"),
    ("ik kreeg nooit een reactie op mijn mail", "communication", "mail"),
    ("I never got a reply to my email", "communication", "reply"),
    ("mijn abonnement werd zomaar verlengd", "contract_subscription", "abonnement"),
    ("I tried to cancel my subscription", "contract_subscription", "subscription"),
    ("de terugbetaling duurt al weken", "returns_refunds", "terugbetaling"),
    ("still waiting for my refund", "returns_refunds", "refund"),
])
def test_aspects_with_lemma_variants(text, aspect, word):
    a = analyze(text)
    found = {(m.aspect, m.text.lower()) for m in a.aspects}
    assert (aspect, word) in found, found
    for m in a.aspects:
        assert text[m.start:m.end] == m.text


def test_aspect_offsets_point_into_original_text():
    text = "Mijn PAKKET is wéér niet bezorgd"
    a = analyze(text)
    m = next(m for m in a.aspects if m.text == "PAKKET")
    assert (m.start, m.end) == (5, 11)


def test_no_aspects_in_unrelated_text():
    assert analyze("het weer was mooi vandaag").aspects == []
    assert analyze("I like turtles").aspects == []


def test_lexicon_is_configurable(tmp_path, monkeypatch):
    custom = tmp_path / "lexicon.yml"
    custom.write_text(
        "aspects:\n"
        "  coffee:\n"
        "    label: {nl: de koffie, en: the coffee}\n"
        "    nl: [koffie, cappuccino]\n"
        "    en: [coffee]\n", encoding="utf-8")
    monkeypatch.setenv("GEHOOR_LEXICON", str(custom))
    try:
        a = analyze("de cappuccino was koud")
        assert [m.aspect for m in a.aspects] == ["coffee"]
        assert lexicon_mod.aspect_names() == ("coffee",)
    finally:
        monkeypatch.delenv("GEHOOR_LEXICON")
    assert "delivery" in lexicon_mod.aspect_names()


def test_default_lexicon_has_required_aspects():
    assert set(lexicon_mod.REQUIRED_ASPECTS) <= set(lexicon_mod.aspect_names())


# --- sentiment ------------------------------------------------------------------

@pytest.mark.parametrize("text, label", [
    ("blij", "positive"), ("niet blij", "negative"),
    ("happy", "positive"), ("not happy", "negative"),
    ("dat was geen probleem", "positive"), ("no problem at all", "positive"),
    ("het was goed", "positive"), ("het was niet goed", "negative"),
    ("niet slecht", "positive"), ("not bad", "positive"),
    ("super geholpen, echt top", "positive"), ("terrible service", "negative"),
    ("mijn pakket is wéér niet bezorgd!", "negative"),
    ("the app is fine but your delivery guys are rude", "mixed"),
    ("de app is prima maar de bezorger was onbeschoft", "mixed"),
    ("ik heb een pakket besteld", "neutral"), ("I ordered a parcel", "neutral"),
])
def test_sentiment_labels_with_negation(text, label):
    assert analyze(text).sentiment_label == label


@pytest.mark.parametrize("weak, strong", [
    ("slecht", "heel erg slecht"), ("bad", "really bad"), ("slecht", "slecht!!!"),
    ("goed", "super goed"), ("good", "very good"), ("boos", "ERG boos"),
])
def test_intensity_makes_sentiment_stronger(weak, strong):
    assert abs(analyze(strong).sentiment) > abs(analyze(weak).sentiment)
    assert (analyze(strong).sentiment > 0) == (analyze(weak).sentiment > 0)


def test_sentiment_in_range():
    for t in ["heel heel erg slecht!!!!!! waardeloos belachelijk schandalig",
              "geweldig fantastisch perfect super!!!"]:
        assert -1.0 <= analyze(t).sentiment <= 1.0


def test_aspect_carries_clause_sentiment():
    a = analyze("honestly the app is fine but your delivery guys are rude", "en")
    by = {m.aspect: m.sentiment for m in a.aspects}
    assert by["website_app"] > 0 > by["delivery"]


# --- emotions -----------------------------------------------------------------

@pytest.mark.parametrize("text, emotions", [
    ("ik ben echt boos", {"anger"}),
    ("ik ben zo teleurgesteld", {"disappointment"}),
    ("ik ben er klaar mee", {"frustration"}),
    ("ik maak me zorgen over mijn geld", {"worry"}),
    ("gelukkig maar, ik ben opgelucht", {"relief"}),
    ("I'm really frustrated", {"frustration"}),
    ("I am furious", {"anger"}),
    ("I'm so disappointed", {"disappointment"}),
    ("I was worried sick", {"worry"}),
    ("I'm confused about the bill", {"confusion"}),
    ("I'm happy with it", {"happiness"}),
    ("I'm not angry, just disappointed", {"disappointment"}),
    ("ik ben niet boos maar wel teleurgesteld", {"disappointment"}),
])
def test_emotions_expressed(text, emotions):
    assert set(analyze(text).emotion_names) == emotions


@pytest.mark.parametrize("text", [
    "de bezorger kwam om 10 uur", "the parcel arrived on Monday", "niet boos",
    "ik zat thuis te wachten", "gelukkig kwam het pakket wel", "I lost my receipt",
])
def test_no_emotion_when_none_expressed(text):
    assert analyze(text).emotions == []


# --- dimensions -----------------------------------------------------------------

@pytest.mark.parametrize("text, dimension", [
    ("ik had verwacht dat ze zouden bellen", "expectation"),
    ("ze beloofden dat het morgen zou komen", "expectation"),
    ("they promised a refund", "expectation"),
    ("I expected a call back", "expectation"),
    ("daardoor moest ik een dag vrij nemen", "impact"),
    ("het kostte me een hele dag", "impact"),
    ("I had to take a day off", "impact"),
    ("I lost a day of work", "impact"),
    ("het belangrijkste is dat het op tijd komt", "priority"),
    ("what matters most is that you keep your promises", "priority"),
    ("als ik jullie was zou ik beter communiceren", "in_our_place"),
    ("jullie zouden moeten terugbellen", "in_our_place"),
    ("if I were you I'd hire more drivers", "in_our_place"),
    ("wat jullie niet zien is dat ik alleen thuis ben", "blind_spot"),
    ("what you don't see is how much time this costs", "blind_spot"),
    ("gisteren om 10 uur stond de bezorger voor de deur", "situation"),
    ("on Monday I called customer service three times", "situation"),
])
def test_dimensions(text, dimension):
    assert dimension in analyze(text).dimensions


@pytest.mark.parametrize("text", ["slecht", "bad service", "prima", "ok"])
def test_vague_texts_cover_no_dimension(text):
    assert analyze(text).dimensions == set()


# --- repeat contact --------------------------------------------------------------

@pytest.mark.parametrize("text, term", [
    ("mijn pakket is weer niet bezorgd", "weer"), ("mijn pakket is wéér niet bezorgd", "wéér"),
    ("alweer een fout op de factuur", "alweer"), ("ik moest opnieuw bellen", "opnieuw"),
    ("het werkt nog steeds niet", "nog steeds"), ("voor de derde keer gebeld", "voor de derde keer"),
    ("keer op keer hetzelfde verhaal", "keer op keer"), ("I had to call again", "again"),
    ("still waiting for my refund", "still"), ("for the third time", "third time"),
    ("I had to explain it once more", "once more"), ("ik heb 3 keer gebeld", "3 keer"),
])
def test_repeat_contact(text, term):
    a = analyze(text)
    assert a.repeat_contact
    assert term in a.repeat_terms


@pytest.mark.parametrize("text", ["het weer was slecht", "de bezorger was aardig",
                                  "the parcel arrived", "eerste keer dat ik bestel"])
def test_no_repeat_contact(text):
    a = analyze(text)
    assert not a.repeat_contact and a.repeat_terms == []


# --- vague / don't know / done ---------------------------------------------------

@pytest.mark.parametrize("text", ["slecht", "prima", "gewoon niet goed", "bad service", "meh",
                                  "goed", "fine", "kan beter"])
def test_vague(text):
    assert analyze(text).vague


@pytest.mark.parametrize("text", [
    "mijn pakket is wéér niet bezorgd!",
    "I had to call three times before someone fixed my invoice",
    "de bezorger zette het pakket gewoon in de regen bij de buren",
])
def test_not_vague(text):
    assert not analyze(text).vague


@pytest.mark.parametrize("text", ["weet ik niet", "geen idee", "niks", "nothing", "I don't know",
                                  "no idea", "Geen idee eigenlijk", "nee"])
def test_dont_know(text):
    a = analyze(text)
    assert a.dont_know and not a.done_signal


@pytest.mark.parametrize("text", ["dat was het", "verder niks", "that's all", "nee verder niet",
                                  "klaar", "Nee, dat was het!", "that's it, thanks", "nothing else"])
def test_done(text):
    assert analyze(text).done_signal


@pytest.mark.parametrize("text", ["ik ben er klaar mee", "ik weet niet waarom ze zo deden",
                                  "the delivery was done badly", "nothing worked at all, the app crashed"])
def test_not_done_nor_dont_know(text):
    a = analyze(text)
    assert not a.done_signal and not a.dont_know


def test_question_and_gibberish():
    assert analyze("waar is mijn bestelling?").question
    assert analyze("asdfghjkl").gibberish
    assert not analyze("mijn pakket is niet bezorgd").gibberish


def test_empty_text():
    a = analyze("", "en")
    assert isinstance(a, MessageAnalysis) and a.language == "en" and a.aspects == []


def test_short_message_keeps_language_but_uses_its_words():
    a = analyze("not happy", "nl")
    assert a.language == "nl"
    assert a.sentiment_label == "negative"


# --- story analysis ---------------------------------------------------------------

def test_analyze_story_aggregates():
    story = analyze_story([
        "4",
        "Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen",
        "Ik had verwacht dat het de eerste keer geregeld zou worden, ik ben echt teleurgesteld",
        "de app werkt trouwens prima",
    ], "nl")
    assert story.aspects[:2] == ["customer_service", "price_billing"]
    assert "website_app" in story.aspects
    assert len(story.aspects) == len(set(story.aspects))
    assert story.repeat_contact
    assert story.emotions == ["disappointment"]
    assert story.sentiment in ("negative", "mixed")


def test_analyze_story_positive_english():
    story = analyze_story(["10", "the delivery was super fast and the driver was friendly"], "en")
    assert story.sentiment == "positive" and story.sentiment_score > 0
    assert story.aspects[0] == "delivery"
    assert not story.repeat_contact


def test_analyze_story_empty():
    story = analyze_story([], "nl")
    assert story.aspects == [] and story.sentiment == "neutral" and story.sentiment_score == 0.0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_analyze_never_crashes(text):
    a = analyze(text)
    assert a.language in ("nl", "en")
    assert -1.0 <= a.sentiment <= 1.0
    assert a.sentiment_label in ("negative", "neutral", "positive", "mixed")


def test_charged_twice_is_not_repeat_contact():
    assert not analyze("I was charged twice for one order").repeat_contact
    assert analyze("I called twice and nobody answered").repeat_contact


def test_yaml_booleans_are_rejected(tmp_path, monkeypatch):
    bad = tmp_path / "lexicon.yml"
    bad.write_text("aspects:\n  x:\n    en: [no, thing]\n", encoding="utf-8")
    monkeypatch.setenv("GEHOOR_LEXICON", str(bad))
    with pytest.raises(ValueError, match="quotes"):
        lexicon_mod.resources()


@pytest.mark.parametrize("text, abuse", [
    ("kut bot", True), ("stomme bot, waar is mijn pakket", True), ("fuck this", True),
    ("you idiots lost my parcel", True), ("de bezorging was matig", False),
    ("the driver was rude", False), ("ik ben boos", False),
])
def test_abuse(text, abuse):
    assert analyze(text).abuse is abuse


@pytest.mark.parametrize("text", ["😡", "👎"])
def test_emoji_sentiment(text):
    assert analyze(text).sentiment_label == "negative"
