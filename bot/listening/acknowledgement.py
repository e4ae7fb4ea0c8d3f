"""Acknowledgements: show the customer that the bot heard *this* message, in their own
key words, before the next question. Word tables in wording.yml; texts in the catalogue."""
from __future__ import annotations

import re

from . import catalogue
from . import reflection as reflection_mod
from .analysis import MessageAnalysis, analyze_cached
from .lexicon import aspect_label, resources
from .nlp import LANGUAGES, fold, get_nlp
from .shifting import shift_pronouns
from .wording import (
    WORD,
    bare_yes_no,
    cap,
    clean,
    first_sentence,
    folded_words,
    is_statement,
    lower_first,
    quote,
    says_nothing_to_add,
    self_labelled,
    wish_like,
)
from .wordtables import get, words

WISH_DIMENSIONS = {"expectation", "priority", "in_our_place", "blind_spot"}
# answers that may be a fragment, reflected with their question's frame ("ack_answer.<dim>")
ANSWER_FRAGMENT_DIMENSIONS = WISH_DIMENSIONS | {"impact"}


def negative_emotions() -> frozenset[str]:
    return words("wording", "negative_emotions")


def positive_emotions() -> frozenset[str]:
    return words("wording", "positive_emotions")


def _thing_phrase(a: MessageAnalysis, mention, lang: str) -> str:
    """The customer's own words for a thing, with its determiner: "je pakket"."""
    before = a.text[: mention.start]
    prev = WORD.findall(before)[-3:]
    dets = get("wording", lang, "determiners")
    phrase = mention.text.strip().lower() if not mention.text.isupper() else mention.text.strip()
    for i in range(len(prev) - 1, -1, -1):
        w = fold(prev[i])
        if w in dets:
            middle = [p for p in prev[i + 1:]]
            if all(p.isalpha() for p in middle):
                det = dets[w]
                if det == "de" and not middle and fold(phrase) in resources().nl_het_words:
                    det = "het"  # "jullie personeel" -> "het personeel"
                return " ".join([det] + [m.lower() for m in middle] + [phrase])
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


def choose_thing(a: MessageAnalysis, lang: str, want: str | None = None):
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


def feeling(a: MessageAnalysis, lang: str) -> tuple[str, str] | None:
    """(word, "negative"|"positive") for the first feeling the customer expressed."""
    res = resources().languages[lang]
    negative, positive = negative_emotions(), positive_emotions()
    for m in a.emotions:
        if m.emotion not in negative | positive:
            continue
        polarity = "negative" if m.emotion in negative else "positive"
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


def reflection(a: MessageAnalysis, lang: str, max_words: int = 14) -> str | None:
    """The customer's own statement turned to "je"/"you", when it is short: "hij gooide je
    pakket over het hek", "je had verwacht dat ...". Never a verdict on the company as a
    whole ("jullie zijn waardeloos" is not echoed as "wij zijn waardeloos")."""
    if a.abuse or a.gibberish or a.dont_know or a.done_signal:
        return None
    sentence = first_sentence(a.text)
    if "?" in sentence:
        return None
    shifted = clean(shift_pronouns(sentence, lang))
    if shifted and not (is_statement(shifted, lang) or self_labelled(a, shifted)):
        # "prima, maar de chat reageerde traag": the statement after "maar"/"but"
        parts = re.split(r"[,;]?\s+(?:maar|but)\s+", sentence, maxsplit=1, flags=re.IGNORECASE)
        shifted = clean(shift_pronouns(parts[1], lang)) if len(parts) == 2 else ""
    if shifted and len(shifted.split()) > max_words and a.repeat_terms:
        # a long story: the clause that says it happened again / is still so
        # ("…, maar hij is nog steeds niet geleverd en …" -> "hij is nog steeds niet geleverd")
        for clause in re.split(r"\s*[,;]\s*|\s+(?:maar|but|en|and)\s+", sentence, flags=re.IGNORECASE):
            if any(fold(term) in fold(clause) for term in a.repeat_terms):
                candidate = clean(shift_pronouns(clause, lang))
                if is_statement(candidate, lang) and len(candidate.split()) <= max_words:
                    shifted = candidate
                break
    if not shifted or len(shifted.split()) > max_words or shifted.endswith("…"):
        return None
    if not (is_statement(shifted, lang) or self_labelled(a, shifted)):
        return None
    if folded_words(shifted)[0] in ("wij", "we", "we're"):
        return None
    return lower_first(shifted)


