"""The planner: which dimension next, follow-up wording, summaries, confirmations."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from bot.listening import (
    FOLLOWUP_DIMENSIONS,
    ConversationState,
    compose_followup,
    compose_reason_question,
    interpret_confirmation,
    says_nothing_is_wrong,
    needs_follow_up_offer,
    plan_next_dimension,
    resummarise,
    summarise,
    analyze,
)
from bot.listening.nlp import fold
from bot.listening.planner import shift_pronouns

YES_NO_STARTS = {
    "nl": ("is ", "ben ", "heb ", "had ", "was ", "kun ", "kan ", "wil ", "zou ", "vind ", "mag ",
           "klopt ", "ging ", "werd ", "zijn ", "zal ", "moet ", "weet "),
    "en": ("is ", "are ", "do ", "does ", "did ", "can ", "could ", "would ", "will ", "was ",
           "were ", "have ", "has ", "had ", "should ", "shall ", "may "),
}
GENERIC = ("ik begrijp het", "i understand", "dat begrijp ik", "i see.", "ik snap het.")


def _question_of(message: str) -> str:
    """The last sentence (the question) of a bot message."""
    sentences = re.split(r"(?<=[.!?])\s+", message.strip())
    return sentences[-1]


def assert_one_open_question(message: str, language: str):
    assert message.count("?") == 1, message
    assert message.rstrip().endswith("?"), message
    q = _question_of(message)
    tail = q.split(":")[-1].strip().lower()
    assert not tail.startswith(YES_NO_STARTS[language]), message
    words = re.findall(r"[\w']+", tail)
    assert "of" not in words if language == "nl" else "or" not in words, message
    low = message.lower()
    assert not any(g in low for g in GENERIC), message


# --- plan_next_dimension ------------------------------------------------------------

def test_first_question_after_reason_detractor():
    s = ConversationState("nl", 4, {"reason": "Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen"})
    assert plan_next_dimension(s) == "expectation"


def test_vague_story_asks_for_situation_first():
    for lang, text in (("nl", "slecht"), ("en", "bad service"), ("nl", "gewoon niet goed")):
        s = ConversationState(lang, 3, {"reason": text})
        assert plan_next_dimension(s) == "situation"


def test_concrete_story_does_not_ask_situation():
    s = ConversationState("nl", 5, {"reason": "gisteren om 10 uur stond de bezorger voor de deur en hij gooide mijn pakket over de schutting"})
    assert plan_next_dimension(s) not in (None, "situation")


def test_never_asks_what_was_already_told():
    # the reason already contains an expectation and an impact
    s = ConversationState("nl", 3, {"reason": "Ze beloofden dat het maandag zou komen, daardoor moest ik een dag vrij nemen"})
    nxt = plan_next_dimension(s)
    assert nxt not in ("expectation", "impact", None)
    s = ConversationState("en", 3, {"reason": "They promised it would come Monday, so I had to take a day off"})
    assert plan_next_dimension(s) not in ("expectation", "impact", None)


def test_never_asks_content_from_later_answers():
    s = ConversationState("en", 2, {"reason": "the courier was rude",
                                    "situation": "yesterday he threw my parcel over the fence and I expected him to ring"},
                          asked=["situation"])
    assert plan_next_dimension(s) not in ("situation", "expectation")


def test_never_repeats_and_respects_max_followups():
    s = ConversationState("nl", 5, {"reason": "slecht"}, max_followups=3)
    seen = []
    for _ in range(10):
        d = plan_next_dimension(s)
        if d is None:
            break
        assert d not in seen
        seen.append(d)
        s.asked.append(d)
        s.answers[d] = "weet ik niet eigenlijk, lastig"
    assert len(seen) <= 3
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("max_followups", [0, 1, 2, 5])
def test_max_followups_configurable(max_followups):
    s = ConversationState("en", 1, {"reason": "bad"}, max_followups=max_followups)
    n = 0
    while (d := plan_next_dimension(s)) is not None:
        s.asked.append(d)
        s.answers[d] = f"answer number {n} about the delivery that went wrong on Monday"
        n += 1
        assert n <= max_followups
    assert n == max_followups or n < max_followups  # may stop early when complete
    if max_followups == 0:
        assert n == 0


def test_done_stops():
    s = ConversationState("nl", 3, {"reason": "slecht"}, done=True)
    assert plan_next_dimension(s) is None


def test_done_signal_in_last_answer_stops():
    s = ConversationState("nl", 3, {"reason": "slecht", "situation": "nee, dat was het"}, asked=["situation"])
    assert plan_next_dimension(s) is None


def test_complete_story_goes_to_verification():
    s = ConversationState("nl", 4, {
        "reason": "ik moest drie keer bellen over mijn factuur",
        "expectation": "ik had verwacht dat het de eerste keer geregeld werd",
        "in_our_place": "als ik jullie was zou ik mensen zelf laten beslissen"},
        asked=["expectation", "in_our_place"], max_followups=5)
    assert plan_next_dimension(s) is None


def test_planner_is_deterministic():
    s = ConversationState("en", 7, {"reason": "the app is okay but slow"})
    assert len({plan_next_dimension(s) for _ in range(5)}) == 1


def test_promoter_gets_other_first_question_than_detractor():
    text = "de bezorger kwam gisteren om 10 uur en was heel vriendelijk"
    assert plan_next_dimension(ConversationState("nl", 10, {"reason": text})) == "priority"
    assert plan_next_dimension(ConversationState("nl", 2, {"reason": text})) == "expectation"


@settings(max_examples=60, deadline=None)
@given(score=st.one_of(st.none(), st.integers(0, 10)),
       answers=st.lists(st.sampled_from([
           "slecht", "weet ik niet", "ik had verwacht dat ze belden", "daardoor moest ik vrij nemen",
           "het belangrijkste is eerlijkheid", "als ik jullie was zou ik beter plannen",
           "the driver was rude again", "I expected a refund", "nothing", "that's all",
       ]), max_size=6),
       max_followups=st.integers(0, 6))
def test_planner_properties(score, answers, max_followups):
    s = ConversationState("nl", score, {"reason": "slecht"}, max_followups=max_followups)
    for text in answers:
        d = plan_next_dimension(s)
        if d is None:
            break
        assert d in FOLLOWUP_DIMENSIONS
        assert d not in s.asked
        s.asked.append(d)
        s.answers[d] = text
    assert len(s.asked) <= max_followups
    assert len(set(s.asked)) == len(s.asked)


# --- compose_followup ------------------------------------------------------------------

def test_followup_reflects_own_words_nl():
    s = ConversationState("nl", 3, {"reason": "mijn pakket is wéér niet bezorgd! ik ben er klaar mee"})
    msg = compose_followup(s, "expectation", s.answers["reason"])
    assert "pakket" in msg.lower()
    assert "klaar mee" in msg.lower()
    assert "niet voor het eerst" in msg.lower() or "weer" in fold(msg)  # "wéér", as the customer wrote it
    assert_one_open_question(msg, "nl")


def test_followup_reflects_own_words_en():
    s = ConversationState("en", None, {"reason": "honestly the app is fine but your delivery guys are rude"})
    msg = compose_followup(s, "situation", s.answers["reason"])
    assert "app" in msg and "delivery guys" in msg
    assert_one_open_question(msg, "en")


def test_followup_names_feeling_only_when_expressed():
    s = ConversationState("nl", 4, {"reason": "de bezorger kwam pas om 22 uur"})
    msg = compose_followup(s, "expectation", s.answers["reason"]).lower()
    for feeling in ("boos", "teleurgesteld", "klaar mee", "gefrustreerd", "ongerust", "blij"):
        assert feeling not in msg
    s = ConversationState("en", 4, {"reason": "the courier came at 10 pm"})
    msg = compose_followup(s, "expectation", s.answers["reason"]).lower()
    for feeling in ("angry", "disappointed", "fed up", "frustrated", "worried", "happy"):
        assert feeling not in msg


def test_followup_mentions_again_only_when_said():
    said = compose_followup(ConversationState("en", 3, {}), "expectation", "the parcel was late again")
    assert "again" in said.lower() or "not for the first time" in said.lower()
    not_said = compose_followup(ConversationState("en", 3, {}), "expectation", "the parcel was late")
    assert "again" not in not_said.lower() and "first time" not in not_said.lower()


def test_followup_uses_the_customers_own_term():
    msg = compose_followup(ConversationState("nl", 4, {}), "impact", "de bezorgers zijn altijd onbeschoft")
    assert "bezorgers" in msg
    msg = compose_followup(ConversationState("en", 4, {}), "impact", "my deliveries are always late")
    assert "your deliveries" in msg.lower()


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("dimension", FOLLOWUP_DIMENSIONS)
def test_every_followup_is_one_open_question(lang, dimension):
    texts = {"nl": ["slecht", "mijn pakket is weer niet bezorgd, ik ben boos", "weet ik niet",
                    "de app is prima maar de bezorger was onbeschoft", "ik had verwacht dat ze zouden bellen"],
             "en": ["bad", "my parcel was not delivered again, I'm angry", "I don't know",
                    "the app is fine but the driver was rude", "I expected them to call me"]}[lang]
    for turn in range(4):
        for text in texts:
            s = ConversationState(lang, 4, {"reason": text}, asked=["x"] * turn)
            assert_one_open_question(compose_followup(s, dimension, text), lang)


def test_consecutive_turns_use_different_templates():
    text = "mijn pakket is weer niet bezorgd"
    s = ConversationState("nl", 3, {"reason": text})
    msgs = []
    for turn in range(3):
        s.asked = ["x"] * turn
        msgs.append(compose_followup(s, "expectation", text))
    assert len(set(msgs)) == 3
    # also the acknowledgement part differs between consecutive turns
    acks = [m.rsplit("?", 1)[0].rsplit(".", 1)[0] for m in msgs]
    assert acks[0] != acks[1] != acks[2]


def test_followup_is_deterministic():
    s = ConversationState("en", 3, {"reason": "bad"}, asked=["situation"])
    assert compose_followup(s, "impact", "the driver was rude") == compose_followup(s, "impact", "the driver was rude")


def test_followup_never_promises_or_defends():
    banned = ("compensat", "vergoed", "sorry", "excuses", "refund you", "we will", "wij zullen",
              "our policy", "ons beleid", "normaal gesproken", "actually")
    for lang, text in (("nl", "mijn geld is nog steeds niet terug, belachelijk"),
                       ("en", "I still haven't had my refund, ridiculous")):
        for dim in FOLLOWUP_DIMENSIONS:
            msg = compose_followup(ConversationState(lang, 1, {"reason": text}), dim, text).lower()
            assert not any(b in msg for b in banned), msg


def test_followup_unknown_dimension():
    with pytest.raises(ValueError):
        compose_followup(ConversationState("nl"), "reason", "x")


# --- reason question ---------------------------------------------------------------------

@pytest.mark.parametrize("lang, score", [("nl", 4), ("nl", 9), ("en", 4), ("en", 0)])
def test_reason_question_names_score(lang, score):
    q = compose_reason_question(ConversationState(lang, score))
    assert str(score) in q and q.endswith("?") and q.count("?") == 1


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_reason_question_without_score(lang):
    q = compose_reason_question(ConversationState(lang, None))
    assert q.endswith("?") and not re.search(r"\d", q)
    assert "{" not in q


# --- summaries ------------------------------------------------------------------------------

def test_summary_reuses_customer_words_nl():
    s = ConversationState("nl", 4, {
        "reason": "Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen",
        "expectation": "Ik had verwacht dat het bij het eerste telefoontje geregeld zou worden",
        "impact": "Het kost me tijd en vertrouwen"}, asked=["expectation", "impact"])
    summary = summarise(s)
    assert "drie keer bellen" in summary
    assert "je factuur" in summary and "mijn factuur" not in summary
    assert "Je had verwacht dat het bij het eerste telefoontje geregeld zou worden" in summary
    assert "tijd en vertrouwen" in summary and "kost je" in summary
    assert "4" in summary
    assert summary.endswith("Klopt dat?")


def test_summary_reuses_customer_words_en():
    s = ConversationState("en", 6, {
        "reason": "My parcel was left in the rain again",
        "impact": "I had to throw away a soaked book",
        "in_our_place": "you should tell your drivers to ring the bell"}, asked=["impact", "in_our_place"])
    summary = summarise(s)
    assert "Your parcel was left in the rain again" in summary
    assert "You had to throw away a soaked book" in summary
    # a statement about what the company should do is the customer's view, not the bot's word
    assert "In your view: we should tell our drivers to ring the bell." in summary
    assert summary.endswith("Did I get that right?")


def test_summary_skips_dont_know_answers():
    s = ConversationState("nl", 5, {"reason": "de app crasht steeds bij het betalen", "expectation": "geen idee"},
                          asked=["expectation"])
    summary = summarise(s)
    assert "geen idee" not in summary.lower()
    assert "de app crasht steeds bij het betalen" in summary.lower()


def test_summary_without_story():
    summary = summarise(ConversationState("en", None, {}))
    assert summary.endswith("Did I get that right?")


def test_resummary_uses_correction():
    s = ConversationState("nl", 4, {"reason": "de app werkte niet"})
    out = resummarise(s, "het was de bezorger, niet de app")
    assert "het was de bezorger, niet de app" in out
    assert out.endswith("Klopt dat?")
    out = resummarise(ConversationState("en", 4, {"reason": "app"}), "it was my invoice that was wrong")
    assert "your invoice" in out and out.endswith("Did I get that right?")


@pytest.mark.parametrize("lang, story, correction, told, marked", [
    ("nl", "Ik moest drie keer bellen over mijn factuur", "het was vier keer", "drie keer bellen over je factuur",
     "Met jouw correctie: het was vier keer."),
    ("en", "I had to call three times about my invoice", "it was four times", "call three times about your invoice",
     "With your correction: it was four times."),
])
def test_a_short_correction_is_checked_against_the_whole_story(lang, story, correction, told, marked):
    out = resummarise(ConversationState(lang, 4, {"reason": story}), correction)
    assert told in out, "the story is repeated, not replaced by a fragment"
    assert marked in out and out.index(told) < out.index(marked)
    assert out.count("?") == 1


def test_a_correction_that_restates_the_story_replaces_it():
    long_correction = ("het was niet drie keer maar vier keer, en het ging eigenlijk om mijn abonnement "
                       "en niet om de factuur die ik kreeg")
    out = resummarise(ConversationState("nl", 4, {"reason": "Ik moest drie keer bellen over mijn factuur"}),
                      long_correction)
    assert "je abonnement" in out and "drie keer bellen over je factuur" not in out


@pytest.mark.parametrize("lang, text, expected", [
    ("nl", "ik ben boos omdat mijn pakket weg is", "je bent boos omdat je pakket weg is"),
    ("nl", "omdat ik boos ben", "omdat je boos bent"),
    ("nl", "ze hebben mij niet gebeld", "ze hebben jou niet gebeld"),
    ("en", "I was angry because my parcel was lost", "You were angry because your parcel was lost"),
    ("en", "you never called me back", "we never called you back"),
    ("en", "I told you twice", "You told us twice"),
    ("en", "they lost it. I told you twice", "they lost it. You told us twice"),
    ("en", "they said I was wrong", "they said you were wrong"),
    ("en", "I'm tired of your app", "You're tired of our app"),
    ("en", "honestly I'm tired of your app", "honestly you're tired of our app"),
])
def test_shift_pronouns(lang, text, expected):
    assert shift_pronouns(text, lang) == expected


# --- follow-up offer ----------------------------------------------------------------------

def test_needs_follow_up_offer():
    assert needs_follow_up_offer(ConversationState("nl", 5, {"reason": "prima"}))
    assert needs_follow_up_offer(ConversationState("nl", 9, {"reason": "de bezorging was slecht en traag"}))
    assert needs_follow_up_offer(ConversationState("en", 9, {"reason": "great, but where is my order?"}))
    assert not needs_follow_up_offer(ConversationState("en", 9, {"reason": "the delivery was fast and friendly"}))
    assert not needs_follow_up_offer(ConversationState("nl", 8, {"reason": "prima geholpen"}))
    a = analyze("waar blijft mijn geld?")
    assert needs_follow_up_offer(ConversationState("nl", 9, {}), a)


# --- confirmation ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, correction", [
    ("ja", "yes", None), ("Ja!", "yes", None), ("klopt", "yes", None), ("jep", "yes", None),
    ("idd", "yes", None), ("yes", "yes", None), ("exactly", "yes", None), ("Klopt helemaal", "yes", None),
    ("ja hoor, dank je", "yes", None), ("yes that's right", "yes", None), ("👍", "yes", None),
    ("nee", "no", None), ("nope", "no", None), ("niet helemaal", "no", None), ("No.", "no", None),
    ("klopt niet", "no", None), ("not quite", "no", None),
    ("nee, het was de bezorger niet de app", "correction", "het was de bezorger niet de app"),
    ("no, it was the driver, not the app", "correction", "it was the driver, not the app"),
    ("niet helemaal: ik moest vier keer bellen", "correction", "ik moest vier keer bellen"),
    ("ja, maar het was ook de app", "correction", "het was ook de app"),
    ("het was de bezorger", "correction", "het was de bezorger"),
    ("wat bedoel je?", "unclear", None), ("hmm", "unclear", None), ("", "unclear", None),
])
def test_interpret_confirmation(text, kind, correction):
    assert interpret_confirmation(text) == (kind, correction)


def test_answer_about_a_wish_gets_neutral_acknowledgement():
    s = ConversationState("nl", 8, {"reason": "prima", "priority": "dat ze sneller reageren op de chat"},
                          asked=["priority"])
    msg = compose_followup(s, "in_our_place", s.answers["priority"]).lower()
    assert "chat" in msg
    assert "goed ging" not in msg and "fijn" not in msg and "mooi" not in msg


def test_feeling_replaces_quote():
    s = ConversationState("nl", 1, {"reason": "x", "expectation": "ik ben woedend"}, asked=["expectation"])
    msg = compose_followup(s, "impact", "ik ben woedend")
    assert "woedend" in msg and "“" not in msg


@pytest.mark.parametrize("lang, text, phrase", [
    ("nl", "pakket kwam niet", "het pakket"),
    ("nl", "bezorger was onbeschoft", "de bezorger"),
    ("en", "delivery was slow", "the delivery"),
])
def test_bare_nouns_get_an_article(lang, text, phrase):
    assert phrase in compose_followup(ConversationState(lang, 3, {}), "impact", text).lower()


def test_compose_acknowledgement_for_story_opening():
    from bot.listening import compose_acknowledgement, text
    s = ConversationState("nl", None, {}, opened_with_story=True)
    ack = compose_acknowledgement(s, "mijn pakket is wéér niet bezorgd!")
    assert "pakket" in ack and "?" not in ack
    assert compose_acknowledgement(s, "") == ""
    opening = text("opening_after_story", "nl", company="Acme")
    assert "bot" in opening and opening.count("?") == 1


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=60), lang=st.sampled_from(["nl", "en"]),
       dim=st.sampled_from(FOLLOWUP_DIMENSIONS), score=st.one_of(st.none(), st.integers(0, 10)))
def test_compose_and_summarise_never_crash(text, lang, dim, score):
    s = ConversationState(lang, score, {"reason": text, dim: text}, asked=[dim])
    msg = compose_followup(s, dim, text)
    assert msg.count("?") >= 1
    out = summarise(s)
    assert out.endswith("Klopt dat?" if lang == "nl" else "Did I get that right?")
    assert interpret_confirmation(text)[0] in ("yes", "no", "correction", "unclear")


def test_float_score_from_rasa_slot():
    s = ConversationState("nl", 4.0, {"reason": "slecht"})
    assert "4" in compose_reason_question(s) and "4.0" not in compose_reason_question(s)
    assert "Je gaf een 4." in summarise(s)


def test_acknowledge_without_state():
    from bot.listening import acknowledge
    t = "my parcel was left in the rain again"
    ack = acknowledge(t, analyze(t), "en")
    assert "your parcel" in ack.lower() and "?" not in ack
    assert acknowledge("", None, "nl") == ""


def test_followup_same_when_caller_already_recorded_the_dimension():
    base = ConversationState("nl", 4, {"reason": "slecht"}, asked=["situation"])
    recorded = ConversationState("nl", 4, {"reason": "slecht"}, asked=["situation", "expectation"])
    text_ = "de bezorger gooide mijn pakket over de schutting"
    assert compose_followup(base, "expectation", text_) == compose_followup(recorded, "expectation", text_)


# "Wat heb ik verkeerd begrepen?" — a reply saying nothing was wrong is not a correction.
@pytest.mark.parametrize("text, nothing_wrong", [
    ("klopt", True), ("ja klopt", True), ("het klopt wel", True), ("nee, het klopt wel", True),
    ("alles klopt", True), ("niks", True), ("nee niks", True), ("niks, het klopt", True), ("goed hoor", True),
    ("that's right", True), ("that is correct", True), ("nothing", True), ("nothing, it was right", True),
    ("it was right actually", True), ("nothing wrong", True),
    ("het was de bezorger", False), ("klopt niet", False), ("de prijs klopt niet", False),
    ("het was niet goed", False), ("niet goed", False), ("weet ik niet", False), ("it was wrong", False),
    ("nothing it was wrong", False), ("niks de bezorger", False), ("", False), ("it was the driver", False),
])
def test_says_nothing_is_wrong(text, nothing_wrong):
    assert says_nothing_is_wrong(text) is nothing_wrong
