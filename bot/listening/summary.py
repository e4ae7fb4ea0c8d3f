"""The summary: the story in the customer's own words, checked with them.

Stored as it is shown (actions/ask.py puts it in the ``summary`` slot)."""
from __future__ import annotations

from . import catalogue
from .analysis import MessageAnalysis, analyze_cached
from .nlp import fold
from .planning import ConversationState, answer_texts, asked_dimensions, dimensions_said, state_language
from .reflection import neutral_voice
from .shifting import shift_pronouns, strip_markup
from .wording import (
    bare_yes_no,
    cap,
    clean,
    folded_words,
    is_statement,
    lower_first,
    self_labelled,
    says_nothing_to_add,
    sentence,
    speaks_for_company,
    story_text,
    strip_politeness,
    wish_like,
)
from .wordtables import get

LABEL_ORDER = ("expectation", "impact", "priority", "in_our_place", "blind_spot")
# questions whose answer names a thing rather than telling a story (summary_label)
ANSWERED_BY_NAMING = ("priority", "in_our_place")

# A correction of at least this many words restates the story: it replaces the summary.
# A shorter one ("it was four times, not three") corrects a detail: the summary is repeated
# with the correction after it, named as such, so the customer checks the whole story again.
RESTATEMENT_WORDS = 15


def dimensions_named(text: str, lang: str) -> list[str]:
    """The dimensions ``text`` names in its own words ("zou moeten" is an expectation, "een
    dag kwijt" an impact): label_cues of wording.yml (all of an entry's words) or a refile
    cue of planning.yml. Analysis dimensions are not enough: "parcel lost AGAIN" is what
    happened, not what it meant."""
    said = set(folded_words(text))
    cues = get("wording", "label_cues", lang if lang in ("nl", "en") else "nl")
    refiled = dimensions_said(text, lang)
    return [dim for dim in LABEL_ORDER
            if dim in refiled or any(all(w in said for w in folded_words(c)) for c in cues.get(dim, ()))]


def summary_label(key: str, raw: str, shifted: str, lang: str, a: MessageAnalysis) -> str | None:
    """The label of a fragment answering question ``key``: the dimension its words name
    (the question's own first), else none — a plain point, never a label by question alone.
    A wish ("dat ze eerlijk zeggen wanneer hij komt") to the expectation or impact question
    is what they expected. What matters most / what they would do in our place is answered
    by naming it ("speed", "sneller bellen"): labelled unless it tells what happened or is
    a one-word verdict."""
    named = dimensions_named(raw, lang)
    if key in named:
        return key
    if named:
        return named[0]
    if key in ("expectation", "impact") and wish_like(shifted, lang):
        return "expectation"
    if key in ANSWERED_BY_NAMING and "situation" not in a.dimensions \
            and not (a.word_count <= 1 and a.sentiment_label != "neutral"):
        return key  # "speed" to "what matters most?": the thing named is the answer
    return None


def _verdict_told(a: MessageAnalysis, key: str, state: ConversationState, lang: str) -> bool:
    """A one-word verdict or emoji-only answer ("belachelijk", "🤬", "ridiculous") whose
    feeling another answer of the story already carries: nothing new to read back."""
    if a.word_count > 1 or a.aspects or a.sentiment_label == "neutral":
        return False
    return any(other != key and analyze_cached(text, lang).sentiment_label == a.sentiment_label
               for other, text in answer_texts(state))


def summary_body(state: ConversationState, lang: str) -> list[str]:
    """Each answer in the customer's words. A full statement stands on its own; a
    fragment ("dat het snel gaat") is labelled by what it says (its dimensions), or by
    the question it answered when its words name no dimension."""
    body: list[str] = []
    told: set[str] = set()
    for key, said in answer_texts(state):
        a = analyze_cached(said, lang)
        raw = strip_politeness(strip_markup(said))
        if a.dont_know or a.done_signal or a.gibberish or says_nothing_to_add(a) \
                or not raw or bare_yes_no(raw):
            continue  # answered, but nothing to add: "nee bedankt", "ja", "no thanks"
        if raw != said:
            a = analyze_cached(raw, lang)
        shifted = neutral_voice(clean(shift_pronouns(story_text(raw), lang)), lang)
        if not shifted:
            continue
        if fold(shifted) in told:
            continue  # the same words given to two questions: read back once
        told.add(fold(shifted))
        if key != "reason" and _verdict_told(a, key, state, lang):
            continue  # "belachelijk", "🤬" after a story that already says so
        if key == "reason" and a.vague and a.word_count <= 3:
            body.append(catalogue.text("summary_vague", lang, quote=clean(raw)))
            continue
        if is_statement(shifted, lang) or self_labelled(a, shifted):
            if speaks_for_company(shifted):  # "wij moeten beter luisteren": their view, not our word
                body.append(catalogue.text("summary_view", lang, text=shifted))
            else:
                body.append(sentence(shifted))
            continue
        label = summary_label(key, raw, shifted, lang, a)
        if label is None:
            body.append(sentence(shifted))
        else:
            body.append(catalogue.text(f"summary_lead.{label}", lang, text=lower_first(shifted)))
    return body


def summary_record(state: ConversationState) -> str:
    """The summary as it is stored: the score and the story, without the bot's intro and
    check question (what the customer is asked to confirm, word for word)."""
    lang = state_language(state)
    parts = []
    if state.score is not None:
        parts.append(catalogue.text("summary_score", lang, score=int(state.score)))
    parts.extend(summary_body(state, lang) or [catalogue.text("summary_empty", lang)])
    return " ".join(parts)


def summarise(state: ConversationState) -> str:
    """The story in the customer's own words, ending with a check question."""
    lang = state_language(state)
    intro = catalogue.text("summary_intro", lang, len(asked_dimensions(state)))
    return " ".join([intro, summary_record(state), catalogue.text("summary_check", lang)])


def _resummary_parts(state: ConversationState, correction: str) -> tuple[str, list[str]]:
    """(intro, story) of the summary after a correction: the correction is the
    authoritative version."""
    lang = state_language(state)
    corrected = clean(shift_pronouns(strip_politeness(strip_markup(correction or "")), lang), max_words=60)
    body = summary_body(state, lang) if corrected and len(corrected.split()) < RESTATEMENT_WORDS else []
    if body:
        parts = []
        if state.score is not None:
            parts.append(catalogue.text("summary_score", lang, score=int(state.score)))
        parts.extend(body)
        detail = lower_first(corrected)
        parts.append(catalogue.text("resummary_detail", lang,
                                    correction=detail + ("" if detail[-1] in ".!?…" else ".")))
        return catalogue.text("resummary_detail_intro", lang, len(state.asked)), parts
    intro = catalogue.text("resummary_intro", lang, len(state.asked))
    if corrected and intro.endswith(":") and not corrected.startswith(("I ", "I'")):
        corrected = corrected[:1].lower() + corrected[1:]
        return intro, [corrected + ("" if corrected[-1] in ".!?…" else ".")]
    return intro, [sentence(corrected) if corrected else catalogue.text("summary_empty", lang)]


def resummary_record(state: ConversationState, correction: str) -> str:
    """The corrected summary as it is stored, without the bot's intro and check question."""
    return cap(" ".join(_resummary_parts(state, correction)[1]))


def resummarise(state: ConversationState, correction: str) -> str:
    """Summary after a correction: the correction is the authoritative version."""
    intro, parts = _resummary_parts(state, correction)
    return " ".join([intro, *parts, catalogue.text("summary_check", state_language(state))])
