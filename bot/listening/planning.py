"""Planning rules: which perspective dimension to ask about next.

Pure functions on ``ConversationState``: the same state always gives the same answer,
so a Rasa form can call them on every turn. The orders per band are in planning.yml.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .acknowledgement import negative_emotions
from .analysis import MessageAnalysis, analyze_cached, analyze_story
from .nlp import LANGUAGES, fold
from .wording import folded_words, says_nothing_to_add
from .wordtables import get, word_list, words

FOLLOWUP_DIMENSIONS = ("situation", "expectation", "impact", "priority", "in_our_place", "blind_spot")
ANSWER_ORDER = ("reason",) + FOLLOWUP_DIMENSIONS


@dataclass
class ConversationState:
    language: str = "nl"
    score: int | None = None
    answers: dict[str, str] = field(default_factory=dict)  # dimension -> customer text
    asked: list[str] = field(default_factory=list)  # follow-up dimensions asked, in order
    opened_with_story: bool = False
    done: bool = False  # the customer signalled they are done
    max_followups: int = 3


def state_language(state: ConversationState) -> str:
    return state.language if state.language in LANGUAGES else "nl"


def asked_dimensions(state: ConversationState) -> list[str]:
    """The follow-up dimensions asked so far, in order: ``state.asked`` plus every
    follow-up dimension that already has an answer (a slot can be filled before the
    caller records that its question was asked)."""
    asked = list(state.asked)
    asked += [d for d in state.answers if d in FOLLOWUP_DIMENSIONS and d not in asked]
    return asked


def questions_asked(state: ConversationState) -> int:
    """How many follow-up questions were asked, for the limit. An answer filed under another
    dimension than its question (``file_answer``) leaves its question without an answer of
    its own: that pair counts once. A slot filled before its question was recorded counts."""
    asked = list(state.asked)
    answered = {d for d in state.answers if d in FOLLOWUP_DIMENSIONS and (state.answers[d] or "").strip()}
    extra = len([d for d in answered if d not in asked])
    without_answer = len([d for d in asked if d not in answered])
    return len(asked) + max(0, extra - without_answer)


def _unanswered(state: ConversationState) -> int:
    """Questions asked whose answer was stored empty ("nothing to add"), not counting the
    questions whose answer was filed under another dimension."""
    answered = {d for d in state.answers if d in FOLLOWUP_DIMENSIONS and (state.answers[d] or "").strip()}
    without_answer = len([d for d in state.asked if d not in answered])
    filed_elsewhere = len([d for d in answered if d not in state.asked])
    return max(0, without_answer - filed_elsewhere)


def answer_texts(state: ConversationState) -> list[tuple[str, str]]:
    """(dimension, text) of all non-empty answers, in conversation order."""
    out = [(k, state.answers[k]) for k in ANSWER_ORDER if (state.answers.get(k) or "").strip()]
    out += [(k, v) for k, v in state.answers.items()
            if k not in ANSWER_ORDER and (v or "").strip()]
    # follow-up answers are better ordered by when they were asked
    asked_rank = {d: i for i, d in enumerate(asked_dimensions(state))}
    out.sort(key=lambda kv: (0 if kv[0] not in asked_rank else 1, asked_rank.get(kv[0], 0)))
    return out


def band(state: ConversationState, analyses: list[MessageAnalysis]) -> str:
    """detractor (0-6), passive (7-8) or promoter (9-10); without a score, by sentiment."""
    if state.score is not None:
        if state.score <= 6:
            return "detractor"
        if state.score <= 8:
            return "passive"
        return "promoter"
    labels = [a.sentiment_label for a in analyses]
    if "negative" in labels or "mixed" in labels:
        return "detractor"
    if "positive" in labels:
        return "promoter"
    return "passive"


def state_band(state: ConversationState) -> str:
    lang = state_language(state)
    return band(state, [analyze_cached(t, lang) for _, t in answer_texts(state)])


def covered_dimensions(state: ConversationState) -> set[str]:
    """Dimensions whose content the customer already gave, in any answer."""
    lang = state_language(state)
    covered = {k for k in state.answers if k in FOLLOWUP_DIMENSIONS}
    for _, t in answer_texts(state):
        covered |= analyze_cached(t, lang).dimensions
        covered |= set(dimensions_said(t, lang))  # planning.yml cues ("I was hoping for")
    return covered


def _tells(text: str, lang: str) -> bool:
    """A sentence with its own subject: it tells what happened ("de monteur kwam niet")."""
    ws = folded_words(text)
    return bool(ws) and (ws[0] in words("wording", lang, "subjects") or ws[0] in ("ik", "i", "my", "mijn", "m'n"))


def plan_next_dimension(state: ConversationState) -> str | None:
    """The most valuable missing perspective dimension, or None to go to verification."""
    asked = asked_dimensions(state)
    if state.done or questions_asked(state) >= max(0, state.max_followups):
        return None
    lang = state_language(state)
    texts = answer_texts(state)
    analyses = [analyze_cached(t, lang) for _, t in texts]
    if analyses and analyses[-1].done_signal:
        return None
    followup = [analyze_cached(t, lang) for k, t in texts if k in FOLLOWUP_DIMENSIONS]
    if any(a.done_signal for a in followup):
        return None  # the customer said "dat was het" (the order of answers may be unknown)
    # "weet ik niet" and "nee bedankt" (nothing to add): after two of them, stop asking. The
    # form stores those as "" (no answer of their own): an asked question without an
    # answer that is not paired with an answer filed elsewhere (file_answer) is one of them.
    nothing = sum(a.dont_know or says_nothing_to_add(a) for a in analyses) + _unanswered(state)
    if nothing >= 2 and asked:
        return None
    covered = covered_dimensions(state) | set(asked)
    story = [a for a in analyses if not a.dont_know and not a.done_signal and not says_nothing_to_add(a)]
    story_words = sum(a.word_count for a in story)
    who = band(state, analyses)
    # A concrete story (times, counts, places: what happened is told) is not asked "what
    # happened?"; nor is a passive's or promoter's short but clear reason ("quick delivery
    # and friendly staff").
    concrete = any(a.details for a in story) or "situation" in covered
    if who == "detractor":
        # vague: only generic verdicts ("slecht", "not great tbh"); a told event ("the
        # engineer never showed up", "het eten was koud") is concrete
        told = any(a.word_count >= 5 and _tells(a.text, lang) for a in story)
        vague = not story or (all(a.vague for a in story) and not concrete and not told)
    else:  # praise needs no "what happened": only a bare verdict ("prima", "goed") is vague
        vague = not story or (story_words <= 3 and not concrete and not any(a.aspects for a in story))
    if vague and "situation" not in covered:
        return "situation"
    if {"expectation", "impact"} <= covered and covered & {"priority", "in_our_place"}:
        return None  # the story is complete enough
    for dim in word_list("planning", "order", who):
        if dim not in covered:
            return dim
    return None


def question_key(state: ConversationState, dimension: str) -> str:
    """The catalogue key of the question for ``dimension``: a passive is asked what would
    have made it a 9 or 10, a promoter what made the difference (planning.yml)."""
    keys = get("planning", "question_keys").get(state_band(state)) or {}
    return keys.get(dimension, f"q_{dimension}")


def _cues(lang: str) -> dict[str, list[str]]:
    return get("planning", "refile", lang)


def dimensions_said(text: str, language: str) -> list[str]:
    """The perspectives ``text`` clearly gives by its own words (refile cues), in the order
    of FOLLOWUP_DIMENSIONS."""
    lang = language if language in LANGUAGES else "nl"
    folded = " " + " ".join(folded_words(text)) + " "
    return [dim for dim in FOLLOWUP_DIMENSIONS
            if any(f" {' '.join(fold(c).split())} " in folded for c in _cues(lang).get(dim, ()))]


def file_answer(asked: str, text: str, language: str, answers: dict[str, str] | None = None) -> str:
    """The dimension an answer to the ``asked`` question is stored under: the one it clearly
    gives when that is not what was asked and not answered yet ("Het meest teleurstellend
    vind ik dat niemand terugbelde" to the priority question is impact); else ``asked``.
    The question asked still counts as answered."""
    if asked not in FOLLOWUP_DIMENSIONS:
        return asked
    said = dimensions_said(text, language)
    if not said or asked in said:
        return asked
    answers = answers or {}
    for dim in said:
        if dim != "situation" and not (answers.get(dim) or "").strip():
            return dim
    return asked


def needs_follow_up_offer(state: ConversationState, *analyses: MessageAnalysis) -> bool:
    """Offer a person's follow-up: score <= 6, negative sentiment, or an open question."""
    if state.score is not None and state.score <= 6:
        return True
    lang = state_language(state)
    if not analyses:
        analyses = tuple(analyze_cached(t, lang) for _, t in answer_texts(state))
    if any(a.sentiment_label == "negative" or a.question for a in analyses):
        return True
    if any(m.emotion in negative_emotions() for a in analyses for m in a.emotions):
        return True  # "I'm disappointed": an unhappy customer is offered a person
    texts = [t for _, t in answer_texts(state)]
    if texts and analyze_story(texts, lang).sentiment == "negative":
        return True
    return False
