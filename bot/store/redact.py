"""Redaction of personal data in customer text (exports by default, the review app's viewer role).

    redact_text(text, language="nl") -> str
    find_pii(text) -> list[Span]                    # (start, end, kind) — for highlighting/tests
    redact_record(record: dict) -> dict             # an export record (bot.store.export) redacted
    redact_json(value, language) -> value           # any JSON value, strings redacted

What is replaced (marker nl / en):
- e-mail addresses                                   [e-mail] / [e-mail]
- IBANs that pass the IBAN checksum (stdnum.iban)    [IBAN]
- Dutch BSNs: 9 digits (or 1234.56.789) passing the 11-proef (stdnum.nl.bsn)   [BSN]
- phone numbers (phonenumbers.PhoneNumberMatcher, regions NL then GB, leniency VALID: Dutch
  numbers like 06-12345678 / 020 123 4567, UK 07911 123456, international +44 20 7946 0958)
  [telefoon] / [phone]
- Dutch postcodes "1234 AB" / "1234AB" (upper case, or lower case without a space; not a
  year followed by a short capitalised word like "2019 EN")  [postcode]
- street addresses (Dutch "Dorpsstraat 12", "Burgemeester de Withstraat 3-2"; English
  "221B Baker Street"), names after a cue ("mijn naam is …", "ik ben <first name>", "my name
  is …", "groeten, …"), dates of birth (a date after "geboren", "born", "DOB", …) and IP
  addresses: bot/store/pii_context.py   [adres]/[address], [naam]/[name],
  [geboortedatum]/[date of birth], [IP-adres]/[IP address]
Matching runs on a normalised copy (textsafe.match_form: zero-width and bidi controls removed,
NFKC, Cyrillic/Greek look-alikes mapped to Latin); the markers replace the original text.
Ordinary numbers are kept: scores ("8", "8/10"), counts ("3 keer"), order numbers
("order 12345"), dates that are not a date of birth ("22-11-2026"), amounts ("€ 49,95"), years.
A 9-digit number that happens to pass the 11-proef is treated as a BSN (by design).
Measured on tests/store/redaction_set.yml (244 messages): scripts/redaction_eval.py.
"""
from __future__ import annotations

import functools
import re
from typing import Any, NamedTuple

import phonenumbers
from stdnum import iban as std_iban
from stdnum.nl import bsn as std_bsn

from bot.store import pii_context
from bot.store.textsafe import match_form

MARKERS = {
    "nl": {"email": "[e-mail]", "phone": "[telefoon]", "iban": "[IBAN]", "bsn": "[BSN]", "postcode": "[postcode]",
           "address": "[adres]", "name": "[naam]", "dob": "[geboortedatum]", "ip": "[IP-adres]"},
    "en": {"email": "[e-mail]", "phone": "[phone]", "iban": "[IBAN]", "bsn": "[BSN]", "postcode": "[postcode]",
           "address": "[address]", "name": "[name]", "dob": "[date of birth]", "ip": "[IP address]"},
}

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){10,30}\b")
_BSN = re.compile(r"(?<![\d.,-])(\d{9}|\d{4}\.\d{2}\.\d{3})(?![\d]|[.,-]\d)")
_POSTCODE = re.compile(r"\b[1-9]\d{3}(?: ?[A-Z]{2}|[a-z]{2})\b")
_POSTCODE_EXCLUDED = {"SA", "SD", "SS"}  # never issued
# "in 2019 EN 2020": a year followed by a short word in capitals is not a postcode
_YEAR_WORDS = {"EN", "OF", "IN", "OP", "IS", "IK", "JE", "TE", "OM", "AL", "NA", "ZO", "DE", "ER", "NU",
               "AN", "AT", "BY", "IT", "ON", "OR", "TO", "SO", "NO", "AS", "IF", "AM", "WE", "HE", "ME", "MY", "UP"}


def _is_postcode(match: str) -> bool:
    digits, letters = match[:4], match[-2:].upper()
    if letters in _POSTCODE_EXCLUDED:
        return False
    if 1900 <= int(digits) <= 2099 and letters in _YEAR_WORDS:
        return False
    return True


