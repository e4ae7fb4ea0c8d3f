"""Reading the 0–10 recommendation score from free text, in Dutch and English.

Decisions (documented in docs/listening.md):
- Decimals round to the nearest whole score ("6,4" -> 6, "7.8" -> 8); exactly half
  ("7,5", "8.5", "zeven en een half", "7½") is between two scores, so the bot asks which,
  like "zes of zeven". The unrounded number is kept in ``exact``.
- Plus and minus are the same score: "8+" -> 8, "8-" -> 8, "een krappe 6" -> 6.
- School-grade words, in a short message only: "voldoende" -> 6, "ruim voldoende" -> 7,
  "een dikke voldoende" -> ask 6 or 7; "onvoldoende" and grade words in a story are no score.
- "zes of zeven", "6 or 7", "6-7", "6/7" are ambiguous: ``value`` is None and
  ``candidates`` holds the options so the bot can ask which one.
- Counts and amounts are not scores: "3 keer gebeld", "2 weken", "€ 40", "order 12345".
- Anything that looks like a Rasa intent/entity payload ("/give_score{...}") is never
  read as a score.
- A number outside 0..10 ("11", "-3", "100") gives ``out_of_range`` and no value.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .nlp import fold

NUMBER_WORDS = {
    # Dutch
    "nul": 0, "een": 1, "eentje": 1, "twee": 2, "tweetje": 2, "drie": 3, "drietje": 3,
    "vier": 4, "viertje": 4, "vijf": 5, "vijfje": 5, "zes": 6, "zesje": 6, "zessie": 6,
    "zeven": 7, "zevende": 7, "acht": 8, "achtje": 8, "achtste": 8, "negen": 9,
    "negentje": 9, "tien": 10, "tientje": 10, "tiendje": 10, "elf": 11, "twaalf": 12,
    "dertien": 13, "twintig": 20, "vijftig": 50, "honderd": 100,
    # English
    "zero": 0, "nil": 0, "nought": 0, "naught": 0, "one": 1, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "twenty": 20, "fifty": 50, "hundred": 100,
}
# words that make the next number a score ("ik geef een 7", "a solid 8", "cijfer 6")
SCORE_CUES = {
    "geef", "geven", "gaf", "cijfer", "score", "een", "dikke", "dikke,", "krappe", "ruime",
    "mager", "magere", "solide", "give", "gave", "giving", "a", "an", "solid", "strong",
    "rate", "rating", "rated", "maybe", "misschien", "wordt", "it's", "its", "is", "zou",
}
UNIT_WORDS = {
    "keer", "keren", "dag", "dagen", "week", "weken", "maand", "maanden", "uur", "uren",
    "minuut", "minuten", "jaar", "jaren", "euro", "eur", "cent", "procent", "ster", "sterren",
    "sterretjes", "pakketten", "pakket", "telefoontjes", "mails", "man", "stuks",
    "time", "times", "day", "days", "weeks", "month", "months", "hour", "hours",
    "minute", "minutes", "mins", "year", "years", "euros", "pounds", "dollars", "percent",
    "star", "stars", "calls", "emails", "items", "x", "%", "keer.", "weken.",
}
PRE_EXCLUDE = {"€", "$", "£", "nummer", "nr", "order", "ordernummer", "bestelnummer", "#",
               "klantnummer", "number", "no", "om", "at", "sinds", "since", "voor", "tot",
               "na", "after", "before", "postcode", "huisnummer", "de", "the", "op"}
NOT_ONE_BEFORE = {"no", "the", "this", "that", "every", "any", "some", "which", "each",
                  "nog", "de", "het", "die", "zo'n", "elk", "ieder", "geen"}
REFUSAL = re.compile(
    r"\b(zeg ik liever niet|liever niet|wil ik niet zeggen|zeg ik niet|geen cijfer|"
    r"geef ik (?:liever )?niet|geef (?:ik )?geen|ik geef geen|wil ik niet|geen zin|"
    r"overslaan|sla (?:dit |die |deze |maar |ik )?over|no comment|rather not|prefer not|"
    r"not saying|won'?t say|not telling|skip(?: it| this| that)?|pass|"
    r"i don'?t (?:want|wish) to (?:say|answer|give)|none of your business)\b")
DONT_KNOW = re.compile(
    r"\b(geen idee|weet (?:ik )?(?:het )?niet|weet ik veel|geen flauw idee|lastig te zeggen|"
    r"moeilijk te zeggen|don'?t know|dont know|dunno|no idea|not sure|hard to say|"
    r"can'?t say|idk)\b")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+(?:'[a-z]+)?|[€$£#%/+\-–—]")
_PAYLOAD = re.compile(r"^\s*/|[{}]")
_DECIMAL_WORDS = {"komma", "punt", "point", "dot"}
_RANGE_WORDS = {"of", "or", "a", "à", "tot", "to", "-", "–", "—", "/", "en"}
_FRACTION_WORDS = ("/", "uit", "op", "van", "out", "of")
# Dutch school-grade words (only when the message is little more than the grade)
_GRADE_WORDS = {"voldoende": 6}
_GRADE_UP = {"ruim", "ruime", "ruimschoots"}  # "ruim voldoende" is a 7
_GRADE_EITHER = {"dikke", "dik", "goede"}  # "een dikke voldoende": a 6 or a 7, ask
_GRADE_MAX_TOKENS = 4


@dataclass(frozen=True)
class ScoreResult:
    value: int | None = None
    candidates: tuple[int, ...] = ()
    refused: bool = False
    out_of_range: bool = False
    dont_know: bool = False
    exact: float | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def ambiguous(self) -> bool:
        return self.value is None and len(self.candidates) > 1


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


@dataclass
class _Num:
    value: float
    index: int  # token index of the (first) number token
    end: int  # token index after the number
    word: bool


def _numbers(tokens: list[str], original: str) -> list[_Num]:
    nums: list[_Num] = []
    n = len(tokens)
    i = 0
    has_accented_one = "één" in original.lower() or "eén" in original.lower()
    digitish = any(t[0].isdigit() or (t in NUMBER_WORDS and t not in ("een", "one")) for t in tokens)
    while i < n:
        tok = tokens[i]
        value: float | None = None
        word = False
        end = i + 1
        if tok[0].isdigit():
            value = float(tok.replace(",", "."))
        elif tok in NUMBER_WORDS:
            word = True
            value = float(NUMBER_WORDS[tok])
            if tok in ("een", "one"):
                prev = tokens[i - 1] if i else ""
                last = i == n - 1 or all(t in ("!", "?", ".") for t in tokens[i + 1:])
                if tok == "een" and not (has_accented_one or (last and not digitish)):
                    value = None
                if tok == "one" and (digitish or prev in NOT_ONE_BEFORE or not last and
                                     i + 1 < n and tokens[i + 1] in ("of", "more", "time", "thing", "day")):
                    value = None
        if value is not None:
            # decimal written out: "acht komma vijf", "eight point five", "zeven en een half"
            if end + 1 < n + 1 and end < n and tokens[end] in _DECIMAL_WORDS and end + 1 < n:
                frac = tokens[end + 1]
                if frac.isdigit():
                    value = float(f"{int(value)}.{frac}")
                    end += 2
                elif frac in NUMBER_WORDS and NUMBER_WORDS[frac] < 10:
                    value = value + NUMBER_WORDS[frac] / 10
                    end += 2
            elif tokens[end:end + 3] in (["en", "een", "half"], ["and", "a", "half"]):
                value += 0.5
                end += 3
            elif end < n and tokens[end] == "half" and word:
                value += 0.5
                end += 1
            # sign: "-3" (but not "6-7")
            if i > 0 and tokens[i - 1] in ("-", "–", "min", "minus") and (
                i < 2 or not (tokens[i - 2][0].isdigit() or tokens[i - 2] in NUMBER_WORDS)
            ):
                value = -value
            nums.append(_Num(value, i, end, word))
            i = end
            continue
        i += 1
    return nums


def parse_score(text: str) -> ScoreResult:
    """Read a 0–10 score from ``text`` (digits or words, Dutch or English)."""
    if not text or not text.strip():
        return ScoreResult()
    if _PAYLOAD.search(text):
        return ScoreResult()
    folded = fold(text.replace("½", ",5")).replace("’", "'")
    tokens = _TOKEN.findall(folded)
    nums = _numbers(tokens, text)
    if not nums:
        grade = _grade(tokens)
        if grade is not None:
            return grade

    usable: list[_Num] = []
    consumed: set[int] = set()
    ranges: list[tuple[int, int]] = []
    for k, num in enumerate(nums):
        if num.index in consumed:
            continue
        after = tokens[num.end] if num.end < len(tokens) else ""
        after2 = tokens[num.end + 1] if num.end + 1 < len(tokens) else ""
        before = tokens[num.index - 1] if num.index else ""
        # a fraction: "8/10", "7 uit 10", "7 op 10", "7 van de 10", "7 out of 10"
        nxt = nums[k + 1] if k + 1 < len(nums) else None
        if nxt is not None and nxt.value == 10 and after in _FRACTION_WORDS and nxt.index - num.end <= 2:
            consumed.add(nxt.index)
            usable.append(num)
            continue
        if after in UNIT_WORDS or (after == "%"):
            continue
        if before in PRE_EXCLUDE and before not in ("de", "the", "op", "voor", "om", "at") and not num.word:
            continue
        if before in ("om", "at") and after in ("uur", "o'clock", "pm", "am"):
            continue
        # a range / choice: "zes of zeven", "6 or 7", "6-7", "6/7", "6 à 7"
        if (nxt is not None and after in _RANGE_WORDS and nxt.index == num.end + 1
                and nxt.value != num.value and 0 <= num.value <= 10 and 0 <= nxt.value <= 10
                and not (after == "/" and nxt.value == 10)
                and not (after == "en" and abs(nxt.value - num.value) > 1)):
            a, b = round_half_up(num.value), round_half_up(nxt.value)
            if a != b:
                ranges.append((a, b))
                consumed.add(nxt.index)
                continue
        usable.append(num)
        del after2

    refused = bool(REFUSAL.search(folded))
    dont_know = bool(DONT_KNOW.search(folded))
    if not usable and not ranges:
        return ScoreResult(refused=refused and not dont_know, dont_know=dont_know and not refused)

    if ranges and not usable:
        a, b = ranges[0]
        return ScoreResult(candidates=tuple(sorted({a, b})))

    values = {round_half_up(n.value) for n in usable}
    if len(values) > 1:
        cued = [n for n in usable if n.index and tokens[n.index - 1] in SCORE_CUES
                or (n.index >= 2 and tokens[n.index - 2] in SCORE_CUES)]
        cued_values = {round_half_up(n.value) for n in cued}
        if len(cued_values) == 1:
            usable = [n for n in cued]
            values = cued_values
    if len(values) > 1:
        in_range = sorted(v for v in values if 0 <= v <= 10)
        if len(in_range) == 1:
            values = {in_range[0]}
            usable = [n for n in usable if round_half_up(n.value) == in_range[0]]
        elif len(in_range) > 1:
            return ScoreResult(candidates=tuple(in_range[:3]))
    exact = usable[0].value
    value = round_half_up(exact)
    if exact < 0 or value > 10:
        return ScoreResult(out_of_range=True, exact=exact)
    if exact != int(exact) and exact * 2 == int(exact * 2):  # "7,5": a 7 or an 8? ask
        return ScoreResult(candidates=(int(exact), int(exact) + 1), exact=exact)
    return ScoreResult(value=value, exact=exact)


def _grade(tokens: list[str]) -> ScoreResult | None:
    """"voldoende" (6), "ruim voldoende" (7), "een dikke voldoende" (6 or 7): a grade word
    said as the answer, not one inside a story ("de uitleg was niet voldoende")."""
    words = [t for t in tokens if t.isalpha()]
    grade = next((t for t in words if t in _GRADE_WORDS), None)
    if grade is None or len(words) > _GRADE_MAX_TOKENS or {"niet", "geen", "not"} & set(words):
        return None
    base = _GRADE_WORDS[grade]
    if _GRADE_UP & set(words):
        return ScoreResult(value=base + 1, exact=float(base + 1))
    if _GRADE_EITHER & set(words):
        return ScoreResult(candidates=(base, base + 1))
    return ScoreResult(value=base, exact=float(base))
