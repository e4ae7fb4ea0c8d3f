"""Shared spaCy plumbing: blank pipelines (no model download), text folding, term index.

Pipelines are built once per language and cached (``get_nlp``). Everything here is
deterministic: sentencizer + lookup lemmatizer (tables from spacy-lookups-data).
"""
from __future__ import annotations

import functools
import os
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from typing import Iterable

LANGUAGES = ("nl", "en")

_lock = threading.Lock()
_pipelines: dict = {}


def _import_spacy():
    """Import spaCy without letting thinc import TensorFlow (seconds of start-up that a
    blank pipeline never uses). Only while spaCy is first imported: TensorFlow stays
    importable for everyone else. Set GEHOOR_SPACY_ALLOW_TF=1 to skip this."""
    if "thinc" in sys.modules or os.environ.get("GEHOOR_SPACY_ALLOW_TF") == "1":
        import spacy

        return spacy
    blocked = [m for m in ("tensorflow", "mxnet") if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None  # type: ignore[assignment]  # makes "import m" fail fast
    try:
        import spacy
    finally:
        for m in blocked:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]
    return spacy


def get_nlp(language: str):
    """Return the cached blank pipeline for ``language`` ("nl" or "en")."""
    lang = language if language in LANGUAGES else "nl"
    nlp = _pipelines.get(lang)
    if nlp is not None:
        return nlp
    with _lock:
        nlp = _pipelines.get(lang)
        if nlp is None:
            spacy = _import_spacy()
            nlp = spacy.blank(lang)
            nlp.add_pipe("sentencizer")
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()
            _pipelines[lang] = nlp
    return nlp


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    low = ch.lower()
    if len(low) != 1:
        low = ch
    if ord(low) < 128:
        return low
    decomposed = unicodedata.normalize("NFD", low)
    base = decomposed[0]
    if len(decomposed) > 1 and all(unicodedata.combining(c) for c in decomposed[1:]):
        return base
    if low in "’‘`´":
        return "'"
    return low


@functools.lru_cache(maxsize=2048)
def fold(text: str) -> str:
    """Lower-case and strip accents one character at a time.

    The result has exactly the same length as ``text`` so offsets found in the folded
    text are valid in the original ("wéér" -> "weer", "Pakketten" -> "pakketten").
    Cached: one turn folds the same few messages many times (every phrase check).
    """
    if text.isascii():
        return text.lower()  # ASCII lower-casing never changes the length
    return "".join(map(_fold_char, text))


_WORD_RE = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:['’][a-z]+)?", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Folded word tokens (letters/digits), without punctuation or emoji."""
    return _WORD_RE.findall(fold(text))


@dataclass(frozen=True)
class TermHit:
    label: str
    start: int  # token index
    end: int  # token index (exclusive)


class TermIndex:
    """Find labelled terms in a doc by LOWER or LEMMA, with phrases and wildcards.

    A term is matched when the token's lower form or its lemma equals the term (so
    "pakket" matches "pakketten", "delivery" matches "deliveries"). Multi-word terms go
    through spaCy PhraseMatchers on LOWER and on LEMMA. ``stem*`` matches tokens that
    start with ``stem`` and ``*tail`` tokens that end with ``tail`` (Dutch compounds:
    "*bezorger" matches "pakketbezorger").
    """

    def __init__(self, nlp, entries: Iterable[tuple[str, str]]):
        from spacy.matcher import PhraseMatcher

        self.words: dict[str, set[str]] = {}
        self.prefixes: list[tuple[str, str]] = []
        self.suffixes: list[tuple[str, str]] = []
        self.lower_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.lemma_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._labels: dict[int, str] = {}
        self._has_phrases = False
        for label, term in entries:
            t = fold(str(term).strip())
            if not t:
                continue
            if t.endswith("*") and " " not in t:
                self.prefixes.append((t[:-1], label))
                continue
            if t.startswith("*") and " " not in t:
                self.suffixes.append((t[1:], label))
                continue
            doc = nlp(t)
            if len(doc) == 1:
                self.words.setdefault(t, set()).add(label)
                continue
            key = nlp.vocab.strings.add(label)
            self._labels[key] = label
            self.lower_matcher.add(label, [nlp.make_doc(t)])
            self.lemma_matcher.add(label, [doc])
            self._has_phrases = True

    def find(self, doc, longest: bool = False) -> list[TermHit]:
        hits: set[TermHit] = set()
        words = self.words
        prefixes = self.prefixes
        suffixes = self.suffixes
        for tok in doc:
            low = tok.lower_
            lem = tok.lemma_
            labels = words.get(low)
            if labels:
                for lab in labels:
                    hits.add(TermHit(lab, tok.i, tok.i + 1))
            if lem != low:
                labels = words.get(lem)
                if labels:
                    for lab in labels:
                        hits.add(TermHit(lab, tok.i, tok.i + 1))
            if prefixes and tok.is_alpha:
                for stem, lab in prefixes:
                    if low.startswith(stem):
                        hits.add(TermHit(lab, tok.i, tok.i + 1))
            if suffixes and tok.is_alpha:
                for tail, lab in suffixes:
                    if low.endswith(tail):
                        hits.add(TermHit(lab, tok.i, tok.i + 1))
        if self._has_phrases:
            for key, start, end in self.lower_matcher(doc):
                hits.add(TermHit(doc.vocab.strings[key], start, end))
            for key, start, end in self.lemma_matcher(doc):
                hits.add(TermHit(doc.vocab.strings[key], start, end))
        ordered = sorted(hits, key=lambda h: (h.start, -(h.end - h.start), h.label))
        if not longest:
            return ordered
        # keep the longest non-overlapping hits, left to right
        taken: list[TermHit] = []
        used: set[int] = set()
        for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start, h.label)):
            span = set(range(hit.start, hit.end))
            if span & used:
                continue
            used |= span
            taken.append(hit)
        return sorted(taken, key=lambda h: (h.start, h.label))
