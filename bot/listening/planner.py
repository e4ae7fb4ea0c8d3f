"""The listening planner: which perspective to ask about next, and how to say it.

Pure functions on ``ConversationState``: the same state always gives the same answer,
so a Rasa form can call them on every turn. Nothing here imports Rasa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import catalogue
from .analysis import MessageAnalysis, analyze_cached, analyze_story
from .lexicon import aspect_label, resources
from .nlp import LANGUAGES, fold, get_nlp
from .score import parse_score

FOLLOWUP_DIMENSIONS = ("situation", "expectation", "impact", "priority", "in_our_place", "blind_spot")
ANSWER_ORDER = ("reason",) + FOLLOWUP_DIMENSIONS
NEGATIVE_EMOTIONS = {"frustration", "anger", "disappointment", "worry", "stress", "confusion"}
POSITIVE_EMOTIONS = {"relief", "happiness"}

# Which missing perspective adds most, by how the customer feels about us.
ORDER_DETRACTOR = ("expectation", "impact", "in_our_place", "priority", "blind_spot")
ORDER_PASSIVE = ("expectation", "priority", "in_our_place", "impact", "blind_spot")
ORDER_PROMOTER = ("priority", "impact", "in_our_place", "blind_spot", "expectation")


@dataclass
class ConversationState:
    language: str = "nl"
    score: int | None = None
    answers: dict[str, str] = field(default_factory=dict)  # dimension -> customer text
    asked: list[str] = field(default_factory=list)  # follow-up dimensions asked, in order
    opened_with_story: bool = False
    done: bool = False  # the customer signalled they are done
    max_followups: int = 3


def _lang(state: ConversationState) -> str:
    return state.language if state.language in LANGUAGES else "nl"


def asked_dimensions(state: ConversationState) -> list[str]:
    """The follow-up dimensions asked so far, in order: ``state.asked`` plus every
    follow-up dimension that already has an answer (a slot can be filled before the
    caller records that its question was asked)."""
    asked = list(state.asked)
    asked += [d for d in state.answers if d in FOLLOWUP_DIMENSIONS and d not in asked]
    return asked


def _texts(state: ConversationState) -> list[tuple[str, str]]:
    """(dimension, text) of all non-empty answers, in conversation order."""
    out = [(k, state.answers[k]) for k in ANSWER_ORDER if (state.answers.get(k) or "").strip()]
    out += [(k, v) for k, v in state.answers.items()
            if k not in ANSWER_ORDER and (v or "").strip()]
    # follow-up answers are better ordered by when they were asked
    asked_rank = {d: i for i, d in enumerate(asked_dimensions(state))}
    out.sort(key=lambda kv: (0 if kv[0] not in asked_rank else 1, asked_rank.get(kv[0], 0)))
    return out


def _band(state: ConversationState, analyses: list[MessageAnalysis]) -> str:
    if state.score is not None:
        if state.score <= 6:
            return "detractor"
        if state.score <= 8:
            return "passive"
        return "promoter"
    labels = [a.sentiment_label for a in analyses]
    if "negative" in labels or "mixed" in labels:
        return "detractor"
    if "positive" in labels:
        return "promoter"
    return "passive"


def covered_dimensions(state: ConversationState) -> set[str]:
    """Dimensions whose content the customer already gave, in any answer."""
    lang = _lang(state)
    covered = {k for k in state.answers if k in FOLLOWUP_DIMENSIONS}
    for _, t in _texts(state):
        covered |= analyze_cached(t, lang).dimensions
    return covered


def plan_next_dimension(state: ConversationState) -> str | None:
    """The most valuable missing perspective dimension, or None to go to verification."""
    asked = asked_dimensions(state)
    if state.done or len(asked) >= max(0, state.max_followups):
        return None
    lang = _lang(state)
    texts = _texts(state)
    analyses = [analyze_cached(t, lang) for _, t in texts]
    if analyses and analyses[-1].done_signal:
        return None
    followup = [analyze_cached(t, lang) for k, t in texts if k in FOLLOWUP_DIMENSIONS]
    if any(a.done_signal for a in followup):
        return None  # the customer said "dat was het" (the order of answers may be unknown)
    if len(analyses) >= 2 and analyses[-1].dont_know and analyses[-2].dont_know and asked:
        return None  # two "don't know" answers in a row: stop asking
    if sum(a.dont_know for a in analyses) >= 2 and asked:
        return None
    covered = covered_dimensions(state) | set(asked)
    story = [a for a in analyses if not a.dont_know and not a.done_signal]
    story_words = sum(a.word_count for a in story)
    band = _band(state, analyses)
    # A promoter's short but clear reason ("quick delivery and friendly staff") is not vague.
    short = story_words < 8 and not (band == "promoter" and any(a.aspects for a in story))
    vague = not story or all(a.vague for a in story) or short
    if vague and "situation" not in covered:
        return "situation"
    if {"expectation", "impact"} <= covered and covered & {"priority", "in_our_place"}:
        return None  # the story is complete enough
    order = {"detractor": ORDER_DETRACTOR, "passive": ORDER_PASSIVE}.get(band, ORDER_PROMOTER)
    for dim in order:
        if dim not in covered:
            return dim
    return None


# --- acknowledgement ------------------------------------------------------------

_DETERMINERS = {
    "nl": {"mijn": "je", "m'n": "je", "de": "de", "het": "het", "een": "een", "jullie": "jullie",
           "uw": "jullie", "die": "die", "dat": "dat", "deze": "deze", "dit": "dit", "je": "je",
           "jouw": "je", "onze": "onze", "ons": "ons"},
    "en": {"my": "your", "the": "the", "your": "our", "a": "a", "an": "an", "this": "this",
           "that": "that", "these": "these", "those": "those", "our": "your"},
}
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)


def _thing_phrase(a: MessageAnalysis, mention, lang: str) -> str:
    """The customer's own words for a thing, with its determiner: "je pakket"."""
    before = a.text[: mention.start]
    prev = _WORD.findall(before)[-3:]
    dets = _DETERMINERS[lang]
    phrase = mention.text.strip().lower() if not mention.text.isupper() else mention.text.strip()
    for i in range(len(prev) - 1, -1, -1):
        w = fold(prev[i])
        if w in dets:
            middle = [p for p in prev[i + 1:]]
            if all(p.isalpha() for p in middle):
                return " ".join([dets[w]] + [m.lower() for m in middle] + [phrase])
            break
    if lang == "en":
        return "the " + phrase
    lemma = " ".join(t.lemma_ for t in get_nlp("nl")(fold(phrase)))
    article = "het" if fold(phrase) in resources().nl_het_words and lemma == fold(phrase) else "de"
    return f"{article} {phrase}"


