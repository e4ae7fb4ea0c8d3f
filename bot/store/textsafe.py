"""Making arbitrary customer input storable in SQLite *and* PostgreSQL, never crashing.

- NUL (U+0000) cannot be stored in PostgreSQL text/json, and lone surrogates
  (U+D800–U+DFFF, e.g. from a broken emoji) cannot be encoded as UTF-8 at all. Both are
  replaced with U+FFFD (the replacement character) on every database, so SQLite and
  PostgreSQL hold the same text. Everything else (emoji, RTL text, control characters,
  SQL- or HTML-looking text) is stored exactly.
- Messages longer than MAX_MESSAGE_CHARS (20,000) are cut to that length and get an
  explicit marker appended: "[… afgekapt: N tekens weggelaten / truncated: N characters
  omitted]". The full text is still in Rasa's tracker store.
"""
from __future__ import annotations

import re
from typing import Any

MAX_MESSAGE_CHARS = 20_000
MAX_METADATA_STRING_CHARS = 2_000
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def truncation_marker(omitted: int) -> str:
    return f" [… afgekapt: {omitted} tekens weggelaten / truncated: {omitted} characters omitted]"


def clean_text(value: Any, cap: int | None = MAX_MESSAGE_CHARS) -> str:
    """`value` as a string safe for both databases, cut at `cap` characters with a marker."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if _UNSTORABLE.search(value):
        value = _UNSTORABLE.sub(REPLACEMENT, value)
    if cap is not None and len(value) > cap:
        value = value[:cap] + truncation_marker(len(value) - cap)
    return value


def clean_optional(value: Any, cap: int | None = MAX_MESSAGE_CHARS) -> str | None:
    return None if value is None else clean_text(value, cap)


def clip(value: Any, length: int) -> str | None:
    """Short identifier-like strings (channel, language, contact): cleaned and cut to the column size."""
    if value is None:
        return None
    return clean_text(value, None)[:length]


def clean_json(value: Any, cap: int = MAX_METADATA_STRING_CHARS, _depth: int = 0) -> Any:
    """A JSON-serialisable copy of `value` with every string (keys too) cleaned."""
    if _depth > 20:
        return None
    if isinstance(value, str):
        return clean_text(value, cap)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {clean_text(k, 200): clean_json(v, cap, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [clean_json(v, cap, _depth + 1) for v in value]
    return clean_text(value, cap)
