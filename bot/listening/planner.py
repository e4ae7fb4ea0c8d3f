"""The listening planner: which perspective to ask about next, and how to say it.

This module composes one bot turn (acknowledgement + one open question) from the parts:

- ``planning``         which dimension next (planning.yml)
- ``acknowledgement``  the reflection of the customer's message (wording.yml)
- ``shifting``         pronoun and verb shifting (shifting.yml)
- ``confirmation``     yes / no / correction after the summary (confirmation.yml)
- ``summary``          the story told back for the customer to check

The public names of those modules stay importable from here. Nothing imports Rasa.
"""
from __future__ import annotations

from . import catalogue
from .acknowledgement import (  # noqa: F401 (re-exported)
    ANSWER_FRAGMENT_DIMENSIONS,
    WISH_DIMENSIONS,
    acknowledge,
    acknowledge_analysis,
)
from .analysis import analyze_cached
from .confirmation import interpret_confirmation, says_nothing_is_wrong  # noqa: F401 (re-exported)
from .planning import (  # noqa: F401 (re-exported)
    ANSWER_ORDER,
    FOLLOWUP_DIMENSIONS,
    ConversationState,
    answer_texts,
    asked_dimensions,
    covered_dimensions,
    dimensions_said,
    file_answer,
    needs_follow_up_offer,
    plan_next_dimension,
    question_key,
    state_band,
    state_language,
)
from .score import parse_score
from .shifting import shift_pronouns  # noqa: F401 (re-exported)
from .summary import (  # noqa: F401 (re-exported)
    RESTATEMENT_WORDS,
    resummarise,
    resummary_record,
    summarise,
    summary_record,
)
from .wording import WORD


def _answered_dimension(state: ConversationState, last_text: str, asked: list[str]) -> str | None:
    """The dimension ``last_text`` answers: the one whose stored answer it is, else the
    last one asked."""
    if last_text:
        for dim in reversed(asked):
            if (state.answers.get(dim) or "").strip() == last_text.strip():
                return dim
        if (state.answers.get("reason") or "").strip() == last_text.strip():
            return None
    return asked[-1] if asked else None


def compose_acknowledgement(state: ConversationState, last_text: str) -> str:
    """Only the acknowledgement of ``last_text`` (may be empty): e.g. to put before
    ``text("opening_after_story", ...)`` for a customer who opened with their story."""
    lang = state_language(state)
    asked = asked_dimensions(state)
    answered = _answered_dimension(state, last_text, asked)
    return acknowledge_analysis(analyze_cached(last_text or "", lang), lang, len(asked), answered,
                                state_band(state))


def _bare_score(text: str) -> int | None:
    """The score when ``text`` is nothing but a score ("6", "een dikke 7", "8/10")."""
    if not text or len(WORD.findall(text)) > 4 or analyze_cached(text).aspects:
        return None  # "delivered fast tbh, gr8" is a story, not a score
    result = parse_score(text)
    return result.value if result.ok else None


def compose_followup(state: ConversationState, dimension: str, last_text: str, again: bool = False,
                     unreadable: bool = False) -> str:
    """Acknowledge ``last_text`` in the customer's words, then ask ONE open question.

    ``again=True`` is for asking the same question after an interruption (why-ask,
    abuse, a question the bot cannot answer): no acknowledgement, and other words than
    the first time, so the bot never repeats itself word for word. ``unreadable=True`` (the
    answer could not be read) adds how short an answer may be, with an example."""
    if dimension not in FOLLOWUP_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    lang = state_language(state)
    asked = asked_dimensions(state)
    if dimension in asked and not (state.answers.get(dimension) or "").strip():
        asked.remove(dimension)  # the caller already recorded the question being asked now
    turn = len(asked)
    score = _bare_score(last_text or "")
    if again:
        ack = catalogue.text("reask_hint", lang, turn) if unreadable else ""
    elif score is not None and state.answers.get("reason"):
        ack = catalogue.text("ack_score", lang, turn, score=score)  # the score came after the story
    else:
        a = analyze_cached(last_text or "", lang)
        ack = acknowledge_analysis(a, lang, turn, _answered_dimension(state, last_text, asked), state_band(state))
    key = question_key(state, dimension)
    question = catalogue.text(key, lang, turn + len(state.answers) + (1 if again else 0))
    return f"{ack} {question}".strip()


def compose_reason_question(state: ConversationState, again: bool = False, unreadable: bool = False) -> str:
    """"Wat is de belangrijkste reden voor je 4?" — or a variant without a score.

    ``again=True`` asks it once more after an interruption, without thanking for the
    score a second time and in other words than the first time."""
    lang = state_language(state)
    hint = catalogue.text("reask_hint", lang, len(state.answers)) + " " if again and unreadable else ""
    if state.score is None:
        return hint + catalogue.text("ask_reason_no_score", lang, len(state.answers) + (1 if again else 0))
    if again:
        return hint + catalogue.text("ask_reason_again", lang, int(state.score), score=int(state.score))
    return catalogue.text("ask_reason", lang, int(state.score), score=int(state.score))