def _is_noun_term(said: str, lang: str, nouns: frozenset[str]) -> bool:
    folded = " ".join(fold(said).split())
    if folded in nouns:
        return True
    if lang == "en" and folded.endswith(("ed", "ing")):
        return False  # "I ordered": a verb whose lemma is a noun ("order")
    lemma = " ".join(t.lemma_ for t in get_nlp(lang)(folded))
    return lemma in nouns


def _choose_thing(a: MessageAnalysis, lang: str, want: str | None = None):
    res = resources().languages[lang]
    mentions = [m for m in a.aspects if _is_noun_term(m.text, lang, res.aspect_nouns)]
    if want == "negative":
        mentions = [m for m in mentions if m.sentiment < -0.1] or mentions
    elif want == "positive":
        mentions = [m for m in mentions if m.sentiment > 0.1]
    if mentions:
        return _thing_phrase(a, mentions[0], lang)
    if a.aspects and want is None:
        return aspect_label(a.aspects[0].aspect, lang)
    return None


def _feeling(a: MessageAnalysis, lang: str) -> tuple[str, str] | None:
    """(word, "negative"|"positive") for the first feeling the customer expressed."""
    res = resources().languages[lang]
    for m in a.emotions:
        if m.emotion not in NEGATIVE_EMOTIONS | POSITIVE_EMOTIONS:
            continue
        polarity = "negative" if m.emotion in NEGATIVE_EMOTIONS else "positive"
        said = " ".join(fold(m.text).split())
        if said in ("klaar mee", "er klaar mee"):
            return "er klaar mee", polarity
        for adj, emotion in res.emotion_adjectives.items():
            if emotion == m.emotion and (said == adj or (said.startswith(adj) and len(said) - len(adj) <= 2)):
                return m.text.strip().lower()[: len(adj)] if said != adj else m.text.strip().lower(), polarity
        try:
            return catalogue.text(f"feelings.{m.emotion}", lang), polarity
        except KeyError:
            continue
    return None


def _quote(text: str, max_words: int = 10) -> str:
    first = re.split(r"(?<=[.!?;])\s+|\n", text.strip())[0].strip()
    first = first.rstrip(".!?;,: ")
    ws = first.split()
    if len(ws) > max_words:
        return " ".join(ws[:max_words]) + "…"
    return first


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


# Words a statement starts with (after the pronoun shift): then it is a sentence that can
# be reflected or summarised as it is. Anything else is a fragment ("dat het snel gaat").
_SUBJECTS = {
    "nl": frozenset("je jij hij zij ze het de er die deze dit men iemand niemand niks niets alles "
                    "onze ons wij we elke iedere geen mijn".split()),
    "en": frozenset("you you're you've you'd you'll he she they it it's the there this these those "
                    "someone somebody nobody no everyone everything nothing your our we we're "
                    "each every nothing".split()),
}
_COMPANY_SUBJECTS = frozenset({"wij", "we", "we're", "ons", "onze", "our"})
_THAT = {"nl": "dat", "en": "that"}
_VERB_AFTER_THAT = frozenset(
    "was is kost kostte werd wordt heeft had zou ging gaat maakte maakt deed doet voelde voelt "
    "klopt klopte zat made makes cost costs took takes felt feels did does would will should "
    "meant means hurt".split())


def _is_statement(shifted: str, lang: str) -> bool:
    """True for a sentence with its own subject ("de levering was te laat", "it cost you a
    day"); False for a fragment that only makes sense after the question ("speed",
    "dat het snel gaat", "knowing when it arrives")."""
    ws = [fold(w).replace("’", "'") for w in _WORD.findall(shifted)]
    if len(ws) < 3:
        return False
    if ws[0] == _THAT[lang]:
        return ws[1] in _VERB_AFTER_THAT
    return ws[0] in _SUBJECTS[lang]


def _story_text(text: str) -> str:
    """``text`` without the questions it asks the bot ("sorry, can I continue in English?
    I expected him in the morning" -> the second sentence), unless it is only questions."""
    sentences = [p for p in re.split(r"(?<=[.!?;])\s+|\n", (text or "").strip()) if p.strip()]
    kept = [p for p in sentences if not p.rstrip().endswith("?")]
    return " ".join(kept) if kept and len(kept) < len(sentences) else (text or "")


_ABOUT_CUSTOMER = frozenset({"je", "jij", "jou", "you", "you're", "you'd", "you've", "your", "ik", "i"})


