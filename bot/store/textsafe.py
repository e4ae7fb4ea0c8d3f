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


# ---------------------------------------------------------------------------- matching form
# Characters that render as nothing but split a word for a regular expression: zero-width
# spaces and joiners, word joiner, invisible operators, BOM, soft hyphen, Mongolian vowel
# separator, and the bidirectional embedding/override/isolate controls.
INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
                      "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cyrillic and Greek letters that look like Latin ones (Unicode TR39 confusables, the ones
# that occur in e-mail addresses and names in practice).
CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "А": "A", "В": "B", "Е": "E", "К": "K",
    "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "Α": "A", "Β": "B", "Ε": "E",
    "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X",
    "Υ": "Y",
})


def match_form(text: str):
    """(normalised text, positions) for pattern matching: invisible characters dropped, NFKC
    (fullwidth ＠ → @, ligatures) and Latin look-alikes mapped to Latin. positions[i] is the
    index in `text` of normalised character i (None when `text` is plain ASCII: unchanged)."""
    import unicodedata

    if text.isascii():
        return text, None
    out: list = []
    positions: list = []
    for i, ch in enumerate(text):
        if ch in INVISIBLE:
            continue
        mapped = unicodedata.normalize("NFKC", ch).translate(CONFUSABLES) if ord(ch) > 127 else ch
        for piece in mapped:
            out.append(piece)
            positions.append(i)
    return "".join(out), positions


# ---------------------------------------------------------------------------- bidi isolation
# Bidirectional controls (LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, LRM/RLM/ALM) and right-to-left
# letters (Hebrew, Arabic, Syriac, Thaana, NKo, …): text holding them can reorder what is shown
# around it ("Klant\u202egnp.exe" shows as "Klantexe.png").
_BIDI_SENSITIVE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]")
FSI, PDI = "\u2068", "\u2069"


def needs_isolation(text: Any) -> bool:
    return isinstance(text, str) and bool(_BIDI_SENSITIVE.search(text))


def isolate(text: Any) -> Any:
    """`text` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE when it holds bidi controls
    or right-to-left letters: its direction is its own, and an override inside ends at the PDI
    (Unicode bidi algorithm, UAX #9). Works in HTML text and attributes, CSV cells and plain text."""
    return FSI + text + PDI if needs_isolation(text) else text
