"""Language detection: nl or en, from function words and common customer words.

Deterministic and cheap (no spaCy). Short or neutral messages ("ok", "8", "👍") keep
the previous language, so a conversation only switches when the customer clearly does.
"""
from __future__ import annotations

import re

from .nlp import LANGUAGES, fold

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Dutch spelling patterns that rarely occur in English words
_NL_SHAPE = re.compile(r"(?:ij|oe[^sy]|aa|uu|sch|eeu|ui)")


def _default(previous: str | None) -> str:
    if previous in LANGUAGES:
        return previous
    try:
        from bot.config import default_language

        lang = default_language()
    except Exception:  # pragma: no cover - config is optional for this package
        lang = "nl"
    return lang if lang in LANGUAGES else "nl"


def language_scores(text: str) -> dict[str, int]:
    """Marker-word hits per language (for explaining a decision)."""
    from .lexicon import markers as _markers

    markers = _markers()
    tokens = _TOKEN.findall(fold(text or "").replace("’", "'"))
    scores = {lang: 0 for lang in LANGUAGES}
    for tok in tokens:
        for lang in LANGUAGES:
            if tok in markers[lang]:
                scores[lang] += 1
    return scores


def _decided(text: str) -> str | None:
    """"nl" or "en" when the words clearly say so; None for short or neutral texts.

    A message of one or two words must contain at least two marker words more of the
    other language ("thank you" decides, "yes" or "ok" does not).
    """
    folded = fold(text or "").replace("’", "'")
    tokens = _TOKEN.findall(folded)
    if not tokens:
        return None
    scores = language_scores(text)
    nl, en = scores["nl"], scores["en"]
    if len(tokens) >= 4:
        # weak tie-breaker: Dutch letter patterns in words no list knows
        shape = sum(1 for t in tokens if _NL_SHAPE.search(t) and t not in ("you", "your", "yours", "soon", "too", "good", "food", "book"))
        nl_total, en_total = nl * 2 + shape, en * 2
    else:
        nl_total, en_total = nl * 2, en * 2
    diff = nl_total - en_total
    needed = 4 if len(tokens) <= 2 else 2
    if diff >= needed:
        return "nl"
    if -diff >= needed:
        return "en"
    return None


def detect_language(text: str, previous: str | None = None) -> str:
    """Return "nl" or "en" for ``text``; ties and short neutral texts keep ``previous``."""
    return _decided(text) or _default(previous)


def greeting_language(text: str) -> str | None:
    """The language a greeting names ("hello" en, "hoi" nl), from the message's first words."""
    from .lexicon import opening_greetings

    raw = _TOKEN.findall(fold(text or "").replace("’", "'"))
    greetings = opening_greetings()
    # as typed, then with a repeated last letter once ("heyy", "hoiii", "hellooo")
    for tokens in (raw, [re.sub(r"(.)\1+$", r"\1", t) for t in raw]):
        for n in (3, 2, 1):
            if len(tokens) < n:
                continue
            start = " ".join(tokens[:n])
            for lang in LANGUAGES:
                if start in greetings[lang]:
                    return lang
    return None


def opening_language(text: str, hint: str | None = None) -> str:
    """The language of a conversation's first message. The channel's hint (the widget
    sends the browser's language) wins unless the message itself clearly says otherwise;
    without a hint a greeting names its language ("hello" opens in English, "hoi" in
    Dutch); otherwise the configured default."""
    if hint in LANGUAGES:
        return detect_language(text, previous=hint)
    return _decided(text) or greeting_language(text) or _default(None)