def _wish_like(fragment: str, lang: str) -> bool:
    """"dat ze eerlijk zeggen wanneer hij komt", "that they just tell you": a wish about
    what others should do, not what it meant for the customer ("dat je er niet op kunt
    rekenen")."""
    ws = [fold(w).replace("’", "'") for w in _WORD.findall(fragment)]
    return len(ws) >= 3 and ws[0] == _THAT[lang] and ws[1] not in _ABOUT_CUSTOMER


def _self_labelled(a: MessageAnalysis, shifted: str) -> bool:
    """A text that names its own perspective about the customer ("snelheid vind je het
    belangrijkste", "het kost je vertrouwen"): it reads well on its own."""
    if not (a.dimensions - {"situation"}):
        return False
    ws = {fold(w).replace("’", "'") for w in _WORD.findall(shifted)}
    return len(ws) >= 3 and bool(ws & {"je", "jij", "jou", "you", "you're", "you'd", "you've", "your"})


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?;])\s+|\n", _story_text(text).strip())[0]


def _reflection(a: MessageAnalysis, lang: str, max_words: int = 14) -> str | None:
    """The customer's own statement turned to "je"/"you", when it is short: "hij gooide je
    pakket over het hek", "je had verwacht dat ...". Never a verdict on the company as a
    whole ("jullie zijn waardeloos" is not echoed as "wij zijn waardeloos")."""
    if a.abuse or a.gibberish or a.dont_know or a.done_signal:
        return None
    sentence = _first_sentence(a.text)
    if "?" in sentence:
        return None
    shifted = _clean(shift_pronouns(sentence, lang))
    if shifted and not (_is_statement(shifted, lang) or _self_labelled(a, shifted)):
        # "prima, maar de chat reageerde traag": the statement after "maar"/"but"
        parts = re.split(r"[,;]?\s+(?:maar|but)\s+", sentence, maxsplit=1, flags=re.IGNORECASE)
        shifted = _clean(shift_pronouns(parts[1], lang)) if len(parts) == 2 else ""
    if shifted and len(shifted.split()) > max_words and a.repeat_terms:
        # a long story: the clause that says it happened again / is still so
        # ("…, maar hij is nog steeds niet geleverd en …" -> "hij is nog steeds niet geleverd")
        for clause in re.split(r"\s*[,;]\s*|\s+(?:maar|but|en|and)\s+", sentence, flags=re.IGNORECASE):
            if any(fold(term) in fold(clause) for term in a.repeat_terms):
                candidate = _clean(shift_pronouns(clause, lang))
                if _is_statement(candidate, lang) and len(candidate.split()) <= max_words:
                    shifted = candidate
                break
    if not shifted or len(shifted.split()) > max_words or shifted.endswith("…"):
        return None
    if not (_is_statement(shifted, lang) or _self_labelled(a, shifted)):
        return None
    first = fold(_WORD.findall(shifted)[0]).replace("’", "'")
    if first in ("wij", "we", "we're"):
        return None
    return shifted[:1].lower() + shifted[1:] if not shifted.startswith(("I ", "I'")) else shifted


def _fragment(a: MessageAnalysis, lang: str, max_words: int = 12) -> str | None:
    """A short answer that only makes sense after its question, pronouns shifted."""
    if a.abuse or a.question or a.gibberish or a.dont_know or a.done_signal or not a.text.strip():
        return None
    shifted = _clean(shift_pronouns(_first_sentence(a.text), lang))
    if not shifted or len(shifted.split()) > max_words or shifted.endswith("…"):
        return None
    if _is_statement(shifted, lang) or _self_labelled(a, shifted) or _bare_yes_no(a.text):
        return None
    return shifted[:1].lower() + shifted[1:] if not shifted.startswith(("I ", "I'")) else shifted


WISH_DIMENSIONS = {"expectation", "priority", "in_our_place", "blind_spot"}
# answers that may be a fragment, reflected with their question's frame ("ack_answer.<dim>")
ANSWER_FRAGMENT_DIMENSIONS = WISH_DIMENSIONS | {"impact"}


def _mentions_repeat(reflection: str, a: MessageAnalysis) -> bool:
    low = fold(reflection)
    return any(fold(term) in low for term in a.repeat_terms)


def acknowledge_analysis(a: MessageAnalysis, language: str, turn: int, answered: str | None = None) -> str:
    """A short acknowledgement built from this customer's own words (may be empty).

    ``answered`` is the dimension the text answers; an answer about a wish or a
    priority ("dat ze sneller reageren op de chat") is not an evaluation, so it gets a
    neutral acknowledgement instead of "good to hear" / "didn't sit right".
    """
    lang = language if language in LANGUAGES else "nl"
    parts: list[str] = []
    if a.dont_know:
        return catalogue.text("ack_dont_know", lang, turn)
    wish = answered in WISH_DIMENSIONS
    pos = None if wish else _choose_thing(a, lang, "positive")
    neg = _choose_thing(a, lang, "negative") if pos else None
    feeling = _feeling(a, lang)
    if pos and neg and pos != neg and any(m.sentiment < -0.1 for m in a.aspects):
        parts.append(catalogue.text("ack_mixed", lang, turn, pos_thing=pos, neg_thing=neg,
                                    Pos_thing=_cap(pos)))
    else:
        want = "negative" if a.sentiment_label in ("negative", "mixed") and not wish else None
        thing = _choose_thing(a, lang, want)
        reflection = _reflection(a, lang)
        repeat_said = a.repeat_contact and a.sentiment_label != "positive"
        fragment = _fragment(a, lang) if answered in ANSWER_FRAGMENT_DIMENSIONS else None
        frame = answered
        if fragment and answered == "impact" and _wish_like(fragment, lang):
            frame = "expectation"  # "what did it mean for you?" - "that they just tell me"
        if reflection and (not repeat_said or _mentions_repeat(reflection, a)):
            parts.append(catalogue.text("ack_reflect", lang, turn, text=reflection, Text=_cap(reflection)))
        elif repeat_said:
            if thing:
                parts.append(catalogue.text("ack_repeat_thing", lang, turn, thing=thing, Thing=_cap(thing)))
            else:
                parts.append(catalogue.text("ack_repeat", lang, turn))
        elif fragment:
            parts.append(catalogue.text(f"ack_answer.{frame}", lang, turn, text=fragment))
        elif thing:
            key = "ack_thing" if wish else {
                "negative": "ack_thing_negative", "positive": "ack_thing_positive"}.get(
                a.sentiment_label, "ack_thing")
            parts.append(catalogue.text(key, lang, turn, thing=thing, Thing=_cap(thing)))
        elif a.vague and a.word_count <= 3 and not a.gibberish and not a.done_signal and not feeling \
                and not _bare_yes_no(a.text) and a.text.strip():
            parts.append(catalogue.text("ack_vague", lang, turn, quote=_quote(a.text),
                                        Quote=_cap(_quote(a.text))))
        elif a.word_count >= 2 and not a.gibberish and not a.done_signal and not feeling \
                and not _bare_yes_no(a.text):
            parts.append(catalogue.text("ack_quote", lang, turn, quote=_quote(a.text)))
    if feeling:
        word, polarity = feeling
        parts.append(catalogue.text(f"ack_feeling_{polarity}", lang, turn, feeling=word))
    return " ".join(p for p in parts if p)


