"""Planning rules: which perspective dimension to ask about next.

Pure functions on ``ConversationState``: the same state always gives the same answer,
so a Rasa form can call them on every turn. The orders per band are in planning.yml.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .acknowledgement import negative_emotions
from .analysis import MessageAnalysis, analyze_cached, analyze_story
from .nlp import LANGUAGES
from .wordtables import word_list

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
    return covered


def plan_next_dimension(state: ConversationState) -> str | None:
    """The most valuable missing perspective dimension, or None to go to verification."""
    asked = asked_dimensions(state)
    if state.done or len(asked) >= max(0, state.max_followups):
        return None
    lang = state_language(state)
    texts = answer_texts(state)
    analyses = [analyze_cached(t, lang) for _, t in texts]
    if analyses and analyses[-1].done_signal:
        return None
    followup = [analyze_cached(t, lang) for k, t in texts if k in FOLLOWUP_DIMENSIONS]
    if any(a.done_signal for a in followup):
        return None  # the customer said "dat was het" (the order of answers may be unknown)
    if len(analyses) >= 2 and analyses[-1].dont_know and analyses[-2].dont_know and asked:
        return None  # two "don't know" answers in a row: stop asking
    if sum(a.dont_know for a in analyses) >= 2 and asked:
        return None
    covered = covered_dimensions(state) | set(asked)
    story = [a for a in analyses if not a.dont_know and not a.done_signal]
    story_words = sum(a.word_count for a in story)
    who = band(state, analyses)
    # A promoter's short but clear reason ("quick delivery and friendly staff") is not vague.
    short = story_words < 8 and not (who == "promoter" and any(a.aspects for a in story))
    vague = not story or all(a.vague for a in story) or short
    if vague and "situation" not in covered:
        return "situation"
    if {"expectation", "impact"} <= covered and covered & {"priority", "in_our_place"}:
        return None  # the story is complete enough
    for dim in word_list("planning", "order", who):
        if dim not in covered:
            return dim
    return None


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