class Span(NamedTuple):
    start: int
    end: int
    kind: str


def _iban_spans(text: str) -> list:
    spans = []
    for m in _IBAN.finditer(text):
        candidate = m.group(0)
        # the regex may run into a following word; try the longest prefix that validates
        for end in range(len(candidate), 14, -1):
            piece = candidate[:end]
            if piece.endswith(" "):
                continue
            if std_iban.is_valid(piece):
                spans.append(Span(m.start(), m.start() + end, "iban"))
                break
    return spans


_DIGIT = re.compile(r"\d")
PHONE_REGIONS = ("NL", "GB")  # Dutch first; UK national numbers for English-speaking customers


_NATIONAL_NUMBER = re.compile(r"(?<![\d+])0\d[\d -]{7,12}\d")


def _phone_spans(text: str) -> list:
    """Phone numbers read as Dutch; national numbers left over ("07911 123456") read as UK."""
    spans: list = []
    for region in PHONE_REGIONS:
        if region != PHONE_REGIONS[0] and not any(
                all(m.end() <= s.start or m.start() >= s.end for s in spans) for m in _NATIONAL_NUMBER.finditer(text)):
            break  # every national-looking number was already read: the costly second pass is skipped
        try:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                spans.append(Span(match.start, match.end, "phone"))
        except Exception:  # noqa: BLE001  phonenumbers on pathological input: keep going
            pass
    return spans


def _pattern_spans(text: str) -> list:
    has_at = "@" in text
    digits = len(_DIGIT.findall(text))
    spans: list = []
    if has_at:
        spans += [Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
    if digits >= 7:  # every IBAN, BSN and phone number has at least 7 digits
        spans += _iban_spans(text)
        spans += [Span(m.start(1), m.end(1), "bsn") for m in _BSN.finditer(text) if std_bsn.is_valid(m.group(1))]
        spans += _phone_spans(text)
    if digits >= 4:
        spans += [Span(m.start(), m.end(), "postcode") for m in _POSTCODE.finditer(text) if _is_postcode(m.group(0))]
        spans += [Span(a, b, "dob") for a, b in pii_context.dob_spans(text)]
        if "." in text or ":" in text:
            spans += [Span(a, b, "ip") for a, b in pii_context.ip_spans(text)]
    elif ":" in text:
        spans += [Span(a, b, "ip") for a, b in pii_context.ip_spans(text)]
    if digits:
        spans += [Span(a, b, "address") for a, b in pii_context.address_spans(text)]
    spans += [Span(a, b, "name") for a, b in pii_context.name_spans(text)]
    return spans


_PRIORITY = {"email": 0, "iban": 1, "bsn": 2, "phone": 3, "ip": 4, "dob": 5, "postcode": 6, "address": 7, "name": 8}


def find_pii(text: str) -> list:
    """Spans of personal data in `text` (offsets in `text` itself). Matching runs on the text
    with invisible characters removed and look-alike letters mapped (textsafe.match_form), so
    "jan\u200b@example.com" or a Cyrillic "е" does not hide an address."""
    if not text:
        return []
    norm, positions = match_form(text)
    spans = _pattern_spans(norm)
    # resolve overlaps: earlier kinds in _PRIORITY win, then longer spans
    spans.sort(key=lambda s: (_PRIORITY[s.kind], s.start, -(s.end - s.start)))
    chosen: list = []
    for s in spans:
        if s.end > s.start and all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    if positions is not None:
        chosen = [Span(positions[s.start], positions[s.end - 1] + 1, s.kind) for s in chosen]
    return sorted(chosen)


def redact_text(text: str, language: str = "nl") -> str:
    """`text` with e-mail addresses, phone numbers, IBANs, BSNs and postcodes replaced by markers."""
    if not text or not isinstance(text, str):
        return text
    if len(text) <= 2000:
        return _redact_cached(text, language)
    return _redact(text, language)


@functools.lru_cache(maxsize=8192)  # bot messages and short answers repeat a lot in exports
def _redact_cached(text: str, language: str) -> str:
    return _redact(text, language)


def _redact(text: str, language: str) -> str:
    markers = MARKERS.get((language or "nl")[:2], MARKERS["nl"])
    out = text
    for span in sorted(find_pii(text), reverse=True):
        out = out[: span.start] + markers[span.kind] + out[span.end :]
    return out


def redact_json(value: Any, language: str = "nl") -> Any:
    if isinstance(value, str):
        return redact_text(value, language)
    if isinstance(value, dict):
        return {k: redact_json(v, language) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, language) for v in value]
    return value