def fragment(a: MessageAnalysis, lang: str, max_words: int = 20) -> str | None:
    """A short answer that only makes sense after its question, pronouns shifted."""
    if a.abuse or a.question or a.gibberish or a.dont_know or a.done_signal or not a.text.strip():
        return None
    shifted = clean(shift_pronouns(first_sentence(a.text), lang))
    if not shifted or len(shifted.split()) > max_words or shifted.endswith("…"):
        return None
    if is_statement(shifted, lang) or self_labelled(a, shifted) or bare_yes_no(a.text):
        return None
    return lower_first(shifted)


def _mentions_repeat(text: str, a: MessageAnalysis) -> bool:
    low = fold(text)  # "wr" is said back as "weer": the reflection already says "again"
    return any(fold(term) in low for term in a.repeat_terms) or analyze_cached(text, a.language).repeat_contact


def _trimmed_fragment(frag: str, lang: str) -> str:
    """A follow-up answer without softeners ("dat ze gewoon terugbellen" -> "dat ze terugbellen")."""
    return reflection_mod._drop_words(frag, lang)


def _feeling_already_said(word: str, a: MessageAnalysis, said: str) -> bool:
    low = fold(said)
    return fold(word)[:6] in low or any(fold(m.text)[:6] in low for m in a.emotions)


def _answers_its_question(a: MessageAnalysis, answered: str | None, lang: str) -> bool:
    """A whole sentence given to a follow-up says what was asked ("ik had verwacht dat ...")
    -- or, for a wish question, is no story of what happened ("he threw my parcel over the
    fence" to "what had you expected?" is reflected as what happened)."""
    from .planning import dimensions_said  # planning imports this module

    said = set(a.dimensions) | set(dimensions_said(a.text, lang))
    if answered in said:
        return True
    return answered in ("priority", "in_our_place", "blind_spot") and "situation" not in a.dimensions


def _own_words(thing: str | None, text: str) -> bool:
    """The thing is said in the customer's own word, not the lexicon's label for it."""
    if not thing:
        return False
    said = set(folded_words(text))
    return any(w in said for w in folded_words(thing) if len(w) > 3)


_NOT_IN_A_NOUN_PHRASE = frozenset(
    "zou zouden was waren is zijn werd wordt had heeft kon kan moest wilde en of maar "
    "would was were is are had has could should and or but to".split())


def _noun_phrase(text: str, lang: str) -> str | None:
    """The customer's own "het eerste telefoontje" / "the first phone call": a determiner
    and up to three words after it (not a verb, preposition or conjunction), shifted."""
    ws = [w for w in re.findall(r"[\w'’-]+", shift_pronouns(text, lang))]
    dets = get("wording", lang, "determiners")
    preps = words("reflection", lang, "prepositions") | words("shifting", "nl", "prepositions")
    for i, w in enumerate(ws):
        if fold(w) not in dets or fold(w) in ("jullie", "uw"):
            continue
        tail = []
        for nxt in ws[i + 1:i + 4]:
            low = fold(nxt)
            if low in _NOT_IN_A_NOUN_PHRASE or low in preps or low in dets \
                    or (lang == "nl" and low.startswith("ge") and low.endswith(("d", "t")) and len(low) > 5):
                break  # "geregeld": a past participle ends the phrase
            tail.append(nxt)
        if tail and len(tail[-1]) > 3:
            return " ".join([dets[fold(w)]] + tail).lower()
    return None


def _short_quote(a: MessageAnalysis, clause, lang: str) -> str | None:
    """Their own short words to quote back: the whole message of up to 8 words, or the
    clause that weighs of up to 7; never an insult."""
    for candidate, limit, least in ((a.text, 8, 2), (clause.text if clause is not None else "", 7, 3)):
        said = candidate.strip().rstrip("?!. ")
        n = len(WORD.findall(said))
        if least <= n <= limit and not any(reflection_mod.is_insult(w, lang) for w in WORD.findall(said)):
            return said
    return None


