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

try:  # bot/listening is built by another engineer; the review app works without it
    from bot.listening import analyze as _analyze  # type: ignore
except Exception:  # pragma: no cover - depends on the checkout
    _analyze = None


def _get(obj: Any, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def mentions(text: str, language: Optional[str] = None) -> list[tuple[int, int, str, str]]:
    """[(start, end, kind, label)] for aspect/emotion mentions, sorted, non-overlapping."""
    if _analyze is None or not text:
        return []
    try:
        try:
            result = _analyze(text, language) if language else _analyze(text)
        except TypeError:
            result = _analyze(text)
    except Exception:  # analysis must never break the story page
        log.exception("highlight: analyze failed")
        return []
    found = []
    for m in _get(result, "mentions", None) or []:
        start, end = _get(m, "start"), _get(m, "end")
        if not isinstance(start, int) or not isinstance(end, int) or not (0 <= start < end <= len(text)):
            continue
        kind = str(_get(m, "kind", None) or _get(m, "type", None) or "aspect")
        label = str(_get(m, "label", None) or _get(m, "aspect", None) or _get(m, "emotion", None)
                    or _get(m, "name", None) or kind)
        found.append((start, end, kind, label))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out, last_end = [], 0
    for item in found:
        if item[0] >= last_end:
            out.append(item)
            last_end = item[1]
    return out


def highlight(text: str, spans: Iterable[tuple[int, int, str, str]]) -> Markup:
    """Escaped `text` with each span wrapped in <mark class="hl-KIND" title="LABEL">."""
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
    return Markup("".join(parts))