def acknowledge(text: str, analysis: MessageAnalysis | None = None, language: str | None = None,
                turn: int = 0) -> str:
    """Acknowledgement of one customer message, without a question (may be empty).

    Convenience for callers without a ConversationState, e.g. the opening after a
    customer started with their story: ``acknowledge(text, analyze(text), "nl")``.
    """
    lang = language if language in LANGUAGES else (analysis.language if analysis else "nl")
    a = analysis if analysis is not None else analyze_cached(text or "", lang)
    return acknowledge_analysis(a, lang, turn)


def _answered_dimension(state: ConversationState, last_text: str, asked: list[str]) -> str | None:
    """The dimension ``last_text`` answers: the one whose stored answer it is, else the
    last one asked."""
    if last_text:
        for dim in reversed(asked):
            if (state.answers.get(dim) or "").strip() == last_text.strip():
                return dim
        if (state.answers.get("reason") or "").strip() == last_text.strip():
            return None
    return asked[-1] if asked else None


def compose_acknowledgement(state: ConversationState, last_text: str) -> str:
    """Only the acknowledgement of ``last_text`` (may be empty): e.g. to put before
    ``text("opening_after_story", ...)`` for a customer who opened with their story."""
    lang = _lang(state)
    asked = asked_dimensions(state)
    answered = _answered_dimension(state, last_text, asked)
    return acknowledge_analysis(analyze_cached(last_text or "", lang), lang, len(asked), answered)


def _bare_score(text: str) -> int | None:
    """The score when ``text`` is nothing but a score ("6", "een dikke 7", "8/10")."""
    if not text or len(_WORD.findall(text)) > 4:
        return None
    result = parse_score(text)
    return result.value if result.ok else None


def _is_promoter(state: ConversationState) -> bool:
    lang = _lang(state)
    return _band(state, [analyze_cached(t, lang) for _, t in _texts(state)]) == "promoter"


def compose_followup(state: ConversationState, dimension: str, last_text: str, again: bool = False) -> str:
    """Acknowledge ``last_text`` in the customer's words, then ask ONE open question.

    ``again=True`` is for asking the same question after an interruption (why-ask,
    abuse, a question the bot cannot answer): no acknowledgement, and other words than
    the first time, so the bot never repeats itself word for word."""
    if dimension not in FOLLOWUP_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    lang = _lang(state)
    asked = asked_dimensions(state)
    if dimension in asked and not (state.answers.get(dimension) or "").strip():
        asked.remove(dimension)  # the caller already recorded the question being asked now
    turn = len(asked)
    score = _bare_score(last_text or "")
    if again:
        ack = ""
    elif score is not None and state.answers.get("reason"):
        ack = catalogue.text("ack_score", lang, turn, score=score)  # the score came after the story
    else:
        a = analyze_cached(last_text or "", lang)
        ack = acknowledge_analysis(a, lang, turn, _answered_dimension(state, last_text, asked))
    key = f"q_{dimension}"
    if dimension == "situation" and _is_promoter(state):
        key = "q_situation_positive"
    question = catalogue.text(key, lang, turn + len(state.answers) + (1 if again else 0))
    return f"{ack} {question}".strip()


def compose_reason_question(state: ConversationState, again: bool = False) -> str:
    """"Wat is de belangrijkste reden voor je 4?" — or a variant without a score.

    ``again=True`` asks it once more after an interruption, without thanking for the
    score a second time and in other words than the first time."""
    lang = _lang(state)
    if state.score is None:
        return catalogue.text("ask_reason_no_score", lang, len(state.answers) + (1 if again else 0))
    if again:
        return catalogue.text("ask_reason_again", lang, int(state.score), score=int(state.score))
    return catalogue.text("ask_reason", lang, int(state.score), score=int(state.score))


# --- summaries -------------------------------------------------------------------

