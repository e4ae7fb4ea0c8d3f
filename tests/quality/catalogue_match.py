"""Recognise the bot's own texts in a reply, from the live catalogue (bot/listening/catalogue).

Each catalogue variant becomes a regular expression (placeholders match any text), so the
scorer keeps working while the texts are reworded: a new variant or key is picked up on the
next run. Only the *kind* of a message is read from here; the quality checks themselves
(content words, question form, band fit) use the scorer's own rules in scorecard.py.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Dict, Iterable, List

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")

# Replies that mean "your message was not taken as the answer".
INTERRUPTIONS = ("clarify", "calm", "stop", "handoff", "handoff_known_contact", "why_ask", "cannot_answer",
                 "fallback", "dont_know_ok", "ask_score_retry")
STOP_KEYS = ("stop",)
HANDOFF_KEYS = ("handoff", "handoff_known_contact")


def _catalogue_dir() -> Path:
    return Path(os.environ.get("GEHOOR_CATALOGUE_DIR") or ROOT / "bot" / "listening" / "catalogue")


def _variants(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _variants(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _variants(v)


def _pattern(variant: str) -> re.Pattern:
    # A sentence-initial match: "Geen probleem." must not match inside another sentence.
    body = PLACEHOLDER.sub(lambda m: r".+?", re.escape(variant.strip()))
    return re.compile(r"(?:^|(?<=[.!?:”]\s))" + body, re.IGNORECASE)


@functools.lru_cache(maxsize=None)
def patterns(language: str) -> Dict[str, List[re.Pattern]]:
    data = yaml.safe_load((_catalogue_dir() / f"{language}.yml").read_text(encoding="utf-8")) or {}
    company = os.environ.get("GEHOOR_COMPANY", "Acme")
    result: Dict[str, List[re.Pattern]] = {}
    for key, value in data.items():
        if key == "feelings":
            continue
        result[key] = [_pattern(v.replace("{company}", company)) for v in _variants(value) if v.strip()]
    return result


@functools.lru_cache(maxsize=None)
def sentence_patterns(keys: tuple) -> List[re.Pattern]:
    """One full-match pattern per sentence of the keys' variants (both languages): the bot
    may send one catalogue text as several messages (the opening, then the score question)."""
    data = {lang: yaml.safe_load((_catalogue_dir() / f"{lang}.yml").read_text(encoding="utf-8")) or {}
            for lang in ("nl", "en")}
    company = os.environ.get("GEHOOR_COMPANY", "Acme")
    result = []
    for lang in data:
        for key in keys:
            for variant in _variants(data[lang].get(key, [])):
                for sentence in re.split(r"(?<=[.!?])\s+", variant.replace("{company}", company).strip()):
                    body = PLACEHOLDER.sub(lambda m: r".+?", re.escape(sentence))
                    result.append(re.compile(body + r"\Z", re.IGNORECASE))
    return result


def without_sentences_of(text: str, keys: tuple) -> str:
    """text minus its sentences that are (a sentence of) one of these catalogue texts."""
    pats = sentence_patterns(keys)
    kept = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if not any(p.match(s) for p in pats)]
    return " ".join(kept)


@functools.lru_cache(maxsize=50000)
def keys_in(text: str) -> frozenset:
    """Catalogue keys (either language) whose text occurs in one bot message."""
    found = set()
    for language in ("nl", "en"):
        for key, pats in patterns(language).items():
            if any(p.search(text) for p in pats):
                found.add(key)
    return frozenset(found)


def language_of_text(text: str) -> str | None:
    """Which language's catalogue a bot message comes from (None: neither recognised)."""
    hits = {lang: sum(1 for pats in patterns(lang).values() for p in pats if p.search(text)) for lang in ("nl", "en")}
    if hits["nl"] == hits["en"]:
        return None
    return max(hits, key=hits.get)
