"""Message analysis: aspects, sentiment, emotions, perspective dimensions, repeat
contact, vagueness, "don't know" and "done" — deterministic, from lexicons.

The word lists live in lexicon.yml (aspects, company-configurable) and signals.yml
(language signals); see docs/listening.md.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .language import detect_language, language_scores
from .lexicon import LanguageResources, resources
from .nlp import fold, get_nlp, words

POLARITY = {"positive": 1.0, "strong_positive": 2.0, "negative": -1.0, "strong_negative": -2.0}
CLAUSE_BREAK = {".", ",", ";", "!", "?", ":", "—", "–", "\n"}
FILLERS = {"eigenlijk", "echt", "hoor", "nou", "well", "um", "eh", "ehm", "uhm", "sorry",
           "gewoon", "really", "actually", "just", "hmm", "tja", "ja", "yes", "nee", "no",
           "verder", "oh", "ok", "oke", "okay", "dus", "so"}
_VOWELS = set("aeiouy")
# four neighbouring keys: "qwerqwer", "asdf" — keyboard mash even with a vowel in it
_KEYBOARD_RUN = re.compile(r"qwer|asdf|zxcv|hjkl|uiop|sdfg|dfgh|fghj|ghjk|xcvb|cvbn|vbnm|wert|rewq|fdsa|lkjh")


@dataclass
class AspectMention:
    aspect: str
    text: str  # the customer's own word(s)
    start: int  # character offsets in the original text
    end: int
    sentiment: float = 0.0  # sentiment of the clause the mention is in (-1..1)


@dataclass
class EmotionMention:
    emotion: str
    text: str
    start: int
    end: int


@dataclass
class MessageAnalysis:
    text: str
    language: str
    aspects: list[AspectMention] = field(default_factory=list)
    sentiment: float = 0.0
    sentiment_label: str = "neutral"  # negative | neutral | positive | mixed
    emotions: list[EmotionMention] = field(default_factory=list)
    dimensions: set[str] = field(default_factory=set)
    repeat_contact: bool = False
    repeat_terms: list[str] = field(default_factory=list)
    vague: bool = False
    dont_know: bool = False
    done_signal: bool = False
    nothing_to_add: bool = False  # a polite refusal or bare yes/no: answered, with nothing to add
    fed_up: bool = False  # "ik ben het zat", "I'm so over this": frustration, never "done"
    question: bool = False  # the customer asked something / wants something done
    gibberish: bool = False
    abuse: bool = False  # swearing / insults: answer calmly (catalogue key "calm")
    word_count: int = 0
    details: int = 0  # concrete situation details (times, places, counts, channels)

    @property
    def aspect_names(self) -> list[str]:
        """Each aspect once, in order of first mention."""
        return list(dict.fromkeys(m.aspect for m in self.aspects))

    @property
    def emotion_names(self) -> list[str]:
        """Each emotion once, in order of first mention."""
        return list(dict.fromkeys(m.emotion for m in self.emotions))


@dataclass
class StoryAnalysis:
    aspects: list[str]
    sentiment: str
    sentiment_score: float
    emotions: list[str]
    repeat_contact: bool


def _norm(text: str) -> str:
    return " ".join(words(text))


def _matches_whole(norm: str, phrases: frozenset[str], slack: int) -> bool:
    """True when the message *is* one of the phrases, allowing a few extra words
    around multi-word phrases and filler words around single words."""
    if not norm:
        return False
    if norm in phrases:
        return True
    toks = norm.split()
    core = " ".join(t for t in toks if t not in FILLERS)
    if core and core in phrases:
        return True
    padded = f" {norm} "
    for phrase in phrases:
        n = phrase.count(" ") + 1
        if n >= 2 and len(toks) <= n + slack and f" {phrase} " in padded:
            return True
    return False


def _clauses(doc, res: LanguageResources, contrast_tokens: set[int]) -> list[int]:
    clause, out = 0, []
    for tok in doc:
        if tok.text in CLAUSE_BREAK or tok.i in contrast_tokens:
            clause += 1
        out.append(clause)
    return out


def _is_gibberish(tokens: list[str], res_all) -> bool:
    alpha = [t for t in tokens if t.isalpha()]
    if not alpha or any(t.isdigit() for t in tokens):
        return False
    known = 0
    for lang_res in res_all.languages.values():
        # "pfffff" is "pff": an interjection of feeling, not keyboard mash
        known += sum(1 for t in alpha if t in lang_res.markers
                     or re.sub(r"(.)\1{2,}", r"\1\1", t) in lang_res.interjections
                     or re.sub(r"(.)\1+", r"\1", t) in lang_res.interjections)
    if known:
        return False
    odd = 0
    for t in alpha:
        vowels = sum(1 for c in t if c in _VOWELS)
        if (len(t) >= 4 and vowels / len(t) < 0.2) or (len(t) >= 3 and not vowels) or re.search(r"[^aeiouy\W]{5,}", t) \
                or re.search(r"(.)\1\1", t) or re.search(r"(..)\1\1", t) or _KEYBOARD_RUN.search(t):
            odd += 1
    return odd >= max(1, math.ceil(len(alpha) / 2))


IMPLIED_CONTRAST = 1.3  # the weight of one polar word in the clause after the contrast


def _implied_by_contrast(doc, last_contrast: int, sent_hits, clause_scores: dict[int, float],
                         clause_of: list[int]) -> float:
    """The value a contrast word gives its clause when that clause has no polar word of
    its own: the opposite of what came before ("mooi, maar hij loopt steeds vast")."""
    if last_contrast <= 0:
        return 0.0
    after = [t for t in doc[last_contrast + 1:] if t.is_alpha]
    polar_after = any(h.start > last_contrast and h.label in POLARITY for h in sent_hits)
    if len(after) < 2 or polar_after:
        return 0.0
    before = sum(v for c, v in clause_scores.items() if c < clause_of[last_contrast])
    if before > 0:
        return -IMPLIED_CONTRAST
    if before < 0:
        return IMPLIED_CONTRAST
    return 0.0


def analyze(text: str, previous_language: str | None = None) -> MessageAnalysis:
    """Analyse one customer message. Deterministic; see module docstring."""
    text = text or ""
    language = detect_language(text, previous_language)
    if not text.strip():
        return MessageAnalysis(text=text, language=language, vague=True)
    res_all = resources()
    # A short message may keep the conversation's language ("not happy" in a Dutch
    # conversation) while its words are another language's: match with those words.
    scores = language_scores(text)
    other = "en" if language == "nl" else "nl"
    match_language = other if scores[other] > scores[language] else language
    res = res_all.languages[match_language]
    nlp = get_nlp(match_language)
    doc = nlp(fold(text))
    norm = _norm(text)
    word_count = sum(1 for t in doc if t.is_alpha or t.like_num)

    def span(start_tok: int, end_tok: int) -> tuple[int, int]:
        sp = doc[start_tok:end_tok]
        return sp.start_char, sp.end_char

    # --- sentiment -------------------------------------------------------------
    sent_hits = res.sentiment.find(doc, longest=True)
    contrast_tokens = {h.start for h in sent_hits if h.label == "contrast"}
    contrast_tokens |= {t.i for t in doc[1:] if t.lower_ in res.contrast_after_comma
                        and doc[t.i - 1].text == ","}
    clause_of = _clauses(doc, res, contrast_tokens)
    last_contrast = max(contrast_tokens) if contrast_tokens else -1
    negators = [h for h in sent_hits if h.label == "negators"]
    boosters = [h for h in sent_hits if h.label in ("intensifiers", "diminishers")]
    pos_sum = neg_sum = 0.0
    clause_scores: dict[int, float] = {}
    # "nooit die aanpak veranderen!": the "nooit" inside is praise (signals.yml praise_patterns)
    folded_text = fold(text)
    praise_spans = [m.span() for p in res.praise_patterns for m in p.finditer(folded_text)]
    for hit in sent_hits:
        base = POLARITY.get(hit.label)
        if base is None:
            continue
        if base < 0 and any(s <= doc[hit.start].idx < e for s, e in praise_spans):
            base = -base
        value = base
        clause = clause_of[hit.start]
        negated = any(0 < hit.start - n.end + 1 <= 3 and clause_of[n.start] == clause
                      for n in negators if n.end <= hit.start)
        if negated:
            value = -value * (0.8 if base > 0 else 0.5)
        factor = 1.0
        for b in boosters:
            if b.end <= hit.start and hit.start - b.end <= 1 and clause_of[b.start] == clause:
                factor *= 1.5 if b.label == "intensifiers" else 0.6
        for tok in doc[hit.start:hit.end]:  # shouting: "NIET", "WEER"
            orig = text[tok.idx:tok.idx + len(tok)]
            if len(orig) > 2 and orig.isupper():
                factor *= 1.3
                break
        value *= min(factor, 2.5)
        if contrast_tokens:
            value *= 1.3 if hit.start > last_contrast else 0.75
        clause_scores[clause] = clause_scores.get(clause, 0.0) + value
        if value > 0:
            pos_sum += value
        else:
            neg_sum += -value
    # "goed product, alleen de levering duurde lang": a contrast after praise announces a
    # complaint even when its clause has no polar word (and the reverse after a complaint)
    implied = _implied_by_contrast(doc, last_contrast, sent_hits, clause_scores, clause_of)
    if implied:
        if implied > 0:
            pos_sum += implied
        else:
            neg_sum += -implied
    total = pos_sum - neg_sum
    excl = text.count("!")
    score = math.tanh(total / 2.0) * (1 + 0.15 * min(excl, 3))
    score = max(-1.0, min(1.0, score))
    if pos_sum >= 0.7 and neg_sum >= 0.7 and min(pos_sum, neg_sum) / max(pos_sum, neg_sum) >= 0.4:
        label = "mixed"
    elif score >= 0.2:
        label = "positive"
    elif score <= -0.2:
        label = "negative"
    else:
        label = "neutral"

    # --- aspects ---------------------------------------------------------------
    aspects: list[AspectMention] = []
    hits = res.aspects.find(doc)
    for hit in hits:
        # drop a hit contained in a longer hit for the same aspect
        if any(o.label == hit.label and o is not hit and o.start <= hit.start and hit.end <= o.end
               and (o.end - o.start) > (hit.end - hit.start) for o in hits):
            continue
        s, e = span(hit.start, hit.end)
        clause_sent = clause_scores.get(clause_of[hit.start], 0.0)
        aspects.append(AspectMention(hit.label, text[s:e], s, e, round(math.tanh(clause_sent / 2.0), 3)))
    aspects.sort(key=lambda m: (m.start, m.aspect))

    # --- emotions (expressed feelings only; "niet boos" is not anger) ---------
    emotions: list[EmotionMention] = []
    for hit in res.emotions.find(doc, longest=True):
        clause = clause_of[hit.start]
        negated = any(0 < hit.start - n.end + 1 <= 3 and clause_of[n.start] == clause
                      for n in negators if n.end <= hit.start)
        if negated:
            continue
        s, e = span(hit.start, hit.end)
        emotions.append(EmotionMention(hit.label, text[s:e], s, e))

    # --- perspective dimensions ----------------------------------------------
    dimensions = {h.label for h in res.dimensions.find(doc)}
    if res.dimension_patterns:
        folded = " ".join(fold(text).replace("’", "'").split())
        dimensions |= {dim for dim, pattern in res.dimension_patterns if pattern.search(folded)}
    detail_hits = res.details.find(doc)
    details = len({h.start for h in detail_hits}) + sum(1 for t in doc if t.like_num)
    if details >= 2 or (details >= 1 and word_count >= 10) or word_count >= 20:
        dimensions.add("situation")

    # --- repeat contact --------------------------------------------------------
    excluded = {i for h in res.repeat_exclude.find(doc) for i in range(h.start, h.end)}
    repeat_terms: list[str] = []
    for hit in res.repeat.find(doc, longest=True):
        if any(i in excluded for i in range(hit.start, hit.end)):
            continue
        s, e = span(hit.start, hit.end)
        repeat_terms.append(text[s:e])
    for tok in doc[:-1]:
        if tok.is_digit and tok.text.isdecimal() and int(tok.text) >= 2 and doc[tok.i + 1].lower_ in ("keer", "keren", "times", "x"):
            s, e = span(tok.i, tok.i + 2)
            if text[s:e] not in repeat_terms:
                repeat_terms.append(text[s:e])

    # --- whole-message signals -------------------------------------------------
    dont_know = _matches_whole(norm, res.dont_know, slack=3)
    fed_up = bool(res.fed_up and res.fed_up.find(doc))
    done = _matches_whole(norm, res.done, slack=4) and not fed_up
    if done and dont_know:
        if norm in res.dont_know:
            done = False  # "niks" is "nothing", not "that was all"
        else:
            dont_know = False  # "verder niks" is "that was all"
    # A question phrase counts as written: "call me" is a request, "nobody called me" is not.
    question = "?" in text or any(
        " ".join(t.lower_ for t in doc[h.start:h.end]) in res.question_terms
        for h in res.questions.find(doc))
    toks = norm.split()
    core = " ".join(t for t in toks if t not in FILLERS)
    vague = False
    if not dont_know and not done:
        vague = (norm in res.vague or core in res.vague
                 or (word_count <= 3 and details == 0 and not repeat_terms)
                 or (word_count <= 7 and not aspects and details == 0 and not dimensions))
        # "Hello, feedback about my order": a greeting and a topic, not yet a story
        if not vague and res.greetings is not None and word_count <= 8 and label == "neutral" \
                and details == 0 and not dimensions and not repeat_terms and not emotions \
                and res.greetings.find(doc):
            vague = True
    gibberish = _is_gibberish(toks, res_all) and not aspects
    nothing_to_add = _matches_whole(norm, res.nothing_to_add, slack=1) and details == 0

    return MessageAnalysis(
        text=text, language=language, aspects=aspects, sentiment=round(score, 3),
        sentiment_label=label, emotions=emotions, dimensions=dimensions,
        repeat_contact=bool(repeat_terms), repeat_terms=repeat_terms, vague=vague,
        dont_know=dont_know, done_signal=done, nothing_to_add=nothing_to_add, fed_up=fed_up, question=question, gibberish=gibberish,
        abuse=bool(res.abuse.find(doc)),
        word_count=word_count, details=details,
    )


# Validation, the planner and the story store read the same messages again every turn
# (the store re-captures the whole story). analyze() is deterministic, so its result is
# remembered; keyed by the loaded lexicon too, so a reloaded lexicon never serves old results.
_CACHE_SIZE = 5_000
_cache: dict[tuple[str, str | None, int], tuple[object, MessageAnalysis]] = {}


def analyze_cached(text: str, previous_language: str | None = None) -> MessageAnalysis:
    """analyze(), remembered. The result is shared: treat it as read-only."""
    res = resources()
    key = (text, previous_language, id(res))
    hit = _cache.get(key)
    if hit is not None:  # the entry holds `res` itself, so its id cannot be another's meanwhile
        return hit[1]
    result = analyze(text, previous_language)
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[key] = (res, result)
    return result


analyze_cached.cache_clear = _cache.clear  # type: ignore[attr-defined]  # like functools.lru_cache


def analyze_story(customer_texts: list[str], language: str) -> StoryAnalysis:
    """Aggregate analysis over all customer messages of one conversation."""
    aspects: list[str] = []
    emotions: list[str] = []
    repeat = False
    weighted = weight = 0.0
    pos = neg = 0
    mixed = False
    previous = language
    for text in customer_texts or ():
        if not text or not text.strip() or text.lstrip().startswith("/"):
            continue
        a = analyze_cached(text, previous)
        previous = a.language
        for name in a.aspect_names:
            if name not in aspects:
                aspects.append(name)
        for name in a.emotion_names:
            if name not in emotions:
                emotions.append(name)
        repeat = repeat or a.repeat_contact
        if a.sentiment_label != "neutral":
            w = max(1, a.word_count)
            weighted += a.sentiment * w
            weight += w
            pos += a.sentiment_label == "positive"
            neg += a.sentiment_label == "negative"
            mixed = mixed or a.sentiment_label == "mixed"
    score = round(weighted / weight, 3) if weight else 0.0
    if (pos and neg) or (mixed and abs(score) < 0.4):
        label = "mixed" if abs(score) < 0.4 else ("positive" if score > 0 else "negative")
    elif score >= 0.2:
        label = "positive"
    elif score <= -0.2:
        label = "negative"
    else:
        label = "neutral"
    return StoryAnalysis(aspects=aspects, sentiment=label, sentiment_score=score,
                         emotions=emotions, repeat_contact=repeat)
