"""The core of a message, said back short and true.

From a customer's message this picks the clause that weighs (the complaint after
"maar"/"but"; the praise when the score is high; the negative clause of a detractor's
story) and says it in about 6-12 words in their own key words: pronouns shifted, filler
and softeners dropped, a strong word used as "very" said as "veel te"/"far too", "onze
klantenservice" said as "de klantenservice" (the bot does not vouch for a claim about
us), and an evaluation framed as theirs ("... was voor jou veel te traag"). Insults and
verdicts on the company as a whole are never said back. Word tables: reflection.yml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .analysis import MessageAnalysis, analyze_cached
from .lexicon import resources
from .nlp import fold
from .shifting import shift_pronouns
from .wording import WORD, clean, folded_words, is_statement, self_labelled, story_text
from .wordtables import get, words

_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n|[!?]+")


@dataclass
class Clause:
    text: str
    after_contrast: bool
    analysis: MessageAnalysis


def _table(lang: str, key: str):
    return get("reflection", lang, key)


def _words(lang: str, key: str) -> frozenset[str]:
    return words("reflection", lang, key)


def is_insult(word: str, lang: str) -> bool:
    w = fold(word)
    return any(fnmatchcase(w, pattern) for pattern in _words(lang, "insults"))


def clauses(text: str, lang: str) -> list[Clause]:
    """The clauses of ``text`` (questions to the bot left out), each marked when it comes
    after a contrast word."""
    contrast = "|".join(sorted(_words(lang, "contrast")))
    after_comma = "|".join(sorted(_words(lang, "contrast_after_comma")))
    subjects = words("wording", lang, "subjects") | {"ik", "i", "jullie", "niemand", "nobody", "iemand"}
    out: list[Clause] = []
    seen_contrast = False
    for sentence in _SENTENCES.split(story_text(text)):
        if not sentence or not sentence.strip() or sentence.strip().endswith("?"):
            continue
        parts = re.split(rf"(\s*[,;]?\s+\b(?:{contrast})\b\s*|\s*,\s*\b(?:{after_comma})\b\s*)",
                         sentence, flags=re.IGNORECASE)
        for i, part in enumerate(parts):
            if i % 2 == 1:
                seen_contrast = True
                continue
            # ", de monteur kwam niet", " en niemand nam op": a new subject starts a new clause
            pieces = re.split(r"\s*[,;]\s*|\s+(?=(?:en|and)\s+(?:" + "|".join(
                re.escape(s) for s in sorted(subjects)) + r")\b)", part, flags=re.IGNORECASE)
            for piece in pieces:
                piece = (piece or "").strip(" ,.;:-–—")
                if len(WORD.findall(piece)) >= 2:
                    out.append(Clause(piece, seen_contrast, analyze_cached(piece, lang)))
    return out


def _company_verdict(clause: Clause, lang: str) -> bool:
    """"jullie zijn waardeloos", "you are useless idiots": a verdict on us as a whole."""
    ws = folded_words(clause.text)
    return bool(ws) and ws[0] in ("jullie", "you", "u", "wij", "we") and clause.analysis.sentiment < 0 \
        and not clause.analysis.aspects


def choose(parts: list[Clause], lang: str, band: str | None) -> Clause | None:
    """The clause that weighs, or None."""
    usable = [c for c in parts if not c.analysis.gibberish and not _company_verdict(c, lang)]
    if not usable:
        return None
    if band == "promoter":
        side = [c for c in usable if c.analysis.sentiment > 0.1] or usable
    elif any(c.after_contrast for c in usable):
        side = [c for c in usable if c.after_contrast]  # "niet slecht, maar top": the later part
    else:
        negative = [c for c in usable if c.analysis.sentiment < -0.1]
        side = negative if band in ("detractor", "passive", None) and negative else usable
    # "... but it still hasn't come": the clause that says it happens again weighs most
    return sorted(side, key=lambda c: (not c.analysis.repeat_terms, not c.analysis.aspects))[0]


def _drop_words(text: str, lang: str) -> str:
    drop = _words(lang, "drop")
    strong = _words(lang, "strong_intensifiers")
    too = _table(lang, "too")
    tokens = re.findall(r"[\w'’-]+|[^\w\s]+", text)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        low = fold(tok)
        nxt = fold(tokens[i + 1]) if i + 1 < len(tokens) else ""
        if low in strong and nxt and nxt[0].isalpha():
            if nxt in ("te", "too"):
                continue
            out.append(too)  # "belachelijk traag" -> "veel te traag"
            continue
        if low in drop and nxt and nxt[0].isalpha() and not (out and fold(out[-1]) in ("niet", "not")):
            continue
        out.append(tok)
    joined = " ".join(out)
    return re.sub(r"\s+([,.;:!?])", r"\1", joined)


def _neutral_company(shifted: str, lang: str) -> str:
    """"onze klantenservice" -> "de klantenservice", "our app" -> "the app"."""
    if lang == "en":
        return re.sub(r"\b[Oo]ur\b", "the", shifted)
    het = resources().nl_het_words

    def article(m: re.Match) -> str:
        noun = m.group(2)
        return ("het " if fold(noun) in het else "de ") + noun
    return re.sub(r"\b(onze|ons)\s+([\w-]+)", article, shifted, flags=re.IGNORECASE)


def _for_you(core: str, lang: str) -> str:
    """"de klantenservice is veel te traag" -> "de klantenservice was voor jou veel te traag":
    an evaluation said as the customer's experience, not as the bot's verdict."""
    ws = core.split()
    copulas = _table(lang, "copulas")
    for k in range(1, min(5, len(ws))):
        w = fold(ws[k])
        if w in copulas:
            rest = " ".join(ws[k + 1:])
            if not rest or len(ws) - k - 1 > 5 or re.search(r"\d", rest):
                return core
            judged = analyze_cached(rest, lang)
            if judged.sentiment >= -0.1 or judged.details or not {"te", "too"} & set(folded_words(rest)):
                return core  # only a degree ("veel te traag") is said as their experience
            head = " ".join(ws[:k])
            if lang == "nl":
                return f"{head} {copulas[w]} {_table(lang, 'for_you')} {rest}"
            return f"{head} {copulas[w]} {rest} {_table(lang, 'for_you')}"
        if not ws[k].isalpha():
            break
    return core


def _cuts(core: str, lang: str) -> list[str]:
    """``core`` and its heads, longest first: cut before "voordat"/"because", at a comma or
    "en"/"and", and before a preposition ("the engineer didn't show up | for the second
    appointment"; not "went out | of her way")."""
    ws = core.split()
    heads = {len(ws)}
    cut, preps, particles = _words(lang, "cut_before"), _words(lang, "prepositions"), _words(lang, "particles")
    for i in range(3, len(ws)):
        w = fold(ws[i]).strip(",")
        if w in cut or ws[i - 1].endswith(",") or w in ("en", "and") \
                or (w in preps and fold(ws[i - 1]) not in particles):
            heads.add(i)
    return [" ".join(ws[:n]).rstrip(",") for n in sorted(heads, reverse=True)]


def _complete(head: str, lang: str) -> bool:
    """A head that does not stop inside a clause: "je had verwacht dat het" is not one."""
    ws = folded_words(head)
    dangling = words("wording", lang, "subjects") | words("shifting", "nl", "subordinators") \
        | _words(lang, "determiners") | {"that", "to", "te", "om", "dat", "which", "who",
                                         "them", "him", "her", "it", "hem", "haar"}
    if not ws or ws[-1] in dangling:
        return False
    subordinate = [i for i, w in enumerate(ws) if w in ("dat", "that", "omdat", "because", "voordat", "before")]
    return not subordinate or len(ws) - subordinate[-1] - 1 >= 3


def _shorten(core: str, lang: str, limit: int, message: str = "") -> str | None:
    """The longest head of ``core`` of at most ``limit`` words that repeats at most the
    allowed share of a long ``message`` verbatim (reflection.yml: echo_share)."""
    n_message = len(folded_words(message))
    share = float(get("reflection", "echo_share"))
    long_message = n_message >= int(get("reflection", "echo_from_words"))
    for head in _cuts(core, lang):
        if len(head.split()) > limit or not _complete(head, lang):
            continue
        if long_message and longest_run(head, message) > share * n_message:
            continue
        return head
    return None


def longest_run(said: str, message: str) -> int:
    """The longest run of the message's words that the bot says verbatim."""
    a, m = folded_words(said), folded_words(message)
    best = 0
    positions: dict[str, list[int]] = {}
    for j, w in enumerate(a):
        positions.setdefault(w, []).append(j)
    for i, w in enumerate(m):
        for j in positions.get(w, ()):
            k = 1
            while i + k < len(m) and j + k < len(a) and m[i + k] == a[j + k]:
                k += 1
            best = max(best, k)
    return best


def _subject_phrase(text: str, lang: str) -> str | None:
    """"De monteur" of "De monteur zou tussen 8 en 12 komen": a determiner and its noun."""
    ws = text.split()
    if len(ws) >= 3 and fold(ws[0]) in _words(lang, "determiners") and ws[1].isalpha():
        return f"{ws[0]} {ws[1]}"
    return None


def _uninvert(text: str, lang: str) -> str:
    """Dutch word order after "alleen"/"maar toen": "zat de doos half open" -> "de doos zat
    half open", so the clause reads as a statement on its own."""
    ws = text.split()
    if lang == "nl" and len(ws) >= 4 and fold(ws[1]) in _words(lang, "determiners") \
            and fold(ws[0]) not in words("wording", lang, "subjects") and ws[2].isalpha():
        return " ".join([ws[1], ws[2], ws[0]] + ws[3:])
    return text


def chat_spelling(text: str, lang: str) -> str:
    """Chat spelling written out ("wr" -> "weer"), so the bot never says it back."""
    table = _table(lang, "chat_spelling") or {}
    return WORD.sub(lambda m: table.get(m.group(0).lower(), m.group(0)), text) if table else text


def _with_article(text: str, a: MessageAnalysis, lang: str) -> str:
    """Chat style drops the article ("bezorging was te laat"): the bot says "de bezorging"."""
    ws = text.split()
    if not ws or not a.aspects or a.aspects[0].start != 0 or " " in a.aspects[0].text:
        return text
    if fold(ws[0]) in words("wording", lang, "determiners"):
        return text
    if lang == "nl":
        article = "het" if fold(ws[0]) in resources().nl_het_words else "de"
    else:
        article = "the"
    return f"{article} {text}"


def render(clause: Clause, message: str, lang: str, before: list[Clause] | None = None,
           limit: int | None = None) -> tuple[str, bool] | None:
    """(the clause's core turned to the bot's side, whether it is a claim about us), or None
    when it cannot be said short, true and without an insult. ``before`` are the clauses
    before it: a "hij"/"he" refers to the thing the nearest of them starts with."""
    text = chat_spelling(clean(clause.text), lang)
    leading = _words(lang, "leading_drop")
    while text and fold(text.split()[0]) in leading and len(text.split()) > 2:
        text = text.split(None, 1)[1]
    text = _with_article(text, clause.analysis, lang)
    text = _uninvert(text, lang)
    ws = text.split()
    if before and ws and fold(ws[0]) in _words(lang, "back_pronouns"):
        subject = next((p for p in (_subject_phrase(clean(c.text), lang) for c in reversed(before)) if p), None)
        if subject:
            text = " ".join([subject[:1].lower() + subject[1:]] + ws[1:])
    if any(is_insult(w, lang) for w in WORD.findall(text)):
        text = _drop_words(text, lang)  # "belachelijk traag" -> "veel te traag"
        if any(is_insult(w, lang) for w in WORD.findall(text)):
            return None
    else:
        text = _drop_words(text, lang)
    shifted = _neutral_company(clean(shift_pronouns(text, lang)), lang)
    limit = limit or int(get("reflection", "max_words"))
    n_message = len(folded_words(message))
    core = _shorten(shifted, lang, limit, message)
    if not core:
        return None
    first = folded_words(core)[0] if folded_words(core) else ""
    claim = first in ("wij", "we", "we're")
    if not claim and not (is_statement(core, lang) or self_labelled(clause.analysis, core)):
        return None
    core = _for_you(core, lang)
    if n_message >= int(get("reflection", "echo_from_words")) \
            and longest_run(core, message) > get("reflection", "echo_share") * n_message:
        return None
    if claim and lang == "nl":  # "wij belden je niet terug" -> "belden wij je niet terug" after "Volgens jou"
        ws = core.split()
        if len(ws) >= 2:
            core = " ".join([ws[1], ws[0]] + ws[2:])
    core = core if core.startswith(("I ", "I'")) else core[:1].lower() + core[1:]
    return core, claim


def _with_its_thing(chosen: Clause | None, parts: list[Clause], message: str, lang: str) -> Clause | None:
    """"ik heb 3x gebeld over mijn factuur en het klopt nog steeds niet": the weighing
    clause names no thing ("het klopt niet"), so it is said with the clause before it."""
    if chosen is None or parts.index(chosen) == 0:
        return None
    ws = folded_words(chosen.text)
    joiner = "en" if lang == "nl" else "and"
    rest = ws[1:] if ws and ws[0] == joiner else ws
    if not rest or rest[0] not in _words(lang, "refers_back"):
        return None
    before = parts[parts.index(chosen) - 1]
    if not before.analysis.aspects:
        return None
    text = f"{before.text} {chosen.text}" if ws[0] == joiner else f"{before.text} {joiner} {chosen.text}"
    if fold(text) not in fold(message) or len(text.split()) > 14:
        return None
    return Clause(text, chosen.after_contrast, analyze_cached(text, lang))


def core_of(a: MessageAnalysis, lang: str, band: str | None) -> tuple[str, bool, Clause] | None:
    """(core, is a claim about us, the clause) of the part of ``a`` that weighs."""
    if a.gibberish or a.dont_know or a.done_signal or not a.text.strip():
        return None
    parts = clauses(a.text, lang)
    chosen = choose(parts, lang, band)
    joined = _with_its_thing(chosen, parts, a.text, lang)
    if joined is not None:
        rendered = render(joined, a.text, lang, limit=int(get("reflection", "max_words_joined")))
        if rendered:
            return rendered[0], rendered[1], joined
    tried = [chosen] + [c for c in parts if c is not chosen] if chosen else []
    for clause in tried[:3]:
        if clause is not chosen and (clause.analysis.sentiment > 0.1) != (chosen.analysis.sentiment > 0.1):
            continue  # never swap the weighing part for its opposite
        if clause is not chosen and not clause.analysis.aspects and clause.analysis.sentiment_label == "neutral":
            continue  # "ik wil even kwijt wat er gebeurd is": an opening, not the substance
        i = parts.index(clause)
        rendered = render(clause, a.text, lang, parts[:i])
        if rendered:
            return rendered[0], rendered[1], clause
    return None


def shorten_fragment(fragment: str, lang: str, limit: int = 9) -> str | None:
    """A follow-up answer of a few words ("dat hij op tijd zou komen, of op zijn minst even
    zou bellen" -> "dat hij op tijd zou komen"), or None when it has no short head."""
    ws = fragment.split()
    if ws and fold(ws[0]) in _words(lang, "conditional"):
        # "if it had arrived on time it would have been a 9" -> "if it had arrived on time"
        main = _words(lang, "main_clause")
        for i in range(3, len(ws)):
            if fold(ws[i]).strip(",") in main and i <= limit:
                return " ".join(ws[:i]).rstrip(",")
    return _shorten(fragment, lang, limit)  # a fragment is not checked for echo here


def neutral_voice(text: str, lang: str) -> str:
    """For the summary: a strong word used as "very" said as "veel te"/"far too"
    ("belachelijk traag" -> "veel te traag"): their words, not an insult in the bot's voice."""
    strong = _words(lang, "strong_intensifiers")
    tokens = text.split(" ")
    out = []
    for i, tok in enumerate(tokens):
        nxt = fold(tokens[i + 1]) if i + 1 < len(tokens) else ""
        if fold(tok) in strong and nxt[:1].isalpha():
            if nxt not in ("te", "too"):
                out.append(_table(lang, "too"))
            continue
        out.append(tok)
    return " ".join(out)


def weighty_thing_clause(a: MessageAnalysis, lang: str, band: str | None) -> Clause | None:
    """The clause that weighs, also when it cannot be said back (then its thing is named)."""
    return choose(clauses(a.text, lang), lang, band)
