"""Personal data that no checksum or phone library finds: street addresses, names in context,
dates of birth, IP addresses (used by bot.store.redact.find_pii on the matching form of a text).

    address_spans(text) / name_spans(text) / dob_spans(text) / ip_spans(text) -> [(start, end)]

- Addresses: a Dutch street name (a word ending in straat, laan, weg, gracht, plein, kade, …,
  optionally after capitalised words or particles: "Burgemeester de Withstraat", "Lange
  Voorhout") followed by a house number ("12", "5a", "3-2", "158 bis"); an English house
  number followed by one to three words and a street type ("221B Baker Street", "7 oak avenue").
- Names: after a strong cue ("mijn naam is", "my name is", "ik heet", "naam:", "t.n.v.") any
  capitalised word (titles like "mevrouw" skipped); after a weak cue ("ik ben", "I'm", "this
  is", "groeten,", "regards,", "mvg") only a first name from first_names.yml, so "ik ben boos"
  stays; after a sign-off ("groeten,", "mvg", "regards,") any capitalised word. Surname words and particles (van, de, der, el, …) that follow are included.
- Dates of birth: a date within a few words after "geboren", "geboortedatum", "geb.", "born",
  "date of birth", "DOB", "birthday". Other dates are kept.
- IP addresses: IPv4 and IPv6 that parse with the ipaddress module.
"""
from __future__ import annotations

import functools
import ipaddress
import re
from pathlib import Path

import yaml

_NL_SUFFIX = (r"straatweg|straat|laan|weg|plein|gracht|kade|singel|dijk|pad|steeg|hof|park|markt|dreef|"
              r"baan|wal|plantsoen|boulevard|kanaal|haven|erf|veld|hoek|berg|burg|dam|hout|oord|akker|"
              r"stede|werf|poort|polder|vaart|wetering|gouw|brink|horst|tuin|zoom|dreef")
_NL_ADDRESS = re.compile(
    r"(?<![\w-])((?:(?:[A-Z][\w'.-]*|van|de|der|den|het|'t|ter|te)\s+){0,3}"
    r"[A-Za-zÀ-ÿ'.-]*?(?i:" + _NL_SUFFIX + r"))"
    r"\s+(\d{1,5}(?:\s?[a-zA-Z](?![\w]))?(?:[-/]\d{1,4})?(?:\s(?:bis|hs|zw|rd|bg)\b)?)(?![\d,.]\d)"
)
_EN_ADDRESS = re.compile(
    r"(?<![\w.,])(\d{1,5}[A-Za-z]?)\s+((?:[A-Za-z][\w'-]*\s+){1,3}?)"
    r"(?i:street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|court|ct|place|pl|square|sq|crescent|"
    r"terrace|gardens|boulevard|blvd|grove|hill|row|walk|mews)\b\.?"
)

_PARTICLES = r"(?:van|de|der|den|ter|te|el|al|von|le|la|di|da|dos|du|'t|bin|ben)"
_NAME_WORD = r"[A-ZÀ-Ý][\w'’-]+"
_SURNAME = rf"(?:\s+(?:{_PARTICLES}\s+){{0,3}}{_NAME_WORD}){{0,2}}"
_TITLES = r"(?:(?:meneer|mevrouw|mevr\.?|dhr\.?|mw\.?|de heer|mr\.?|mrs\.?|ms\.?|miss|dr\.?)\s+)?"
_STRONG = re.compile(
    r"(?i:\b(?:mijn naam is|my name is|my name's|ik heet|u spreekt met|je spreekt met|naam\s*:|name\s*:|t\.n\.v\.?|ten name van))"
    rf"\s+{_TITLES}(?P<name>[\wÀ-ÿ'’-]+{_SURNAME})"
)
_WEAK = re.compile(
    r"(?i:(?:\bik ben|\bi'm|\bi’m|\bi am|\bthis is|\bdit is|\bhier is|\bthanks,?))"
    rf"\s+(?P<name>[\wÀ-ÿ'’-]+{_SURNAME})"
)
# A sign-off is followed by a name almost always: any capitalised word counts.
_SIGN_OFF = re.compile(
    r"(?i:(?:\bgroeten|\bgroetjes|\bgroet|\bmvg|\bgr\.|\bregards|\bcheers|\bgreetings|\bbest wishes|\bkind regards))"
    rf",?[ \t]*\n?[ \t]*(?P<name>{_NAME_WORD}{_SURNAME})"
)
# Cheap gates, searched in the lower-cased text without IGNORECASE (which makes Python's re
# several times slower), before the costly expressions run.
_STRONG_GATE = re.compile(r"naam|name|heet|spreekt|t\.n\.v|ten name")
_WEAK_GATE = re.compile(r"ik ben|i'm|i’m|i am|this is|dit is|hier is|thanks")
_SIGN_OFF_GATE = re.compile(r"groet|mvg|gr\.|regards|cheers|greetings|best wishes")
_NL_GATE = re.compile(r"(?:" + _NL_SUFFIX + r")\s+\d")
_EN_GATE = re.compile(r"\b(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|court|ct|place|pl|"
                      r"square|sq|crescent|terrace|gardens|boulevard|blvd|grove|hill|row|walk|mews)\b")
