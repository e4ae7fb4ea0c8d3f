"""Shared phrasing helpers for acknowledgements and summaries: sentences, fragments,
statements, quotes. The word tables are in wording.yml."""
from __future__ import annotations

import re
from functools import lru_cache

from .analysis import MessageAnalysis
from .nlp import fold
from .shifting import strip_markup
from .wordtables import get, word_list, words

WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n")


def folded_words(text: str) -> list[str]:
    return [fold(w).replace("’", "'") for w in WORD.findall(text or "")]


@lru_cache(maxsize=1)
def _leading_filler(key: tuple) -> re.Pattern:
    fillers = "|".join(re.escape(w) for w in word_list("wording", "leading_filler"))
    return re.compile(
        r"^\s*(?:(?:" + fillers + r"|to be honest|eerlijk gezegd(?=\s*,))\b[\s,.:;-]*)+", re.IGNORECASE)


def leading_filler() -> re.Pattern:
    return _leading_filler(word_list("wording", "leading_filler"))


def cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def lower_first(s: str) -> str:
    """Lower-case the first letter for use inside a sentence; English "I" stays."""
    return s if s.startswith(("I ", "I'")) else s[:1].lower() + s[1:]


def clean(text: str, max_words: int = 30) -> str:
    t = " ".join(text.split())
    t = leading_filler().sub("", t)
    t = t.strip().rstrip(".!?;,: ")
    ws = t.split()
    if len(ws) > max_words:
        t = " ".join(ws[:max_words]) + "…"
    return t


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = re.sub(r"([.!?]\s+)([a-zà-ÿ])", lambda m: m.group(1) + m.group(2).upper(), text)
    return cap(text) + ("" if text[-1] in ".!?…" else ".")


def quote(text: str, max_words: int = 10) -> str:
    text = strip_markup(text)  # never "<script>…" said back
    first = _SENTENCE_SPLIT.split(text.strip())[0].strip()
    first = first.rstrip(".!?;,: ")
    ws = first.split()
    if len(ws) > max_words:
        return " ".join(ws[:max_words]) + "…"
    return first


def story_text(text: str) -> str:
    """``text`` without the questions it asks the bot ("sorry, can I continue in English?
    I expected him in the morning" -> the second sentence), unless it is only questions."""
    sentences = [p for p in _SENTENCE_SPLIT.split((text or "").strip()) if p.strip()]
    kept = [p for p in sentences if not p.rstrip().endswith("?")]
    return " ".join(kept) if kept and len(kept) < len(sentences) else (text or "")


def first_sentence(text: str) -> str:
    return _SENTENCE_SPLIT.split(story_text(text).strip())[0]


def is_statement(shifted: str, lang: str) -> bool:
    """True for a sentence with its own subject ("de levering was te laat", "it cost you a
    day"); False for a fragment that only makes sense after the question ("speed",
    "dat het snel gaat", "knowing when it arrives")."""
    ws = folded_words(shifted)
    if len(ws) < 3:
        return False
    if ws[0] == get("wording", lang, "that"):
        return ws[1] in words("wording", lang, "verbs_after_that")
    return ws[0] in words("wording", lang, "subjects")


def speaks_for_company(shifted: str) -> bool:
    """"wij moeten beter luisteren": the customer's view of what we should do."""
    ws = folded_words(shifted)
    return bool(ws) and ws[0] in words("wording", "company_subjects")


def wish_like(fragment: str, lang: str) -> bool:
    """"dat ze eerlijk zeggen wanneer hij komt", "that they just tell you": a wish about
    what others should do, not what it meant for the customer ("dat je er niet op kunt
    rekenen")."""
    ws = folded_words(fragment)
    return len(ws) >= 3 and ws[0] == get("wording", lang, "that") \
        and ws[1] not in words("wording", "about_customer")


def self_labelled(a: MessageAnalysis, shifted: str) -> bool:
    """A text that names its own perspective about the customer ("snelheid vind je het
    belangrijkste", "het kost je vertrouwen"): it reads well on its own."""
    if not (a.dimensions - {"situation"}):
        return False
    ws = set(folded_words(shifted))
    return len(ws) >= 3 and bool(ws & (words("wording", "about_customer") - {"ik", "i"}))


def bare_yes_no(text: str, lang: str = "nl") -> bool:
    """"ja", "no", "yes ok": an answer that says nothing on its own after an open question."""
    ws = [fold(w) for w in WORD.findall(text or "")]
    return 0 < len(ws) <= 2 and all(w in words("wording", lang if lang in ("nl", "en") else "nl", "yes_no")
                                    for w in ws)


@lru_cache(maxsize=2)
def _politeness(greetings: tuple[str, ...], thanks: tuple[str, ...]) -> tuple[re.Pattern, re.Pattern]:
    def alternation(phrases):
        return "|".join(r"\s+".join(map(re.escape, p.split())) for p in sorted(phrases, key=len, reverse=True))
    lead = re.compile(r"^\s*(?:(?:" + alternation(greetings) + r")\b[\s,.!:;-]*)+", re.IGNORECASE)
    tail = re.compile(r"(?:[\s,.!;:-]*\b(?:" + alternation(thanks) + r"))+[\s,.!;:)-]*$", re.IGNORECASE)
    return lead, tail


def strip_politeness(text: str) -> str:
    """``text`` without a greeting before it or thanks after it: "Hoi, de monteur kwam
    niet" -> "de monteur kwam niet"; "goed, dank je!" -> "goed". A message that is only
    politeness becomes empty."""
    lead, tail = _politeness(word_list("wording", "greetings"), word_list("wording", "thanks"))
    sentences = [p for p in re.split(r"(?<=[.!?])\s+|\n", (text or "").strip()) if p.strip()]
    kept = []
    for sentence in sentences:
        rest = tail.sub("", lead.sub("", sentence)).strip()
        if rest:
            kept.append(rest)
    return " ".join(kept)


def says_nothing_to_add(a: MessageAnalysis) -> bool:
    """"nee bedankt", "niet echt", "not that I can think of": answered, with nothing to add."""
    if getattr(a, "nothing_to_add", False):
        return True
    said = " ".join(folded_words(strip_politeness(a.text) or a.text))
    return said in words("wording", "nothing_to_add") or bare_yes_no(a.text)
