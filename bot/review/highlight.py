"""Highlight the customer's aspect and emotion words in a transcript message.

Offsets come from `bot.listening.analyze(text)` mentions (start/end character offsets). The text
is cut into plain segments and each segment is escaped on its own; only our own <mark> tags are
added around escaped segments. Raw customer HTML is never marked up.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Optional

from markupsafe import Markup, escape

log = logging.getLogger(__name__)

_ANALYZE: list = []  # [analyze or None], imported on first use (spaCy start-up is slow)


def _analyzer():
    if not _ANALYZE:
        fn = None
        try:  # bot/listening is built by another engineer; the review app works without it
            from bot.listening.analysis import analyze as fn  # type: ignore
        except Exception:  # pragma: no cover - depends on the checkout
            try:
                from bot.listening import analyze as fn  # type: ignore
            except Exception:
                log.warning("highlight: bot.listening.analyze is not available; no highlighting")
                fn = None
        _ANALYZE.append(fn)
    return _ANALYZE[0]


def _get(obj: Any, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def mentions(text: str, language: Optional[str] = None) -> list[tuple[int, int, str, str]]:
    """[(start, end, kind, label)] for aspect and emotion mentions, sorted, non-overlapping.

    Uses `analyze(text, language)`: its `aspects` (AspectMention: aspect, start, end) and
    `emotions` (EmotionMention: emotion, start, end); a generic `mentions` list is accepted too."""
    if not text or not text.strip():
        return []
    analyze = _analyzer()
    if analyze is None:
        return []
    try:
        result = analyze(text, language)
    except Exception:  # analysis must never break the story page
        log.exception("highlight: analyze failed")
        return []
    found = []
    groups = (
        ("aspect", _get(result, "aspects", None) or []),
        ("emotion", _get(result, "emotions", None) or []),
        ("mention", _get(result, "mentions", None) or []),
    )
    for kind, items in groups:
        for m in items:
            if isinstance(m, str):
                continue
            start, end = _get(m, "start"), _get(m, "end")
            if not isinstance(start, int) or not isinstance(end, int) or not (0 <= start < end <= len(text)):
                continue
            k = str(_get(m, "kind", None) or kind)
            label = str(_get(m, "aspect", None) or _get(m, "emotion", None) or _get(m, "label", None) or k)
            found.append((start, end, k, label))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out, last_end = [], 0
    for item in found:
        if item[0] >= last_end:
            out.append(item)
            last_end = item[1]
    return out


def highlight(text: str, spans: Iterable[tuple[int, int, str, str]]) -> Markup:
    """Escaped `text` with each span wrapped in <mark class="hl-KIND" title="LABEL">, the whole
    in <bdi dir="auto"> (bidirectional isolation)."""
    parts: list[str] = []
    pos = 0
    for start, end, kind, label in spans:
        if start < pos:
            continue
        parts.append(str(escape(text[pos:start])))
        css = "hl-emotion" if "emotion" in kind else "hl-aspect"
        parts.append(
            f'<mark class="{css}" title="{escape(kind)}: {escape(label)}">{escape(text[start:end])}</mark>'
        )
        pos = end
    parts.append(str(escape(text[pos:])))
    # isolated: right-to-left text or an override character cannot reorder what follows
    return Markup('<bdi dir="auto">' + "".join(parts) + "</bdi>")