_NL_VERB_AFTER_IK = {
    "ben": "bent", "heb": "hebt", "vind": "vindt", "wil": "wilt", "kan": "kunt", "word": "wordt",
    "denk": "denkt", "hoop": "hoopt", "krijg": "krijgt", "snap": "snapt", "zie": "ziet",
    "ga": "gaat", "doe": "doet", "sta": "staat", "bel": "belt", "mis": "mist",
    "betaal": "betaalt", "voel": "voelt", "blijf": "blijft", "vraag": "vraagt",
    "zoek": "zoekt", "woon": "woont", "begrijp": "begrijpt", "zal": "zult", "kom": "komt",
    "loop": "loopt", "maak": "maakt", "baal": "baalt", "erger": "ergert", "zit": "zit",
    "wacht": "wacht", "moet": "moet", "weet": "weet", "verwacht": "verwacht", "hou": "houdt",
    "houd": "houdt", "wou": "wou", "lees": "leest", "schrijf": "schrijft", "geef": "geeft",
    "mag": "mag", "sla": "slaat", "zeg": "zegt", "vertrouw": "vertrouwt", "bestel": "bestelt",
    "werk": "werkt", "kijk": "kijkt", "hoor": "hoort", "merk": "merkt", "gebruik": "gebruikt",
    "neem": "neemt", "klaag": "klaagt", "reageer": "reageert", "eet": "eet", "ontvang": "ontvangt",
    "probeer": "probeert", "stuur": "stuurt", "leef": "leeft", "heet": "heet", "durf": "durft",
}
# Past tense (and other words after "ik") that keep their form; the lookup table also
# holds archaic "-t" forms of many of them ("hadt", "kreegt"), so they are listed.
_NL_KEEP_AFTER_IK = frozenset(
    "had was kon wou wilde zou mocht moest kreeg ging kwam gaf zag stond dacht wist vond werd "
    "liep zat lag nam sprak schreef bleef keek kocht bracht zocht vroeg deed hield viel hing las "
    "at dronk reed koos bood verloor vergat begon trok sloot ontving ving sliep liet riep zei "
    "vertrok kreeg heel al ook niet nog zelf wel echt gewoon graag pas altijd nooit toch dus "
    "even net heus".split())
_NL_SUBORDINATORS = frozenset(
    "dat omdat als toen terwijl zodat nadat voordat doordat hoewel sinds totdat wanneer of "
    "waar wat die waardoor waarom hoe zolang tenzij".split())
_NL_FINITE_MODALS = frozenset("kan wil zal word moet mag".split())
_NL_CLAUSE_WORDS = frozenset("en maar want dus of omdat dat toen terwijl als".split())
_NL_PREPOSITIONS = frozenset(
    "van aan bij met voor naar over door op tegen zonder om achter in uit na tot via dan "
    "vanaf onder boven tussen rond richting".split())

_NL_MAP = {"ik": "je", "mijn": "je", "m'n": "je", "mij": "jou", "me": "je", "mezelf": "jezelf",
           "mijzelf": "jezelf", "ikzelf": "jijzelf",
           # the customer's own side ("we", "ons") is "jullie" to the bot
           "we": "jullie", "wij": "jullie", "ons": "jullie", "onze": "jullie"}
_EN_MAP = {"i": "you", "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll",
           "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
           "your": "our", "yours": "ours", "you're": "we're", "you've": "we've",
           "you'll": "we'll", "you'd": "we'd", "yourself": "yourselves", "yourselves": "yourselves",
           # the customer's own side ("we", "us": their household) is "you" to the bot
           "we": "you", "us": "you", "our": "your", "ours": "yours", "we're": "you're",
           "we've": "you've", "we'd": "you'd", "we'll": "you'll", "ourselves": "yourselves"}
_EN_OBJECT_BEFORE = {"to", "for", "with", "at", "from", "told", "asked", "called", "emailed",
                     "contacted", "paid", "gave", "trust", "trusted", "than", "about", "of", "by",
                     "like", "rang", "phoned", "tell", "call", "email", "contact", "pay", "give",
                     "thank", "thanked", "chose", "choose", "recommend", "sent", "send", "messaged"}
# "feel like you don't": a "you" before one of these is a subject ("we"), not "us"
_EN_VERB_AFTER_SUBJECT = frozenset(
    "don't didn't do did never always are aren't were weren't have haven't had should "
    "shouldn't could couldn't can can't will won't would wouldn't need keep kept said told "
    "sent lost promised charged still just really also clearly obviously".split())
_TOKENS = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?|[^A-Za-zÀ-ÿ]+")


_FIRST_PERSON_EN = {"i", "i'm", "i've", "i'd", "i'll"}


def _match_case(src: str, dst: str, sentence_start: bool = False) -> str:
    if src[:1].isupper() and (sentence_start or src.lower().replace("’", "'") not in _FIRST_PERSON_EN):
        return dst[:1].upper() + dst[1:]
    return dst


@lru_cache(maxsize=4096)
def _nl_lookup(word: str) -> str | None:
    """The lemma of a Dutch word form in spaCy's lookup table, or None when unknown."""
    lemmatizer = get_nlp("nl").get_pipe("lemmatizer")
    try:
        table = lemmatizer.lookups.get_table("lemma_lookup")
    except KeyError:  # pragma: no cover - tables missing
        return None
    return table.get(word)


def _nl_present_je(word: str) -> str | None:
    """The "je" form of a first-person present verb ("vertrouw" -> "vertrouwt"), or None
    when ``word`` is not one (past tense, an adverb, a noun, ...)."""
    low = word.lower()
    if low in _NL_VERB_AFTER_IK:
        return _NL_VERB_AFTER_IK[low]
    if low in _NL_KEEP_AFTER_IK or len(low) < 2 or not low.isalpha():
        return None
    if low.endswith("t") or low.endswith(("de", "te", "den", "ten")):
        return None  # "wacht" stays; past tense stays
    infinitive = _nl_lookup(low + "t")
    if not infinitive or not infinitive.endswith("en"):
        return None
    own = _nl_lookup(low)
    if own is not None and own != infinitive:
        return None
    return low + "t"