def _fallback(a: MessageAnalysis, lang: str, turn: int, band: str | None, wish: bool, felt) -> str:
    """No core could be said short and true: name the thing in their word (never the
    insult), or quote their own short words, or name the thing by its label."""
    clause = reflection_mod.weighty_thing_clause(a, lang, band)
    source = clause.analysis if clause is not None else a
    want = "negative" if source.sentiment < -0.1 and not wish else None
    thing = choose_thing(source, lang, want) or choose_thing(a, lang, want)
    if thing and any(reflection_mod.is_insult(w, lang) for w in WORD.findall(thing)) and a.aspects:
        thing = aspect_label(a.aspects[0].aspect, lang)  # "Kutservice": the service, not the swearword
    repeat_said = a.repeat_contact and a.sentiment_label != "positive"
    words_ = WORD.findall(a.text)
    insulting = a.abuse or any(reflection_mod.is_insult(w, lang) for w in words_)
    verdict = a.word_count <= 3 and not a.abuse and not a.gibberish and not a.done_signal \
        and not bare_yes_no(a.text) and bool(a.text.strip())
    if verdict and not _own_words(thing, a.text) and not felt:
        # "belachelijk", "so-so", "vriendelijk": their one word, quoted (theirs, not the bot's verdict)
        return catalogue.text("ack_vague", lang, turn, quote=quote(a.text), Quote=cap(quote(a.text)))
    if thing and insulting and not wish and _own_words(thing, a.text):
        return catalogue.text("ack_letdown", lang, turn, thing=thing, Thing=cap(thing))
    if _own_words(thing, a.text):
        if repeat_said:
            return catalogue.text("ack_repeat_thing", lang, turn, thing=thing, Thing=cap(thing))
        label = "positive" if source.sentiment > 0.1 else ("negative" if source.sentiment < -0.1 else "")
        key = "ack_thing" if wish or not label else f"ack_thing_{label}"
        return catalogue.text(key, lang, turn, thing=thing, Thing=cap(thing))
    own = _short_quote(a, clause, lang) if not a.gibberish and not a.done_signal else None
    if own:
        key = "ack_quote_again" if repeat_said else "ack_quote"
        return catalogue.text(key, lang, turn, quote=own)
    if thing and insulting and not wish:
        return catalogue.text("ack_letdown", lang, turn, thing=thing, Thing=cap(thing))
    if repeat_said:
        if thing:
            return catalogue.text("ack_repeat_thing", lang, turn, thing=thing, Thing=cap(thing))
        return catalogue.text("ack_repeat", lang, turn)
    if thing:
        label = "positive" if source.sentiment > 0.1 else ("negative" if source.sentiment < -0.1 else "")
        key = "ack_thing" if wish or not label else f"ack_thing_{label}"
        return catalogue.text(key, lang, turn, thing=thing, Thing=cap(thing))
    if insulting:
        return ""  # nothing of theirs to say back without repeating the insult
    if a.word_count >= 2 and not a.gibberish and not a.done_signal and not felt and not bare_yes_no(a.text):
        n = len(folded_words(a.text))  # of a long message, at most 60% verbatim
        return catalogue.text("ack_quote", lang, turn, quote=quote(a.text, 8 if n < 12 else min(8, int(0.6 * n) - 1)))
    return ""


def _only_judgement_words(text: str, lang: str) -> bool:
    """Every word is a polar word or its modifier ("echt belachelijk", "not good")."""
    res = resources().languages[lang]
    doc = get_nlp(lang)(fold(text))
    covered = {i for h in res.sentiment.find(doc, longest=True) for i in range(h.start, h.end)}
    return all(t.i in covered for t in doc if t.is_alpha)


def _verdict(a: MessageAnalysis, lang: str, felt) -> bool:
    """A bare verdict of one to three words that the bot never says itself ("belachelijk",
    "useless"; reflection.yml insults): acknowledged by its feeling, not quoted back."""
    if a.word_count > 3 or a.aspects or felt or a.abuse or a.gibberish or a.question \
            or a.done_signal or bare_yes_no(a.text) or a.sentiment_label != "negative":
        return False
    return any(reflection_mod.is_insult(w, lang) for w in WORD.findall(a.text)) \
        and _only_judgement_words(a.text, lang)