def redact_contact(contact: str | None, kind: str | None = None, language: str = "nl") -> str | None:
    if not contact:
        return contact
    markers = MARKERS.get((language or "nl")[:2], MARKERS["nl"])
    if kind == "email" or "@" in contact:
        return markers["email"]
    return markers["phone"]


# ---------------------------------------------------------------------------- by field
# What a viewer sees of each field of a story (export record, story page, API, search snippets).
# One table, used by every output (docs/review.md, "What is redacted where"):
#   pseudonym  the value is replaced by a keyed hash (bot.store.keyed): stable per customer,
#              so a viewer can still see that two stories share a sender, never who it is
#   contact    replaced by a marker ([e-mail] / [telefoon] / [phone])
#   metadata   free channel metadata: only SAFE_METADATA_KEYS keep their (pattern-redacted)
#              value, every other key (names, order references, addresses, platform ids…)
#              becomes "[redacted]"
#   text       free customer or staff text: personal data inside it is replaced by markers
PERSONAL_FIELDS = {
    "conversation_id": "pseudonym",  # a Rasa sender id: for WhatsApp/SMS the phone number itself
    "contact": "contact",
    "channel_metadata": "metadata",
    "summary": "text",
    "correction": "text",
    "score_answer": "text",
    "answers": "text",
    "transcript": "text",
    "notes": "text",
    "follow_up_note": "text",
}
# Channel metadata keys that describe the touchpoint, not the person.
SAFE_METADATA_KEYS = frozenset({
    "page", "touchpoint", "source", "campaign", "medium", "locale", "language", "language_code",
    "chat_type", "device", "platform", "channel", "received", "media", "location", "page_id",
})
REDACTED = "[redacted]"
TEXT_FIELDS = tuple(k for k, how in PERSONAL_FIELDS.items() if how == "text")  # kept for callers


def redact_metadata(meta: Any, language: str = "nl") -> Any:
    """Channel metadata as a viewer may see it (see SAFE_METADATA_KEYS)."""
    if not isinstance(meta, dict):
        return {} if meta in (None, "") else REDACTED
    out = {}
    for key, value in meta.items():
        if str(key).lower() not in SAFE_METADATA_KEYS or isinstance(value, (dict, list)):
            out[key] = REDACTED if value not in (None, "") else value
        else:
            out[key] = redact_json(value, language)
    return out


def redact_field(field: str, value: Any, language: str = "nl", contact_kind: str | None = None) -> Any:
    """`value` of story field `field` as a viewer may see it (PERSONAL_FIELDS)."""
    how = PERSONAL_FIELDS.get(field)
    if value in (None, "") or how is None:
        return value
    if how == "pseudonym":
        from bot.store.keyed import pseudonym

        return pseudonym(str(value), field)
    if how == "contact":
        return redact_contact(value, contact_kind, language)
    if how == "metadata":
        return redact_metadata(value, language)
    if field == "transcript":
        return [dict(m, text=redact_text(m.get("text"), language)) for m in value]
    if field == "notes":
        return [dict(n, text=redact_text(n.get("text"), language)) for n in value]
    return redact_json(value, language)


def redact_record(record: dict) -> dict:
    """A redacted copy of an export record (bot.store.export.story_record): every field of
    PERSONAL_FIELDS treated as that table says."""
    lang = record.get("language") or "nl"
    r = dict(record)
    for field in PERSONAL_FIELDS:
        if field in r:
            r[field] = redact_field(field, r[field], lang, r.get("contact_kind"))
    return r
