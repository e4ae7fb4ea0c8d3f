"""The summary (issue #13, item 4): the story in the customer's words, free of yes/no,
politeness and bot boilerplate; stored without the bot's own intro and check question."""
import pytest

from bot.listening import ConversationState, catalogue, summarise
from bot.listening.summary import resummary_record, summary_record

BOILERPLATE = {
    "nl": [": bedankt", ": nee", ": ja", "dank je", "bedankt", "hoi", "nee hoor", "nee bedankt"],
    "en": [": thanks", ": no", ": yes", "thanks", "thank you", "no thanks", "hi,", "hello"],
}


@pytest.mark.parametrize("lang, answers, asked, kept", [
    ("nl", {"reason": "De bezorger was een uur te laat, dank je", "expectation": "nee bedankt",
            "impact": "ja", "priority": "Het meest teleurstellend vind ik dat niemand terugbelde"},
     ["expectation", "impact", "priority"], ["bezorger was een uur te laat", "niemand terugbelde"]),
    ("nl", {"reason": "Hoi, de monteur kwam niet opdagen", "expectation": "nee hoor",
            "in_our_place": "nee dank je"}, ["expectation", "in_our_place"], ["monteur kwam niet opdagen"]),
    ("en", {"reason": "good service, quick delivery. thanks!", "in_our_place": "no thanks",
            "priority": "hi, well the driver could be friendlier"}, ["in_our_place", "priority"],
     ["good service, quick delivery", "the driver could be friendlier"]),
    ("en", {"reason": "Hello, my parcel was left in the rain", "expectation": "yes",
            "impact": "no thank you"}, ["expectation", "impact"], ["parcel was left in the rain"]),
])
def test_summary_is_free_of_yes_no_and_politeness(lang, answers, asked, kept):
    summary = summarise(ConversationState(lang, 4, answers, asked=asked))
    low = summary.lower()
    for phrase in BOILERPLATE[lang]:
        assert phrase not in low, summary
    for phrase in kept:
        assert phrase in low, summary


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_stored_summary_has_no_intro_and_no_check_question(lang):
    reason = "de bezorger was een uur te laat" if lang == "nl" else "the driver was an hour late"
    state = ConversationState(lang, 4, {"reason": reason})
    record = summary_record(state)
    for i, _ in enumerate(catalogue.variants("summary_intro", lang)):
        assert catalogue.text("summary_intro", lang, i) not in record
    assert catalogue.text("summary_check", lang) not in record
    assert "?" not in record
    assert ("bezorger" if lang == "nl" else "driver") in record
    assert record in summarise(state)  # what the customer confirmed, word for word


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_stored_resummary_has_no_intro_and_no_check_question(lang):
    state = ConversationState(lang, 4, {"reason": "x y z"})
    correction = "het was de monteur, niet de bezorger" if lang == "nl" else "it was the engineer, not the driver"
    record = resummary_record(state, correction)
    assert "?" not in record and ("monteur" in record or "engineer" in record)
    assert catalogue.text("summary_check", lang) not in record


# --- re-asks after an unreadable answer (issue #13, item 5) -------------------------------

from bot.listening import compose_followup, compose_reason_question, text  # noqa: E402


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("dimension", ["situation", "expectation", "impact", "priority"])
def test_a_reask_after_an_unreadable_answer_uses_other_words_and_an_example(lang, dimension):
    state = ConversationState(lang, 4, {"reason": "slecht" if lang == "nl" else "bad"})
    first = compose_followup(state, dimension, state.answers["reason"])
    again = compose_followup(state, dimension, "asdfgh", again=True, unreadable=True)
    assert again != first and first.split(". ")[-1] != again.split(". ")[-1]
    assert ("bijvoorbeeld" in again) if lang == "nl" else ("for example" in again)
    assert again.count("?") == 1 and again.endswith("?")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_score_is_asked_again_with_an_example(lang):
    for i in range(2):
        retry = text("ask_score_retry", lang, i)
        assert any(d in retry for d in "78") and retry.count("?") == 1 and retry.endswith("?")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_reason_is_asked_again_with_an_example(lang):
    state = ConversationState(lang, 4)
    again = compose_reason_question(state, again=True, unreadable=True)
    assert again != compose_reason_question(state) and again.count("?") == 1
    assert ("bijvoorbeeld" in again) if lang == "nl" else ("for example" in again)


# "Klopt dat?" -> "nee" -> "Wat klopt er niet?" -> "ja": a bare yes/no/refusal answers
# nothing, it does not say the summary was right (user test, finding 5).
@pytest.mark.parametrize("text, bare", [
    ("ja", True), ("nee", True), ("nee bedankt", True), ("ok", True), ("yes", True), ("no thanks", True),
    ("ja hoor", True), ("nee, dank je", True),
    ("klopt", False), ("het klopt wel", False), ("niks", False), ("that's correct", False),
    ("het was de bezorger", False), ("", False),
])
def test_bare_reply(text, bare):
    from bot.listening.confirmation import bare_reply, says_nothing_is_wrong
    assert bare_reply(text) is bare
    if bare:
        assert says_nothing_is_wrong(text) is False


# Markup in a message (user test, finding 4): tags and their attributes are dropped before
# the bot shifts or quotes the words; script/style content is never said back.
@pytest.mark.parametrize("text, lang, shifted", [
    ("I expected the <i>checkout</i> to work", "en", "You expected the checkout to work"),
    ("ik had <b class='x'>echt</b> verwacht dat het werkte", "nl", "je had echt verwacht dat het werkte"),
    ("<a href=\"https://x.nl\">de link</a> in mijn mail werkte niet", "nl", "de link in je mail werkte niet"),
    ("I <3 the drivers", "en", "You <3 the drivers"),  # not markup: left alone
    ("prijs <10 euro en ik betaalde 12", "nl", "prijs <10 euro en je betaalde 12"),
])
def test_markup_is_stripped_before_the_pronoun_shift(text, lang, shifted):
    from bot.listening.shifting import shift_pronouns
    assert shift_pronouns(text, lang) == shifted


@pytest.mark.parametrize("lang, reason", [
    ("en", "<script>alert('x')</script>The driver left my parcel in the rain"),
    ("nl", "De bezorger gooide mijn pakket over de schutting <script>document.cookie</script>"),
    ("en", "my order <img src=x onerror=alert(1)> never came <style>p{}</style>"),
])
def test_summary_and_quote_never_say_markup_back(lang, reason):
    from bot.listening.wording import quote
    state = ConversationState(lang, 4, {"reason": reason}, asked=[])
    said = summary_record(state) + " " + quote(reason)
    for raw in ("<", ">", "script", "alert", "cookie", "onerror", "style"):
        assert raw not in said, said
    assert ("parcel" in said or "pakket" in said or "order" in said)


def test_only_markup_leaves_nothing_to_summarise():
    state = ConversationState("en", 4, {"reason": "<script>alert('x')</script>"}, asked=[])
    assert "alert" not in summary_record(state) and "script" not in summary_record(state)
