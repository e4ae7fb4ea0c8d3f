"""Pronoun and verb shifting: the customer's words turned to the bot's side.

"ik vertrouw jullie facturen niet" -> "je vertrouwt onze facturen niet", "my parcel" ->
"your parcel", "you never called me" -> "we never called you". The word tables are in
shifting.yml.
"""
from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

from .lexicon import resources
from .nlp import LANGUAGES, fold, get_nlp
from .wordtables import get, words

_TOKENS = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?|[^A-Za-zÀ-ÿ]+")


class _Tables:
    """shifting.yml, read on first use."""

    @property
    def nl_verb_after_ik(self) -> dict[str, str]:
        return get("shifting", "nl", "verb_after_ik")

    @property
    def nl_keep_after_ik(self) -> frozenset[str]:
        return words("shifting", "nl", "keep_after_ik")

    @property
    def nl_subordinators(self) -> frozenset[str]:
        return words("shifting", "nl", "subordinators")

    @property
    def nl_finite_modals(self) -> frozenset[str]:
        return words("shifting", "nl", "finite_modals")

    @property
    def nl_clause_words(self) -> frozenset[str]:
        return words("shifting", "nl", "clause_words")

    @property
    def nl_prepositions(self) -> frozenset[str]:
        return words("shifting", "nl", "prepositions")

    @property
    def nl_map(self) -> dict[str, str]:
        return get("shifting", "nl", "pronouns")

    @property
    def nl_nouns(self) -> frozenset[str]:
        return words("shifting", "nl", "nouns")

    @property
    def en_map(self) -> dict[str, str]:
        return get("shifting", "en", "pronouns")

    @property
    def en_first_person(self) -> frozenset[str]:
        return words("shifting", "en", "first_person")

    @property
    def en_object_before(self) -> frozenset[str]:
        return words("shifting", "en", "object_before")

    @property
    def en_verb_after_subject(self) -> frozenset[str]:
        return words("shifting", "en", "verb_after_subject")


T = _Tables()


def match_case(src: str, dst: str, sentence_start: bool = False) -> str:
    if src[:1].isupper() and (sentence_start or src.lower().replace("’", "'") not in T.en_first_person):
        return dst[:1].upper() + dst[1:]
    return dst


@lru_cache(maxsize=4096)
def nl_lookup(word: str) -> str | None:
    """The lemma of a Dutch word form in spaCy's lookup table, or None when unknown."""
    lemmatizer = get_nlp("nl").get_pipe("lemmatizer")
    try:
        table = lemmatizer.lookups.get_table("lemma_lookup")
    except KeyError:  # pragma: no cover - tables missing
        return None
    return table.get(word)


def nl_present_je(word: str) -> str | None:
    """The "je" form of a first-person present verb ("vertrouw" -> "vertrouwt"), or None
    when ``word`` is not one (past tense, an adverb, a noun, ...)."""
    low = word.lower()
    verbs = T.nl_verb_after_ik
    if low in verbs:
        return verbs[low]
    if low in T.nl_keep_after_ik or len(low) < 2 or not low.isalpha():
        return None
    if low.endswith("t") or low.endswith(("de", "te", "den", "ten")):
        return None  # "wacht" stays; past tense stays
    infinitive = nl_lookup(low + "t")
    if not infinitive or not infinitive.endswith("en"):
        return None
    own = nl_lookup(low)
    if own is not None and own != infinitive:
        return None
    return low + "t"


def _nl_is_noun(word: str) -> bool:
    low = fold(word)
    if not low.isalpha():
        return False
    res = resources()
    if low in res.languages["nl"].aspect_nouns or low in res.nl_het_words or low in T.nl_nouns:
        return True
    lemma = nl_lookup(low)
    if lemma and lemma != low and not lemma.endswith("en"):
        return lemma in res.languages["nl"].aspect_nouns or low.endswith(("s", "en"))
    return False


def _nl_jullie(words_: list[str], n: int, start: bool) -> str:
    """The bot's word for the customer's "jullie"/"uw": "onze"/"ons" before a noun,
    "ons" as an object, "wij" as a subject."""
    nxt = words_[n + 1] if n + 1 < len(words_) else ""
    after = words_[n + 2] if n + 2 < len(words_) else ""
    prev = fold(words_[n - 1]) if n and not start else ""
    noun = nxt if _nl_is_noun(nxt) else (after if nxt.lower().endswith("e") and _nl_is_noun(after) else "")
    if noun:
        return "ons" if fold(noun) in resources().nl_het_words else "onze"
    if fold(words_[n]) == "uw":
        return "onze"
    if prev in T.nl_prepositions:
        return "ons"
    if prev and prev not in T.nl_subordinators and prev not in T.nl_clause_words and not prev.endswith("en"):
        return "ons"
    return "wij"


_TAG = re.compile(r"<[A-Za-z/!]")
_UNSPOKEN = ("script", "style")  # their content is code, never the customer's words
_INLINE = frozenset("a abbr b bdi bdo cite code del dfn em i ins kbd mark q s samp small span strong sub sup "
                    "time u var font".split())


