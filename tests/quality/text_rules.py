"""The scorer's reading rules for one bot turn: split, content words, echo, question form.

Kept apart from the runner so they can be unit-tested and read on their own.

Splitting a reply (actions/ask.py composes the acknowledgement and the question as ONE
message; the opening and some interruptions come as two or more): the reply's messages are
joined, cut into sentences at . ! ? … followed by a space, and the question is the LAST
sentence when it ends in "?". Everything before it is the acknowledgement.

Content words: lowercased, accents folded, curly quotes dropped; spaCy's stop-word lists for
nl/en plus a few chat words and the pronoun pairs the bot shifts ("mijn"/"je") are removed,
as are numbers. Two words match when their lookup lemmas are equal (the project's blank
spaCy + spacy-lookups-data, bot/listening/nlp.py), when they share their first 5 letters
("bezorger"/"bezorging", "delivered"/"delivery"), or when one (4+ letters) ends the other
(Dutch compounds: "klantenservice"/"service").
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Iterable, List, Sequence

SENTENCE = re.compile(r"(?<=[.!?…])\s+")
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

EXTRA_STOP = {
    "nl": {"ff", "idd", "vd", "nie", "ok", "oke", "hoor", "gewoon", "echt", "wel", "nou", "zo", "ja", "nee",
           "jullie", "je", "jij", "jou", "jouw", "mijn", "mn", "m'n", "ik", "me", "mij", "we", "wij", "ons", "onze",
           "u", "uw", "gaat", "ging", "gegaan", "heb", "hebt", "heeft", "had", "dus", "dank", "even", "keer"},
    "en": {"u", "ur", "ok", "okay", "yeah", "yes", "no", "you", "your", "i", "me", "my", "we", "our", "us",
           "really", "just", "got", "get", "thanks", "thank", "so", "lol", "tbh", "pls", "plz", "guys"},
}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def words(text: str) -> List[str]:
    return WORD.findall(fold(text))


@functools.lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset:
    from bot.listening.nlp import get_nlp  # imports spaCy the project's way (without TensorFlow)

    return frozenset(fold(w) for w in get_nlp(language).Defaults.stop_words) | EXTRA_STOP.get(language, set())


@functools.lru_cache(maxsize=20000)
def lemma(word: str, language: str) -> str:
    from bot.listening.nlp import get_nlp

    doc = get_nlp(language)(word)
    return fold(doc[0].lemma_) if len(doc) else word


def content_words(text: str, language: str) -> List[str]:
    stops = stop_words(language)
    stems = (w.split("'")[0] for w in words(text))  # "i've" -> "i", "customer's" -> "customer"
    return [w for w in stems if w not in stops and not w.isdigit() and len(w) > 1]


def same_word(a: str, b: str, language: str) -> bool:
    if a == b or lemma(a, language) == lemma(b, language):
        return True
    if len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5]:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and long_.endswith(short)


PRONOUNS = {"ik", "je", "jij", "jou", "jouw", "mijn", "mn", "me", "mij", "we", "wij", "ons", "onze", "jullie", "u",
            "uw", "i", "you", "your", "my", "our", "us", "it", "het", "de", "een", "the", "a", "an",
            "dat", "dit", "this", "that"}


def shared_content_words(ack: str, customer: str, language: str) -> List[str]:
    """The acknowledgement's words that match the customer's content words. A message made of
    stop words only ("I've had it with you", "ik ben het zat" has "zat") is matched on all its
    words except pronouns and articles, so "You've had it with us" still counts."""
    mine = content_words(customer, language)
    if mine:
        return [w for w in content_words(ack, language) if any(same_word(w, c, language) for c in mine)]
    mine = [w for w in words(customer) if w not in PRONOUNS]
    return [w for w in words(ack) if w in mine]


def longest_common_run(ack: str, customer: str) -> int:
    """Length in words of the longest verbatim run of the customer's words in the ack."""
    a, c = words(ack), words(customer)
    best = 0
    previous = [0] * (len(c) + 1)
    for x in a:
        current = [0] * (len(c) + 1)
        for j, y in enumerate(c, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def split_reply(messages: Sequence[str]) -> tuple[str, str | None]:
    """(acknowledgement, question) of a reply; question None when it does not end in '?'."""
    sentences = [s for m in messages for s in SENTENCE.split(m.strip()) if s]
    if not sentences or not sentences[-1].rstrip().endswith("?"):
        return " ".join(sentences), None
    return " ".join(sentences[:-1]), sentences[-1]


# --- question form --------------------------------------------------------------------------
# A closed question starts with a verb (Dutch and English inversion) or "is/are there".
CLOSED_OPENER = {
    "nl": re.compile(r"^(heb|hebt|had|hadden|heeft|was|waren|is|zijn|ben|bent|kun|kunt|kan|konden|kon|wil|wilt|"
                     r"zou|zouden|zal|zullen|moet|moest|mag|mocht|doe|doet|deed|vind|vond|klopt|klopte|gaat|ging|"
                     r"weet|wist|speelt|speelde|merkte|merk|herken|ervaar|ervoer|voel|voelde|heeft|kreeg|krijg)\b"),
    "en": re.compile(r"^(do|does|did|is|are|was|were|have|has|had|can|could|would|will|should|shall|may|might|am|"
                     r"isn't|aren't|wasn't|don't|didn't|won't|wouldn't)\b"),
}
SUGGESTION = {
    "nl": re.compile(r"\b(bijvoorbeeld|zoals|bv|misschien|of was het|of kwam het)\b"),
    "en": re.compile(r"\b(for example|e\.?g|such as|maybe|perhaps|or was it|like the)\b"),
}


def question_clause(question: str) -> str:
    """The asking part: after a lead-in ending in ':' ("Om terug te komen op je 4: wat ...")."""
    return fold(question.rsplit(":", 1)[-1]).strip(" “”\"'—-")


def is_open(question: str, language: str) -> bool:
    clause = question_clause(question)
    return not any(CLOSED_OPENER[lang].match(clause) for lang in (language, "nl" if language == "en" else "en"))


def suggests_answer(question: str, language: str) -> bool:
    return bool(SUGGESTION[language].search(fold(question)))


# --- what a question asks -------------------------------------------------------------------
ASKS = {
    "situation": re.compile(r"wat (?:gebeurde|is er (?:toen |precies )*gebeurd)|hoe ging het|wat ging er precies"
                            r"|what happened|what went on|how did it go|walk me through|take me through"),
    # "9 of 10", "een 9 of een 10", "a 9 or 10", "nine or ten" ("7 out of 10" is not it)
    "nine_or_ten": re.compile(r"\b(?:9|negen|nine)\b(?: (?:of|or|en|and))? (?:(?:een|a) )?(?:10|tien|ten)\b"),
    "keep_or_difference": re.compile(r"nooit (?:\w+ )?(?:veranderen|kwijt|verliezen|missen)|niet (?:\w+ )?veranderen"
                                     r"|verschil|behouden|vasthouden|zo houden"
                                     r"|never (?:\w+ )?(?:change|lose)|difference|keep doing|must keep|should keep"),
}


def asks(question: str, what: str) -> bool:
    return bool(ASKS[what].search(fold(question)))


YES_NO = {"ja", "nee", "neen", "yes", "no", "nope", "nah", "yeah", "yep"}


def mentions_phrase(text: str, phrase: str) -> bool:
    """Whole-word occurrence of a customer's phrase in a bot text, also without its leading
    yes/no ("nee bedankt" quoted back as "bedankt")."""
    said = words(phrase)
    forms = {" ".join(said)}
    if len(said) > 1 and said[0] in YES_NO:
        forms.add(" ".join(said[1:]))
    haystack = " ".join(words(text))
    return any(f and re.search(rf"(?<![a-z0-9]){re.escape(f)}(?![a-z0-9])", haystack) for f in forms)


def median(values: Iterable[float]) -> float:
    v = sorted(values)
    if not v:
        return 0.0
    mid = len(v) // 2
    return float(v[mid]) if len(v) % 2 else (v[mid - 1] + v[mid]) / 2