def _nl_is_noun(word: str) -> bool:
    low = fold(word)
    if not low.isalpha():
        return False
    res = resources()
    if low in res.languages["nl"].aspect_nouns or low in res.nl_het_words or low in _NL_NOUNS:
        return True
    lemma = _nl_lookup(low)
    if lemma and lemma != low and not lemma.endswith("en"):
        return lemma in res.languages["nl"].aspect_nouns or low.endswith(("s", "en"))
    return False


_NL_NOUNS = frozenset(
    "facturen factuur rekening rekeningen mensen personeel medewerkers medewerker bedrijf "
    "service website site app winkel winkels producten product bezorgers bezorger chauffeurs "
    "chauffeur beleid systeem mail mails brief brieven kantoor prijzen prijs klantenservice "
    "helpdesk bestelling bestellingen levering leveringen pakket pakketten klant klanten "
    "monteur monteurs abonnement abonnementen contract contracten bericht berichten telefoon "
    "nummer afdeling chat e-mail klantnummer bezorging kassa callcenter tarieven tarief "
    "aanbod actie acties voorwaarden excuses reactie reacties antwoord antwoorden belofte "
    "beloftes afspraak afspraken verzending retour retouren winkelier collega collega's "
    "mensen software update updates storing storingen netwerk verbinding dienst diensten "
    "organisatie manier service".split())


def _nl_jullie(words: list[str], n: int, start: bool) -> str:
    """The bot's word for the customer's "jullie"/"uw": "onze"/"ons" before a noun,
    "ons" as an object, "wij" as a subject."""
    nxt = words[n + 1] if n + 1 < len(words) else ""
    after = words[n + 2] if n + 2 < len(words) else ""
    prev = fold(words[n - 1]) if n and not start else ""
    noun = nxt if _nl_is_noun(nxt) else (after if nxt.lower().endswith("e") and _nl_is_noun(after) else "")
    if noun:
        return "ons" if fold(noun) in resources().nl_het_words else "onze"
    if fold(words[n]) == "uw":
        return "onze"
    if prev in _NL_PREPOSITIONS:
        return "ons"
    if prev and prev not in _NL_SUBORDINATORS and prev not in _NL_CLAUSE_WORDS and not prev.endswith("en"):
        return "ons"
    return "wij"


def shift_pronouns(text: str, language: str) -> str:
    """Perspective shift for reflections and summaries: "ik"->"je" (with the verb:
    "ik vertrouw"->"je vertrouwt"), "mijn"->"je", "jullie"->"ons/onze/wij", "my"->"your",
    "you"->"we"/"us" (the customer's "you" is the company, the bot speaks for it)."""
    toks = _TOKENS.findall(text)
    words_idx = [i for i, t in enumerate(toks) if t[:1].isalpha()]
    words_ = [toks[i] for i in words_idx]
    out = list(toks)
    lang = language if language in LANGUAGES else "nl"
    conjugate: set[int] = set()  # word numbers whose verb must agree with "je"

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
                je_form = _nl_present_je(t)
                if je_form:
                    out[i] = je_form
                continue
            if low == "ik":
                out[i] = _match_case(t, "je", start and t[:1].isupper())
                if n + 1 < len(words_idx) and not re.search(r"[.!?,;:]", gap_before(n + 1)):
                    if clause_start(n) or fold(prev) in _NL_CLAUSE_WORDS - _NL_SUBORDINATORS - {"dat"} \
                            or prev in ("en", "maar", "want", "dus"):
                        conjugate.add(n + 1)  # "ik vertrouw" -> "je vertrouwt"
                    elif fold(prev) in _NL_SUBORDINATORS:
                        m = n + 1  # "omdat ik het niet snap": the verb closes the clause
                        while m + 1 < len(words_idx) and not re.search(r"[.!?,;:]", gap_before(m + 1)) \
                                and fold(words_[m + 1]) not in _NL_CLAUSE_WORDS:
                            m += 1
                        modal = next((k for k in range(n + 1, m + 1) if fold(words_[k]) in _NL_FINITE_MODALS), None)
                        if modal is not None:
                            conjugate.add(modal)  # "dat ik er niet op kan rekenen" -> "kunt"
                        elif fold(words_[m]) not in ("ben", "heb"):
                            conjugate.add(m)
            elif low in _NL_MAP:
                out[i] = _match_case(t, _NL_MAP[low], start and t[:1].isupper())
            elif low in ("jullie", "uw"):
                out[i] = _match_case(t, _nl_jullie(words_, n, clause_start(n)), start)
            elif low in ("ben", "heb") and nxt not in ("ik", "je", "jij") and prev != "ik":
                out[i] = {"ben": "bent", "heb": "hebt"}[low]
        else:
            if low == "i" and prev in ("was", "am", "wasn't") and n:
                j = words_idx[n - 1]
                out[j] = _match_case(toks[j], {"was": "were", "am": "are", "wasn't": "weren't"}[prev])
                out[i] = "you"
            elif low in _EN_MAP:
                out[i] = _match_case(t, _EN_MAP[low], start)
            elif low == "you":
                subject = nxt.replace("’", "'") in _EN_VERB_AFTER_SUBJECT
                out[i] = _match_case(t, "us" if prev in _EN_OBJECT_BEFORE and not subject else "we", start)
            elif low == "am" and prev == "i":
                out[i] = "are"
            elif low == "was" and prev == "i":
                out[i] = "were"
            elif low == "wasn't" and prev == "i":
                out[i] = "weren't"
    return "".join(out)