def acknowledge_analysis(a: MessageAnalysis, language: str, turn: int, answered: str | None = None,
                         band: str | None = None) -> str:
    """A short acknowledgement built from this customer's own words (may be empty).

    ``answered`` is the dimension the text answers: an answer to a follow-up is tied to
    the story ("Je verwachtte dat het snel ging, en dat liep anders.") rather than read
    back, and a wish is not an evaluation. ``band`` (detractor, passive, promoter) decides
    which part of a mixed story weighs. See docs/listening.md ("Acknowledgements").
    """
    lang = language if language in LANGUAGES else "nl"
    if a.dont_know or says_nothing_to_add(a):
        return catalogue.text("ack_dont_know", lang, turn)  # "weet ik niet", "nee bedankt"
    wish = answered in WISH_DIMENSIONS
    felt = feeling(a, lang)
    if _verdict(a, lang, felt):  # "belachelijk": its feeling, never the word in the bot's voice
        return catalogue.text("ack_verdict", lang, turn)
    said = ""
    frag = fragment(a, lang) if answered in ANSWER_FRAGMENT_DIMENSIONS else None
    frag = _trimmed_fragment(reflection_mod.chat_spelling(frag, lang), lang) if frag else None
    if frag and len(frag.split()) > 9:
        frag = reflection_mod.shorten_fragment(frag, lang)
    frame = answered
    if answered == "expectation" and band == "detractor":
        frame = "expectation_unmet"  # a detractor's expectation was not met: say so, not the answer again
    elif answered == "in_our_place" and band == "passive":
        frame = "in_our_place_passive"  # the answer to "what would have made it a 9 or 10?"
    elif answered == "priority" and band == "promoter":
        frame = "priority_promoter"  # the answer to "what made the difference?"
    if frame == "impact" and a.sentiment_label == "positive":
        frame = "impact_positive"  # "never change the drivers": praise, not "no small thing"
    if frag and frame in ("expectation", "expectation_unmet") and a.sentiment < -0.1:
        frag = None  # "dat het eten koud was": what went wrong, not what they expected
    if frag:
        if answered == "impact" and wish_like(frag, lang):
            frame = "expectation_unmet" if band == "detractor" else "expectation"
        said = catalogue.text(f"ack_followup.{frame}", lang, turn, text=frag, Text=cap(frag))
    if not said:
        core = reflection_mod.core_of(a, lang, band)
        if core is not None:
            text, claim, clause = core
            story = answered not in ANSWER_FRAGMENT_DIMENSIONS
            repeat_said = story and a.repeat_contact and a.sentiment_label != "positive"
            others = [c for c in reflection_mod.clauses(a.text, lang)
                      if c is not clause and c.analysis.sentiment > 0.1]
            pos = choose_thing(others[0].analysis, lang, "positive") if others and clause.analysis.sentiment < -0.1 else None
            if claim:
                said = catalogue.text("ack_claim", lang, turn, text=text, Text=cap(text))
            elif not story and _answers_its_question(a, answered, lang) \
                    and frame in ("expectation", "expectation_unmet"):
                said = catalogue.text(f"ack_followup_statement.{frame}", lang, turn, text=text, Text=cap(text))
            elif not story and _answers_its_question(a, answered, lang):
                # an answer to a follow-up: tied to its question, not read back
                said = catalogue.text(f"ack_followup.{frame}", lang, turn, text=text, Text=cap(text))
            elif pos and fold(pos) not in fold(text):
                said = catalogue.text("ack_mixed_core", lang, turn, text=text, pos_thing=pos, Pos_thing=cap(pos))
            elif repeat_said and not _mentions_repeat(text, a):
                said = catalogue.text("ack_core_again", lang, turn, text=text, Text=cap(text))
            else:
                said = catalogue.text("ack_core", lang, turn, text=text, Text=cap(text))
    if not said and answered in ANSWER_FRAGMENT_DIMENSIONS:
        thing = choose_thing(a, lang)  # too long to say back: its thing, framed by the question
        if not _own_words(thing, a.text):
            thing = _noun_phrase(a.text, lang) or thing
        if thing:
            said = catalogue.text(f"ack_followup_thing.{frame}", lang, turn, thing=thing, Thing=cap(thing))
    if not said:
        said = _fallback(a, lang, turn, band, wish, felt)
    parts = [said] if said else []
    if felt and not _feeling_already_said(felt[0], a, said):
        word, polarity = felt
        parts.append(catalogue.text(f"ack_feeling_{polarity}", lang, turn, feeling=word))
    return " ".join(parts)


def acknowledge(text: str, analysis: MessageAnalysis | None = None, language: str | None = None,
                turn: int = 0) -> str:
    """Acknowledgement of one customer message, without a question (may be empty).

    Convenience for callers without a ConversationState, e.g. the opening after a
    customer started with their story: ``acknowledge(text, analyze(text), "nl")``.
    """
    lang = language if language in LANGUAGES else (analysis.language if analysis else "nl")
    a = analysis if analysis is not None else analyze_cached(text or "", lang)
    return acknowledge_analysis(a, lang, turn)
