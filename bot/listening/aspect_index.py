"""Aspect matching: the lexicon's terms, plus what a word list alone cannot do.

``AspectIndex`` is a ``TermIndex`` (same ``find(doc)``) that adds, per language:

* **Dutch compounds.** A word that ends in a lexicon noun has that noun's aspect
  ("pakketbezorger" -> bezorger -> delivery, "baliemedewerker" -> staff). The head decides:
  a prefix wildcard on the same word does not ("bezorgkosten" is a price, not a delivery).
  A modifier that is a lexicon noun counts when the head names no aspect
  ("pakketautomaat" -> delivery) or when the head is a person of the company
  ("klantenservicemedewerker" -> customer service and staff).
* **Exceptions** (``nl_not``/``en_not`` per aspect): words or phrases that never count
  for that aspect ("wachtwoord" is not waiting, "in order to" is not an order).
* **Weak terms** (``nl_weak``/``en_weak``): words that name only the object of a sentence
  ("bestelling", "geld", "order", "amount"). They count when nothing of another aspect
  is named: "waar blijft mijn bestelling" is delivery, "twee keer betaald voor dezelfde
  bestelling" is only a price, "het geld is teruggestort" only a refund.
* **Longest match across aspects.** A term inside a longer term of another aspect does
  not count ("bus driver" is staff, not delivery; "money back" is a refund, not a price).
* **A second opinion** (``aspect_classifier``) only when the lexicon finds nothing.
"""
from __future__ import annotations

from typing import Callable, Iterable

from .nlp import TermHit, TermIndex

MIN_MODIFIER = 3  # letters before a head: "rit" + "bezorger" is not a compound
MIN_HEAD = 4  # a head shorter than this ("app", "fee") is too often an ordinary ending
MIN_NOUN_MODIFIER = 5  # a modifier alone names the aspect only from 5 letters ("pakket", not "toon")
PLURAL_ENDINGS = ("s", "en", "'s", "tjes", "jes", "je", "tje")
LINKING = ("s", "en", "e")
# The second opinion needs a story: a message of a few words is a verdict ("slecht"), an
# answer or a don't-know ("no idea"), and no careful reader gives that an aspect.
MIN_WORDS_FOR_SECOND_OPINION = 4


class AspectIndex(TermIndex):
    def __init__(self, nlp, entries: Iterable[tuple[str, str]], *, language: str,
                 nouns: dict[str, set[str]], not_entries: Iterable[tuple[str, str]] = (),
                 person_aspects: frozenset[str] = frozenset(),
                 weak: dict[str, set[str]] | None = None,
                 second_opinion: Callable | None = None):
        super().__init__(nlp, entries)
        self.language = language
        # compound heads/modifiers: folded single-word nouns -> aspects
        self.nouns = {n: set(a) for n, a in nouns.items() if len(n) >= MIN_HEAD and " " not in n}
        not_entries = list(not_entries)
        self.not_index = TermIndex(nlp, not_entries)
        self.has_exceptions = bool(not_entries)
        self.person_aspects = person_aspects
        self.weak = weak or {}  # aspect -> folded weak words
        self.second_opinion = second_opinion

    # --- compounds ---------------------------------------------------------------
    def _forms(self, tok) -> list[str]:
        low = tok.lower_
        forms = [low]
        if tok.lemma_ and tok.lemma_ != low:
            forms.append(tok.lemma_)
        for ending in PLURAL_ENDINGS:
            if low.endswith(ending) and len(low) - len(ending) >= MIN_HEAD:
                forms.append(low[: -len(ending)])
        return forms

    def _head(self, form: str) -> tuple[set[str], str] | None:
        """The aspects of the longest lexicon noun that ``form`` ends with, and the modifier."""
        for i in range(MIN_MODIFIER, len(form) - MIN_HEAD + 1):
            labels = self.nouns.get(form[i:])
            if labels:
                return labels, form[:i]
        return None

    def _modifier(self, modifier: str) -> set[str]:
        found: set[str] = set()
        candidates = [modifier] + [modifier[: -len(e)] for e in LINKING if modifier.endswith(e)]
        for cand in candidates:
            if cand in self.nouns:
                found |= self.nouns[cand]
        if not found:  # a modifier that is itself a compound: "klantenservice" in "...medewerker"
            for cand in candidates:
                head = self._head(cand)
                if head:
                    found |= head[0]
        return found

    def _compound(self, tok) -> tuple[set[str], bool]:
        """(aspects, has_head) of a Dutch compound word."""
        if self.language != "nl" or not tok.is_alpha or len(tok) < MIN_MODIFIER + MIN_HEAD:
            return set(), False
        for form in self._forms(tok):
            if form in self.nouns:
                return set(self.nouns[form]), True
            head = self._head(form)
            if head:
                labels, modifier = head
                if labels & self.person_aspects:
                    return labels | self._modifier(modifier), True
                return set(labels), True
        for form in self._forms(tok):  # no head: a known modifier still tells what it is about
            # both parts of a real word: "pakket|automaat", not "account|ant" or "toon|bank"
            for i in range(len(form) - MIN_HEAD, MIN_NOUN_MODIFIER - 1, -1):
                if form[:i] in self.nouns:
                    return set(self.nouns[form[:i]]), False
        return set(), False

    # --- matching ----------------------------------------------------------------
    def lexicon_hits(self, doc) -> list[TermHit]:
        hits = set(super().find(doc))
        for tok in doc:
            labels, has_head = self._compound(tok)
            if not labels:
                continue
            if has_head:  # the head decides: drop other single-word hits on this word
                own = labels | self.words.get(tok.lower_, set())
                hits = {h for h in hits if (h.start, h.end) != (tok.i, tok.i + 1) or h.label in own}
            hits |= {TermHit(lab, tok.i, tok.i + 1) for lab in labels}
        if self.has_exceptions:
            blocked = self.not_index.find(doc)
            hits = {h for h in hits if not any(b.label == h.label and b.start < h.end and h.start < b.end
                                               for b in blocked)}
        # a term inside a longer term of another aspect does not count
        kept = {h for h in hits if not any(o.label != h.label and o.start <= h.start and h.end <= o.end
                                           and (o.end - o.start) > (h.end - h.start) for o in hits)}
        if self.weak:
            weak = {h for h in kept if self._is_weak(h, doc)}
            strong_labels = {h.label for h in kept - weak}
            kept = {h for h in kept if h not in weak or not (strong_labels - {h.label})}
        return sorted(kept, key=lambda h: (h.start, -(h.end - h.start), h.label))

    def _is_weak(self, hit: TermHit, doc) -> bool:
        words = self.weak.get(hit.label)
        if not words:
            return False
        span = doc[hit.start:hit.end]
        return " ".join(t.lower_ for t in span) in words or " ".join(t.lemma_ for t in span) in words

    def find(self, doc, longest: bool = False) -> list[TermHit]:
        hits = self.lexicon_hits(doc)
        if not hits and self.second_opinion is not None \
                and sum(1 for t in doc if t.is_alpha) >= MIN_WORDS_FOR_SECOND_OPINION:
            hits = self.second_opinion(doc, self.language)
        return hits
