"""Loading the aspect lexicon (lexicon.yml) and the language signals (signals.yml).

Both files are plain YAML so a company can configure them without retraining:
``GEHOOR_LEXICON`` and ``GEHOOR_SIGNALS`` override their paths. Call ``reload()`` after
changing a file or an environment variable in a running process.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .aspect_index import AspectIndex
from .nlp import LANGUAGES, TermIndex, fold, get_nlp

HERE = Path(__file__).resolve().parent
DEFAULT_LEXICON = HERE / "lexicon.yml"
DEFAULT_SIGNALS = HERE / "signals.yml"

REQUIRED_ASPECTS = (
    "delivery", "customer_service", "waiting_time", "price_billing", "product_quality",
    "website_app", "staff_attitude", "communication", "contract_subscription",
    "returns_refunds",
)
DIMENSIONS = ("situation", "expectation", "impact", "priority", "in_our_place", "blind_spot")
CROSS_EXCLUDE = frozenset({"kind", "lost", "glad", "best", "most", "well", "fair", "mist",
                           "late", "slim", "even", "door", "hard", "stuk", "zat", "mis"})
SENTIMENT_KEYS = ("positive", "strong_positive", "negative", "strong_negative",
                  "negators", "intensifiers", "diminishers", "contrast")


def lexicon_path() -> Path:
    return Path(os.environ.get("GEHOOR_LEXICON") or DEFAULT_LEXICON)


def signals_path() -> Path:
    return Path(os.environ.get("GEHOOR_SIGNALS") or DEFAULT_SIGNALS)


def _phrase_set(items) -> frozenset[str]:
    return frozenset(" ".join(fold(str(i)).split()) for i in items or ())


@dataclass
class LanguageResources:
    """Everything analysis needs for one language, built once."""

    language: str
    aspects: AspectIndex  # a TermIndex with compounds, exceptions and the second opinion
    aspect_nouns: frozenset[str]  # folded terms the bot may echo back
    aspect_labels: dict[str, str]  # aspect -> display label in this language
    sentiment: TermIndex
    emotions: TermIndex
    emotion_adjectives: dict[str, str]  # folded adjective -> emotion
    dimensions: TermIndex
    details: TermIndex
    repeat: TermIndex
    repeat_exclude: TermIndex
    questions: TermIndex
    abuse: TermIndex
    vague: frozenset[str]
    dont_know: frozenset[str]
    done: frozenset[str]
    nothing_to_add: frozenset[str] = frozenset()  # polite refusals, bare yes/no
    fed_up: TermIndex | None = None  # "ik ben het zat": frustration, never "done"
    interjections: frozenset[str] = frozenset()  # "pff", "grr": feelings, not keyboard mash
    person_terms: TermIndex | None = None  # a request for a person names one (interrupts.py)
    question_openers: frozenset[str] = frozenset()  # first words that make a question
    this_chat: frozenset[str] = frozenset()  # "deze vragen", "this chat": fed up with us talking
    contrast_after_comma: frozenset[str] = frozenset()  # "al": a contrast only after a comma
    stop_words: frozenset[str] = frozenset()  # "stop", "quit": a stop said in so many words
    complaint_openers: frozenset[str] = frozenset()  # "waarom …?", "how hard is it …?": a complaint
    markers: frozenset[str] = field(default_factory=frozenset)
    # regular expressions on the folded text, per dimension ("ik zou <werkwoord>")
    dimension_patterns: tuple[tuple[str, "re.Pattern[str]"], ...] = ()
    praise_patterns: tuple["re.Pattern[str]", ...] = ()  # "never change X": praise (analysis.py)
    question_terms: frozenset[str] = frozenset()  # folded question phrases, matched as written
    greetings: TermIndex | None = None  # "hoi", "feedback": an opening, not yet a story


@dataclass
class Resources:
    lexicon_file: Path
    signals_file: Path
    aspect_names: tuple[str, ...]
    languages: dict[str, LanguageResources]
    markers: dict[str, frozenset[str]]
    nl_het_words: frozenset[str] = frozenset()


_lock = threading.Lock()
_cache: dict[tuple[str | None, str | None], Resources] = {}


def _check_strings(node, path: Path, where: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _check_strings(v, path, f"{where}/{k}")
    elif isinstance(node, list):
        for v in node:
            if not isinstance(v, (str, dict)):
                raise ValueError(
                    f"{path}: entry {v!r} under {where} is not text; put quotes around "
                    f"words YAML reads as true/false/numbers (\"yes\", \"no\", \"on\", \"off\")")


def _read_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    _check_strings(data, path)
    return data


def _patterns(spec, path: Path, lang: str) -> tuple:
    out = []
    for dim, patterns in (spec or {}).items():
        if dim not in DIMENSIONS:
            raise ValueError(f"{path}: {lang}/dimension_patterns: unknown dimension {dim!r}")
        for pattern in patterns or ():
            try:
                out.append((dim, re.compile(pattern)))
            except re.error as exc:
                raise ValueError(f"{path}: {lang}/dimension_patterns/{dim}: bad pattern {pattern!r}: {exc}") from None
    return tuple(out)


def _build(lexicon_file: Path, signals_file: Path) -> Resources:
    lex = _read_yaml(lexicon_file)
    sig = _read_yaml(signals_file)
    aspects = lex.get("aspects") or {}
    if not aspects:
        raise ValueError(f"{lexicon_file}: no 'aspects' defined")
    markers = {lang: _phrase_set((sig.get(lang) or {}).get("language_markers")) for lang in LANGUAGES}
    languages = {}
    for lang in LANGUAGES:
        nlp = get_nlp(lang)
        s = sig.get(lang) or {}
        aspect_entries, nouns, labels = [], set(), {}
        not_entries: list = []
        heads: dict[str, set[str]] = {}  # head word -> aspect names
        weak: dict[str, set[str]] = {}  # aspect name -> folded weak terms
        for name, spec in aspects.items():
            spec = spec or {}
            label = (spec.get("label") or {}).get(lang) or name.replace("_", " ")
            labels[name] = label
            # terms of both languages, so code-switching ("mijn delivery") still matches
            for term_lang in LANGUAGES:
                for term in spec.get(term_lang) or ():
                    aspect_entries.append((name, term))
                    t = fold(str(term))
                    if "*" not in t:
                        nouns.add(t)
                for term in spec.get(f"{term_lang}_match") or ():
                    aspect_entries.append((name, term))
                for term in spec.get(f"{term_lang}_not") or ():
                    not_entries.append((name, term))
                for term in spec.get(f"{term_lang}_weak") or ():
                    weak.setdefault(name, set()).add(" ".join(fold(str(term)).split()))
            # compound heads: this language's single words ("pakketbezorger" ends in "bezorger")
            for term in (spec.get(lang) or []) + (spec.get(f"{lang}_match") or []):
                t = fold(str(term)).strip()
                if "*" not in t and " " not in t:
                    heads.setdefault(t, set()).add(name)
        sent = s.get("sentiment") or {}
        sent_entries = [(key, term) for key in SENTIMENT_KEYS for term in sent.get(key) or ()]
        # a fed-up idiom is strongly negative and frustration (unless listed there already)
        fed_up = list(s.get("fed_up") or ())
        listed = {fold(str(t)) for _, t in sent_entries}
        sent_entries += [("strong_negative", t) for t in fed_up if fold(str(t)) not in listed]
        # polar words of the other language too ("happy" in a Dutch conversation), but
        # not those that are also ordinary words here (nl "kind" = child, "glad" = slippery)
        own = {fold(str(t)) for _, t in sent_entries} | markers[lang] | CROSS_EXCLUDE
        for other in LANGUAGES:
            if other == lang:
                continue
            other_sent = (sig.get(other) or {}).get("sentiment") or {}
            for key in ("positive", "strong_positive", "negative", "strong_negative"):
                for term in other_sent.get(key) or ():
                    if fold(str(term)) not in own:
                        sent_entries.append((key, term))
        emo_entries, adjectives = [], {}
        for emotion, spec in (s.get("emotions") or {}).items():
            for term in (spec or {}).get("adjectives") or ():
                emo_entries.append((emotion, term))
                adjectives[" ".join(fold(term).split())] = emotion
            for term in (spec or {}).get("terms") or ():
                emo_entries.append((emotion, term))
        listed = {fold(str(t)) for _, t in emo_entries}
        emo_entries += [("frustration", t) for t in fed_up if fold(str(t)) not in listed]
        interruptions = s.get("interruptions") or {}
        dim_entries = [(dim, term) for dim, terms in (s.get("dimensions") or {}).items()
                       for term in terms or ()]
        languages[lang] = LanguageResources(
            language=lang,
            aspects=AspectIndex(nlp, aspect_entries, language=lang, nouns=heads,
                                not_entries=not_entries,
                                person_aspects=frozenset(lex.get("person_aspects") or ()),
                                weak=weak,
                                second_opinion=second_opinion(lexicon_file, aspects)),
            aspect_nouns=frozenset(nouns),
            aspect_labels=labels,
            sentiment=TermIndex(nlp, sent_entries),
            emotions=TermIndex(nlp, emo_entries),
            emotion_adjectives=adjectives,
            dimensions=TermIndex(nlp, dim_entries),
            details=TermIndex(nlp, [("detail", t) for t in s.get("situation_details") or ()]),
            repeat=TermIndex(nlp, [("repeat", t) for t in s.get("repeat") or ()]),
            repeat_exclude=TermIndex(nlp, [("exclude", t) for t in s.get("repeat_exclude") or ()]),
            questions=TermIndex(nlp, [("question", t) for t in s.get("questions") or ()]),
            abuse=TermIndex(nlp, [("abuse", t) for t in s.get("abuse") or ()]),
            vague=_phrase_set(s.get("vague")),
            dont_know=_phrase_set(s.get("dont_know")),
            done=_phrase_set(s.get("done")),
            nothing_to_add=_phrase_set(s.get("nothing_to_add")),
            fed_up=TermIndex(nlp, [("fed_up", t) for t in fed_up]),
            interjections=_phrase_set(s.get("interjections")),
            person_terms=TermIndex(nlp, [("person", t) for t in interruptions.get("person") or ()]),
            question_openers=_phrase_set(interruptions.get("question_openers")),
            this_chat=_phrase_set(interruptions.get("this_chat")),
            complaint_openers=_phrase_set(interruptions.get("complaint_openers")),
            stop_words=_phrase_set(interruptions.get("stop_words")),
            contrast_after_comma=_phrase_set(sent.get("contrast_after_comma")),
            markers=markers[lang],
            dimension_patterns=_patterns(s.get("dimension_patterns"), signals_file, lang),
            praise_patterns=tuple(re.compile(p) for p in sent.get("praise_patterns") or ()),
            question_terms=_phrase_set(s.get("questions")),
            greetings=TermIndex(nlp, [("greeting", t) for t in s.get("greetings") or ()]),
        )
    het = frozenset(fold(str(w)) for w in lex.get("nl_het_words") or ())
    return Resources(lexicon_file, signals_file, tuple(aspects), languages, markers, het)


def second_opinion(lexicon_file: Path, aspects: dict):
    """The classifier asked when the lexicon finds no aspect, or None when switched off
    (GEHOOR_ASPECT_CLASSIFIER=off). Trained here, with the lexicon, so that warm_up()
    pays for it and not the first customer whose message has no lexicon term."""
    if os.environ.get("GEHOOR_ASPECT_CLASSIFIER", "on").lower() in ("off", "0", "false", "no"):
        return None
    from .aspect_classifier import LazySecondOpinion

    opinion = LazySecondOpinion(known_aspects=tuple(aspects), lexicon_aspects=aspects)
    opinion.classifier  # noqa: B018 - train now (see docstring)
    return opinion


def resources() -> Resources:
    """The loaded resources for the current GEHOOR_LEXICON / GEHOOR_SIGNALS paths."""
    # Called for every analysed message, cache hits included: keyed by the raw settings,
    # because building the Path objects cost more than the rest of a cached analysis.
    key = (os.environ.get("GEHOOR_LEXICON"), os.environ.get("GEHOOR_SIGNALS"))
    res = _cache.get(key)
    if res is None:
        with _lock:
            res = _cache.get(key)
            if res is None:
                res = _build(lexicon_path(), signals_path())
                _cache[key] = res
    return res


_markers_cache: dict[str | None, dict[str, frozenset[str]]] = {}


def markers() -> dict[str, frozenset[str]]:
    """Language marker words per language, read from signals.yml without spaCy."""
    key = os.environ.get("GEHOOR_SIGNALS")
    found = _markers_cache.get(key)
    if found is None:
        sig = _read_yaml(signals_path())
        found = {lang: _phrase_set((sig.get(lang) or {}).get("language_markers")) for lang in LANGUAGES}
        _markers_cache[key] = found
    return found


_greetings_cache: dict[str | None, dict[str, frozenset[str]]] = {}


def opening_greetings() -> dict[str, frozenset[str]]:
    """Greetings that name the language of a first message, per language (without spaCy)."""
    key = os.environ.get("GEHOOR_SIGNALS")
    found = _greetings_cache.get(key)
    if found is None:
        sig = _read_yaml(signals_path())
        found = {lang: _phrase_set((sig.get(lang) or {}).get("opening_greetings")) for lang in LANGUAGES}
        _greetings_cache[key] = found
    return found


def reload() -> Resources:
    """Forget cached lexicons (after editing a file) and load them again."""
    with _lock:
        _cache.clear()
        _markers_cache.clear()
        _greetings_cache.clear()
    return resources()


def aspect_names() -> tuple[str, ...]:
    return resources().aspect_names


def aspect_label(aspect: str, language: str) -> str:
    lang = language if language in LANGUAGES else "nl"
    return resources().languages[lang].aspect_labels.get(aspect, aspect.replace("_", " "))
