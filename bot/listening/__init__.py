"""Listening: message analysis, score parsing, the perspective planner and the bot's
texts (nl/en). Deterministic and configurable without retraining:

- ``lexicon.yml``  aspects per company (override with GEHOOR_LEXICON)
- ``signals.yml``  sentiment, emotions, dimensions, repeat contact, ... (GEHOOR_SIGNALS)
- ``catalogue/``   every bot text per language (GEHOOR_CATALOGUE_DIR)

No Rasa imports here; the action server calls these functions. See docs/listening.md.
"""
from .analysis import (
    AspectMention,
    EmotionMention,
    MessageAnalysis,
    StoryAnalysis,
    analyze,
    analyze_cached,
    analyze_story,
)
from .catalogue import text
from .language import detect_language
from .lexicon import DIMENSIONS, reload as reload_lexicon
from .planner import (
    FOLLOWUP_DIMENSIONS,
    ConversationState,
    acknowledge,
    compose_acknowledgement,
    compose_followup,
    compose_reason_question,
    covered_dimensions,
    file_answer,
    interpret_confirmation,
    needs_follow_up_offer,
    plan_next_dimension,
    resummarise,
    says_nothing_is_wrong,
    summarise,
)
from .score import ScoreResult, parse_score


def warm_up() -> None:
    """Build the spaCy pipelines, lexicons and catalogues now (a few seconds) instead
    of on the first customer message. Call once when the action server starts."""
    from . import catalogue as _catalogue

    for lang in ("nl", "en"):
        analyze("warm up", lang)
        _catalogue.load(lang)

__all__ = [
    "AspectMention", "EmotionMention", "MessageAnalysis", "StoryAnalysis", "analyze", "analyze_cached",
    "analyze_story", "text", "detect_language", "DIMENSIONS", "reload_lexicon",
    "FOLLOWUP_DIMENSIONS", "ConversationState", "acknowledge", "compose_acknowledgement", "compose_followup", "compose_reason_question",
    "covered_dimensions", "file_answer", "interpret_confirmation", "needs_follow_up_offer", "says_nothing_is_wrong",
    "plan_next_dimension", "resummarise", "summarise", "ScoreResult", "parse_score", "warm_up",
]