_LEADING_FILLER = re.compile(
    r"^\s*(?:(?:nou|nee|ja|well|so|yeah|eh|ehm|uhm|tja|omdat|want|because|maar|but|honestly|"
    r"frankly|to be honest|eerlijk gezegd(?=\s*,))\b[\s,.:;-]*)+",
    re.IGNORECASE)


def _clean(text: str, max_words: int = 30) -> str:
    t = " ".join(text.split())
    t = _LEADING_FILLER.sub("", t)
    t = t.strip().rstrip(".!?;,: ")
    ws = t.split()
    if len(ws) > max_words:
        t = " ".join(ws[:max_words]) + "…"
    return t


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = re.sub(r"([.!?]\s+)([a-zà-ÿ])", lambda m: m.group(1) + m.group(2).upper(), text)
    return _cap(text) + ("" if text[-1] in ".!?…" else ".")


_YES_NO_WORDS = frozenset(
    "ja nee jawel neen nope no yes yeah yep nah ok oke okay klopt hoor sure idd jep".split())


def _bare_yes_no(text: str) -> bool:
    """"ja", "no", "yes ok": an answer that says nothing on its own after an open question."""
    ws = [fold(w) for w in _WORD.findall(text or "")]
    return 0 < len(ws) <= 2 and all(w in _YES_NO_WORDS for w in ws)


LABEL_ORDER = ("expectation", "impact", "priority", "in_our_place", "blind_spot")


def _summary_body(state: ConversationState, lang: str) -> list[str]:
    """Each answer in the customer's words. A full statement stands on its own; a
    fragment ("dat het snel gaat") is labelled by what it says (its dimensions), or by
    the question it answered when its words name no dimension."""
    body: list[str] = []
    for key, raw in _texts(state):
        a = analyze_cached(raw, lang)
        if a.dont_know or a.done_signal or a.gibberish or _bare_yes_no(raw):
            continue
        shifted = _clean(shift_pronouns(_story_text(raw), lang))
        if not shifted:
            continue
        if key == "reason" and a.vague and a.word_count <= 3:
            body.append(catalogue.text("summary_vague", lang, quote=_clean(raw)))
            continue
        if _is_statement(shifted, lang) or _self_labelled(a, shifted):
            first = fold(_WORD.findall(shifted)[0]).replace("’", "'")
            if first in _COMPANY_SUBJECTS:  # "wij moeten beter luisteren": their view, not our word
                body.append(catalogue.text("summary_view", lang, text=shifted))
            else:
                body.append(_sentence(shifted))
            continue
        said = [d for d in LABEL_ORDER if d in a.dimensions]
        if key in said or (key in FOLLOWUP_DIMENSIONS and key != "situation" and not said):
            label = key
            if key == "impact" and not said and _wish_like(shifted, lang):
                label = "expectation"
        else:
            label = said[0] if said else None
        if label is None:
            body.append(_sentence(shifted))
        else:
            fragment = shifted[:1].lower() + shifted[1:] if not shifted.startswith(("I ", "I'")) else shifted
            body.append(catalogue.text(f"summary_lead.{label}", lang, text=fragment))
    return body


def summarise(state: ConversationState) -> str:
    """The story in the customer's own words, ending with a check question."""
    lang = _lang(state)
    parts = [catalogue.text("summary_intro", lang, len(asked_dimensions(state)))]
    if state.score is not None:
        parts.append(catalogue.text("summary_score", lang, score=int(state.score)))
    body = _summary_body(state, lang)
    parts.extend(body or [catalogue.text("summary_empty", lang)])
    parts.append(catalogue.text("summary_check", lang))
    return " ".join(parts)


# A correction of at least this many words restates the story: it replaces the summary.
# A shorter one ("it was four times, not three") corrects a detail: the summary is repeated
# with the correction after it, named as such, so the customer checks the whole story again.
RESTATEMENT_WORDS = 15


def resummarise(state: ConversationState, correction: str) -> str:
    """Summary after a correction: the correction is the authoritative version."""
    lang = _lang(state)
    corrected = _clean(shift_pronouns(correction or "", lang), max_words=60)
    body = _summary_body(state, lang) if corrected and len(corrected.split()) < RESTATEMENT_WORDS else []
    if body:
        parts = [catalogue.text("resummary_detail_intro", lang, len(state.asked))]
        if state.score is not None:
            parts.append(catalogue.text("summary_score", lang, score=int(state.score)))
        parts.extend(body)
        detail = corrected if corrected.startswith(("I ", "I'")) else corrected[:1].lower() + corrected[1:]
        parts.append(catalogue.text("resummary_detail", lang,
                                    correction=detail + ("" if detail[-1] in ".!?…" else ".")))
        parts.append(catalogue.text("summary_check", lang))
        return " ".join(parts)
    parts = [catalogue.text("resummary_intro", lang, len(state.asked))]
    intro = parts[0]
    if corrected and intro.endswith(":") and not corrected.startswith(("I ", "I'")):
        corrected = corrected[:1].lower() + corrected[1:]
        parts.append(corrected + ("" if corrected[-1] in ".!?…" else "."))
    else:
        parts.append(_sentence(corrected) if corrected else catalogue.text("summary_empty", lang))
    parts.append(catalogue.text("summary_check", lang))
    return " ".join(parts)


# --- respond and help ------------------------------------------------------------

def needs_follow_up_offer(state: ConversationState, *analyses: MessageAnalysis) -> bool:
    """Offer a person's follow-up: score <= 6, negative sentiment, or an open question."""
    if state.score is not None and state.score <= 6:
        return True
    lang = _lang(state)
    if not analyses:
        analyses = tuple(analyze_cached(t, lang) for _, t in _texts(state))
    if any(a.sentiment_label == "negative" or a.question for a in analyses):
        return True
    if any(m.emotion in NEGATIVE_EMOTIONS for a in analyses for m in a.emotions):
        return True  # "I'm disappointed": an unhappy customer is offered a person
    texts = [t for _, t in _texts(state)]
    if texts and analyze_story(texts, lang).sentiment == "negative":
        return True
    return False