class _TextOnly(HTMLParser):
    """The text of a message with HTML in it: tags (and their attributes) dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._unspoken = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _UNSPOKEN:
            self._unspoken += 1
        elif tag not in _INLINE:
            self.parts.append(" ")  # "<br>", "<p>": a break between words

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSPOKEN:
            self._unspoken = max(0, self._unspoken - 1)
        elif tag not in _INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._unspoken:
            self.parts.append(data)


def strip_markup(text: str) -> str:
    """``text`` without HTML tags, and without what <script>/<style> hold: what the bot
    shifts, quotes or summarises ("the <i>checkout</i>" -> "the checkout"). "I <3 it" and
    "< 10 euro" are no markup and stay. The stored transcript keeps what was written."""
    if not text or not _TAG.search(text):
        return text
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    return re.sub(r"[ \t]{2,}", " ", "".join(parser.parts)).strip()


def shift_pronouns(text: str, language: str) -> str:
    """Perspective shift for reflections and summaries: "ik"->"je" (with the verb:
    "ik vertrouw"->"je vertrouwt"), "mijn"->"je", "jullie"->"ons/onze/wij", "my"->"your",
    "you"->"we"/"us" (the customer's "you" is the company, the bot speaks for it).
    Markup is dropped first (strip_markup)."""
    toks = _TOKENS.findall(strip_markup(text))
    words_idx = [i for i, t in enumerate(toks) if t[:1].isalpha()]
    words_ = [toks[i] for i in words_idx]
    out = list(toks)
    lang = language if language in LANGUAGES else "nl"
    conjugate: set[int] = set()  # word numbers whose verb must agree with "je"
    clause_words, subordinators = T.nl_clause_words, T.nl_subordinators
    nl_map, en_map = T.nl_map, T.en_map

    def gap_before(n: int) -> str:
        return "".join(toks[words_idx[n - 1] + 1:words_idx[n]]) if n else ""

    def clause_start(n: int) -> bool:
        return n == 0 or bool(re.search(r"[.!?,;:]", gap_before(n)))

    for n, i in enumerate(words_idx):
        t = toks[i]
        low = t.lower().replace("’", "'")
        prev = toks[words_idx[n - 1]].lower() if n else ""
        nxt = toks[words_idx[n + 1]].lower() if n + 1 < len(words_idx) else ""
        start = n == 0 or bool(re.search(r"[.!?]\s*$", gap_before(n)))
        if lang == "nl":
            if n in conjugate:
                je_form = nl_present_je(t)
                if je_form:
                    out[i] = je_form
                continue
            if low == "ik":
                out[i] = match_case(t, "je", start and t[:1].isupper())
                if n + 1 < len(words_idx) and not re.search(r"[.!?,;:]", gap_before(n + 1)):
                    if clause_start(n) or fold(prev) in clause_words - subordinators - {"dat"} \
                            or prev in ("en", "maar", "want", "dus"):
                        conjugate.add(n + 1)  # "ik vertrouw" -> "je vertrouwt"
                    elif fold(prev) in subordinators:
                        m = n + 1  # "omdat ik het niet snap": the verb closes the clause
                        while m + 1 < len(words_idx) and not re.search(r"[.!?,;:]", gap_before(m + 1)) \
                                and fold(words_[m + 1]) not in clause_words:
                            m += 1
                        modal = next((k for k in range(n + 1, m + 1)
                                      if fold(words_[k]) in T.nl_finite_modals), None)
                        if modal is not None:
                            conjugate.add(modal)  # "dat ik er niet op kan rekenen" -> "kunt"
                        elif fold(words_[m]) not in ("ben", "heb"):
                            conjugate.add(m)
            elif low in nl_map:
                out[i] = match_case(t, nl_map[low], start and t[:1].isupper())
            elif low in ("jullie", "uw"):
                out[i] = match_case(t, _nl_jullie(words_, n, clause_start(n)), start)
            elif low in ("ben", "heb") and nxt not in ("ik", "je", "jij") and prev != "ik":
                out[i] = {"ben": "bent", "heb": "hebt"}[low]
        else:
            if low == "i" and prev in ("was", "am", "wasn't") and n:
                j = words_idx[n - 1]
                out[j] = match_case(toks[j], {"was": "were", "am": "are", "wasn't": "weren't"}[prev])
                out[i] = "you"
            elif low in en_map:
                out[i] = match_case(t, en_map[low], start)
            elif low == "you":
                subject = nxt.replace("’", "'") in T.en_verb_after_subject
                out[i] = match_case(t, "us" if prev in T.en_object_before and not subject else "we", start)
            elif low == "am" and prev == "i":
                out[i] = "are"
            elif low == "was" and prev == "i":
                out[i] = "were"
            elif low == "wasn't" and prev == "i":
                out[i] = "weren't"
    return "".join(out)
