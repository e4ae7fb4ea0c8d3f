"""Yes/no interpretation of a reply to the summary, and "nothing is wrong" after "what
did I get wrong?". The word tables are in confirmation.yml."""
from __future__ import annotations

import re
from functools import lru_cache

from .analysis import analyze_cached
from .nlp import fold
from .wording import WORD, folded_words
from .wordtables import get, word_list, words


def _prefix_pattern(phrase: str) -> re.Pattern:
    return re.compile(r"\s*[,.!;:-]*\s*".join(re.escape(w) for w in phrase.split()) + r"(?![\w'])")


@lru_cache(maxsize=4)
def _patterns(yes: tuple[str, ...], no: tuple[str, ...], cues: tuple[str, ...], yes_but: tuple[str, ...],
              no_but: tuple[str, ...], nothing_wrong: tuple[str, ...]) -> dict:
    by_length = lambda phrases: sorted((fold(p) for p in phrases), key=len, reverse=True)  # noqa: E731
    return {
        "yes": [_prefix_pattern(p) for p in by_length(yes)],
        "no": [_prefix_pattern(p) for p in by_length(no)],
        "cues": re.compile(r"\b(" + "|".join(cues) + r")\b"),
        "yes_but": re.compile(r"^(?:" + "|".join(map(re.escape, yes_but)) + r")\b[\s,]*(.*)$",
                              re.IGNORECASE | re.DOTALL),
        "no_but": re.compile(r"^(?:" + "|".join(map(re.escape, no_but)) + r")\b[\s,]*", re.IGNORECASE),
        "nothing_wrong": [re.compile(p) for p in nothing_wrong],
    }


def patterns() -> dict:
    return _patterns(word_list("confirmation", "yes"), word_list("confirmation", "no"),
                     word_list("confirmation", "correction_cues"), word_list("confirmation", "yes_but"),
                     word_list("confirmation", "no_but"), word_list("confirmation", "nothing_wrong"))


def _strip_prefix(text: str, folded: str, lead: int, phrase: re.Pattern) -> str | None:
    """If ``folded`` (``text`` folded) starts with ``phrase`` (whole words) after ``lead``
    leading spaces and punctuation, the original rest."""
    m = phrase.match(folded, lead)
    if not m:
        return None
    rest = text[m.end():]
    return rest.lstrip(" ,.!;:-–—").strip()


def interpret_confirmation(text: str) -> tuple[str, str | None]:
    """The customer's reply to a summary: ("yes"|"no"|"correction"|"unclear", correction)."""
    raw = (text or "").strip()
    if not raw:
        return "unclear", None
    if raw in words("confirmation", "yes_emoji"):
        return "yes", None
    if raw in words("confirmation", "no_emoji"):
        return "no", None
    p = patterns()
    folded = fold(raw).replace("’", "'")
    lead = re.match(r"[\s\W_]*", folded).end()
    for phrase in p["no"]:
        rest = _strip_prefix(raw, folded, lead, phrase)
        if rest is None:
            continue
        rest = p["no_but"].sub("", rest).strip()
        if rest and analyze_cached(rest).done_signal:
            return "no", None  # "nee, dat was het"
        if len(WORD.findall(rest)) >= 2:
            return "correction", rest
        return "no", None
    if analyze_cached(raw).done_signal:
        return "yes", None  # "dat was het" / "that's all": nothing to correct
    thanks_only = words("confirmation", "thanks_only")
    for phrase in p["yes"]:
        rest = _strip_prefix(raw, folded, lead, phrase)
        if rest is None:
            continue
        rest_words = " ".join(fold(w) for w in WORD.findall(rest))
        if rest and analyze_cached(rest).done_signal:
            return "yes", None  # "ja, dat was het"
        if not rest_words or rest_words in thanks_only or all(w in thanks_only for w in rest_words.split()):
            return "yes", None
        m = p["yes_but"].match(rest)
        if m and len(WORD.findall(m.group(1))) >= 2:
            return "correction", m.group(1).strip()
        if len(rest_words.split()) <= 2:
            return "yes", None
        return "correction", rest
    if "?" in raw:
        return "unclear", None
    n_words = len(WORD.findall(raw))
    if n_words >= 4 or (n_words >= 2 and p["cues"].search(fold(raw))):
        return "correction", raw
    return "unclear", None


def bare_reply(text: str) -> bool:
    """"ja", "nee bedankt", "ok", "no thanks": a yes, no or refusal and nothing more. After
    "what did I get wrong?" it says neither that the summary was right nor what was wrong."""
    said = folded_words(text)
    return bool(said) and all(w in words("confirmation", "bare_words") for w in said)


def says_nothing_is_wrong(text: str) -> bool:
    """"klopt", "het klopt wel", "nee niks", "that's correct" — not "het was de bezorger",
    and not a bare "ja" or "nee bedankt" (bare_reply: the customer said no to the summary)."""
    if bare_reply(text):
        return False
    if interpret_confirmation(text)[0] == "yes":
        return True
    joined = " ".join(folded_words(text))
    # "nothing, it was right": both halves say so
    rest = re.sub(get("confirmation", "nothing_prefix"), "", joined)
    return bool(joined) and any(pattern.match(candidate) for pattern in patterns()["nothing_wrong"]
                                for candidate in {joined, rest})