_YES = ["ja", "jawel", "jazeker", "ja hoor", "ja klopt", "klopt", "dat klopt", "klopt helemaal",
        "klopt wel", "jep", "jup", "jaja", "idd", "inderdaad", "precies", "correct", "exact",
        "zeker", "helemaal goed", "helemaal", "juist", "goed zo", "prima", "yes", "yep", "yeah",
        "yup", "ya", "exactly", "right", "that's right", "thats right", "that is right",
        "correct", "absolutely", "sure", "spot on", "indeed", "ok", "oke", "okay", "okee", "yes exactly"]
_NO = ["nee", "neen", "nope", "no", "nah", "niet helemaal", "niet echt", "klopt niet",
       "dat klopt niet", "klopt niet helemaal", "dat klopt niet helemaal", "not quite",
       "not really", "not exactly", "that's wrong", "thats wrong", "that's not right",
       "wrong", "incorrect", "fout", "not right", "nee hoor", "nee dat klopt niet",
       "no that's wrong", "not at all", "helemaal niet"]
_YES_RE = sorted((fold(p) for p in _YES), key=len, reverse=True)
_NO_RE = sorted((fold(p) for p in _NO), key=len, reverse=True)
_CORRECTION_CUES = re.compile(
    r"\b(het was|het ging|het is|eigenlijk|bedoel|bedoelde|niet .+ maar|it was|it is|"
    r"actually|i meant|i mean|not .+ but|alleen|only|wel|ook)\b")
_THANKS_ONLY = {"dank je", "dankje", "dank", "bedankt", "dankjewel", "thanks", "thank you",
                "hoor", "helemaal", "precies", "zo", "wel"}


def _prefix_pattern(phrase: str) -> re.Pattern:
    return re.compile(r"\s*[,.!;:-]*\s*".join(re.escape(w) for w in phrase.split()) + r"(?![\w'])")


_NO_PREFIXES = [_prefix_pattern(p) for p in _NO_RE]
_YES_PREFIXES = [_prefix_pattern(p) for p in _YES_RE]


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
    if raw in ("👍", "👌", "✅", "👍🏻", "👍🏼", "👍🏽"):
        return "yes", None
    if raw in ("👎", "❌", "👎🏻"):
        return "no", None
    folded = fold(raw).replace("’", "'")
    lead = re.match(r"[\s\W_]*", folded).end()
    for phrase in _NO_PREFIXES:
        rest = _strip_prefix(raw, folded, lead, phrase)
        if rest is None:
            continue
        rest = re.sub(r"^(?:maar|but)\b[\s,]*", "", rest, flags=re.IGNORECASE).strip()
        if rest and analyze_cached(rest).done_signal:
            return "no", None  # "nee, dat was het"
        if len(_WORD.findall(rest)) >= 2:
            return "correction", rest
        return "no", None
    if analyze_cached(raw).done_signal:
        return "yes", None  # "dat was het" / "that's all": nothing to correct
    for phrase in _YES_PREFIXES:
        rest = _strip_prefix(raw, folded, lead, phrase)
        if rest is None:
            continue
        rest_words = " ".join(fold(w) for w in _WORD.findall(rest))
        if rest and analyze_cached(rest).done_signal:
            return "yes", None  # "ja, dat was het"
        if not rest_words or rest_words in _THANKS_ONLY or all(
                w in _THANKS_ONLY for w in rest_words.split()):
            return "yes", None
        m = re.match(r"^(?:maar|but|alleen|only|behalve|except)\b[\s,]*(.*)$", rest,
                     flags=re.IGNORECASE | re.DOTALL)
        if m and len(_WORD.findall(m.group(1))) >= 2:
            return "correction", m.group(1).strip()
        if len(rest_words.split()) <= 2:
            return "yes", None
        return "correction", rest
    if "?" in raw:
        return "unclear", None
    n_words = len(_WORD.findall(raw))
    if n_words >= 4 or (n_words >= 2 and _CORRECTION_CUES.search(fold(raw))):
        return "correction", raw
    return "unclear", None


# A reply to "what did I get wrong?" that says nothing was: the summary stands after all.
_NOTHING_WRONG = (
    re.compile(r"^(?:(?:nee|no|ja|yes|oh|o)\s+)?(?:(?:het|dat|alles|it's|its|it|that's|thats|that|everything)\s+)?"
               r"(?:(?:is|was)\s+)?(?:klopt|klopte|correct|right|goed|juist|prima|fine)"
               r"(?:\s+(?:wel|toch|hoor|gewoon|eigenlijk|actually|after all|then))*$"),
    re.compile(r"^(?:(?:nee|no)\s+)?(?:niks|niets|nothing)(?:\s+(?:mis|wrong|eigenlijk|actually|hoor|really))*$"),
)


def says_nothing_is_wrong(text: str) -> bool:
    """"klopt", "het klopt wel", "nee niks", "that's correct" — not "het was de bezorger"."""
    if interpret_confirmation(text)[0] == "yes":
        return True
    words = " ".join(fold(w).replace("’", "'") for w in _WORD.findall(text or ""))
    # "nothing, it was right": both halves say so
    rest = re.sub(r"^(?:nee |no )?(?:niks|niets|nothing) ", "", words)
    return bool(words) and any(pattern.match(candidate) for pattern in _NOTHING_WRONG
                               for candidate in {words, rest})