_DOB_GATE = re.compile(r"geb|born|birth|dob|d\.o\.b|verjaardag")

_MONTHS = (r"jan(?:uari|uary)?|feb(?:ruari|ruary)?|maart|mrt|march|mar|apr(?:il)?|mei|may|jun[ie]?|jul[iy]?|"
           r"aug(?:ustus|ust)?|sep(?:t(?:ember)?)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATE = (rf"(?:\d{{1,2}}[-/.]\d{{1,2}}[-/.](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{1,2}}-\d{{1,2}}|"
         rf"\d{{1,2}}\s+(?i:{_MONTHS})\.?\s+\d{{4}}|(?i:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}})")
_DOB = re.compile(
    r"(?i:geboren|geboortedatum|geb\.|born|date of birth|birth date|birthdate|dob|d\.o\.b\.|birthday|verjaardag)"
    rf"[^\d\n]{{0,20}}?(?P<date>{_DATE})(?!\d)"
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

_NOT_NAMES = frozenset({"niet", "geen", "een", "de", "het", "heel", "erg", "al", "nog", "net", "zo", "ook", "blij",
                        "boos", "klant", "not", "a", "an", "the", "very", "so", "just", "also", "sorry"})


@functools.lru_cache(maxsize=1)
def first_names() -> frozenset:
    data = yaml.safe_load((Path(__file__).with_name("first_names.yml")).read_text(encoding="utf-8")) or {}
    return frozenset(n.lower() for names in data.values() for n in names or [])


def address_spans(text: str) -> list:
    spans = []
    lower = text.lower()
    for m in (_NL_ADDRESS.finditer(text) if _NL_GATE.search(lower) else ()):
        street = m.group(1)
        last = street.split()[-1]
        if re.fullmatch(r"(?i:" + _NL_SUFFIX + r")", last) and not last[0].isupper():
            continue  # "weg 3 dagen": the bare word, not a street name
        start = m.start(1)
        lead = street.split()[0]
        if lead in ("de", "het", "'t", "te", "ter") and len(street.split()) > 1:
            start += len(lead) + 1  # "op de Dorpsstraat 12": the article is not part of it
        spans.append((start, m.end(2)))
    for m in (_EN_ADDRESS.finditer(text) if _EN_GATE.search(lower) else ()):
        spans.append((m.start(1), m.end()))
    return spans


def _trim_name(text: str, start: int, end: int) -> tuple:
    return start, start + len(text[start:end].rstrip(" '’-"))


def name_spans(text: str) -> list:
    lower = text.lower()
    spans = []
    names = first_names()
    for m in (_STRONG.finditer(text) if _STRONG_GATE.search(lower) else ()):
        word = m.group("name").split()[0]
        if word.lower() in _NOT_NAMES or not (word[0].isupper() or word.lower() in names):
            continue
        spans.append(_trim_name(text, m.start("name"), m.end("name")))
    for m in (_SIGN_OFF.finditer(text) if _SIGN_OFF_GATE.search(lower) else ()):
        if m.group("name").split()[0].lower() not in _NOT_NAMES:
            spans.append(_trim_name(text, m.start("name"), m.end("name")))
    for m in (_WEAK.finditer(text) if _WEAK_GATE.search(lower) else ()):
        word = m.group("name").split()[0].strip("'’-")
        if word.lower() not in names:
            continue
        spans.append(_trim_name(text, m.start("name"), m.end("name")))
    return spans


def dob_spans(text: str) -> list:
    if not _DOB_GATE.search(text.lower()):
        return []
    return [(m.start("date"), m.end("date")) for m in _DOB.finditer(text)]


def ip_spans(text: str) -> list:
    spans = []
    for rx in (_IPV4, _IPV6):
        for m in rx.finditer(text):
            try:
                ipaddress.ip_address(m.group(0))
            except ValueError:
                continue
            spans.append((m.start(), m.end()))
    return spans
