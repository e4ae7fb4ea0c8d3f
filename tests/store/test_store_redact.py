"""Redaction both ways: real personal data is found, ordinary numbers are kept."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from bot.store.redact import find_pii, redact_record, redact_text


@pytest.mark.parametrize("text,expected", [
    ("Mail me op jan.jansen@example.nl aub", "Mail me op [e-mail] aub"),
    ("MAIL: J.de-Vries+klacht@sub.example.co.uk.", "MAIL: [e-mail]."),
    ("bel me op 06-12345678", "bel me op [telefoon]"),
    ("bel me op 0612345678 of 06 12 34 56 78", "bel me op [telefoon] of [telefoon]"),
    ("vast nummer 020 123 4567", "vast nummer [telefoon]"),
    ("tel: +31 6 12345678", "tel: [telefoon]"),
    ("tel: 0031612345678", "tel: [telefoon]"),
    ("telefoon +31 (0)20 1234567", "telefoon [telefoon]"),
    ("call +44 20 7946 0958", "call [telefoon]"),
    ("IBAN NL91 ABNA 0417 1643 00 graag terugstorten", "IBAN [IBAN] graag terugstorten"),
    ("rekening nl91abna0417164300", "rekening [IBAN]"),
    ("DE89 3704 0044 0532 0130 00", "[IBAN]"),
    ("mijn bsn is 111222333", "mijn bsn is [BSN]"),
    ("BSN: 1234.56.782", "BSN: [BSN]"),
    ("ik woon op 1234 AB in Utrecht", "ik woon op [postcode] in Utrecht"),
    ("postcode 3511lx", "postcode [postcode]"),
])
def test_personal_data_is_redacted(text, expected):
    assert redact_text(text) == expected


def test_english_markers():
    assert redact_text("call me on 06-12345678 or jan@example.com", "en") == "call me on [phone] or [e-mail]"


@pytest.mark.parametrize("text", [
    "8", "8/10", "een dikke zeven", "I'd give it a six", "zes of zeven", "10!",
    "ik heb 3 keer gebeld", "3x gebeld", "twee weken gewacht, 14 dagen",
    "order 12345", "bestelnummer 2026112212", "ordernr 987654321", "klantnummer 12345678",
    "op 22-11-2026 besteld", "op 22/11/2026", "sinds 2019 en 2020", "in 2019 EN 2020 zeker",
    "€ 49,95 betaald", "bedrag 1.234,56 euro", "€1234", "factuur 2024-001234",
    "om 10:30 uur", "om 14.30", "versie 3.2.1", "artikel 123456", "10% korting", "1 januari",
    "NL is een land", "mijn pakket kwam 3 dagen te laat, voor de 2e keer",
])
def test_ordinary_numbers_are_kept(text):
    assert redact_text(text) == text
    assert find_pii(text) == []


def test_invalid_lookalikes_are_kept():
    assert redact_text("NL91 ABNA 0417 1643 01") == "NL91 ABNA 0417 1643 01"  # bad IBAN checksum
    assert redact_text("nummer 123456789") == "nummer 123456789"  # fails the 11-proef


def test_redact_record_covers_every_text_field():
    rec = {"language": "nl", "summary": "mail jan@example.com", "correction": "bel 0612345678",
           "answers": {"reason": "IBAN NL91ABNA0417164300"}, "channel_metadata": {"email": "a@b.nl", "n": 3},
           "contact": "+31612345678", "contact_kind": "phone",
           "transcript": [{"role": "customer", "text": "ik ben a@b.nl", "at": "x"}],
           "notes": [{"author": "anna", "text": "gebeld 0612345678", "at": "x"}], "follow_up_note": "a@b.nl",
           "score": 8}
    red = redact_record(rec)
    assert red["summary"] == "mail [e-mail]" and red["correction"] == "bel [telefoon]"
    assert red["answers"] == {"reason": "IBAN [IBAN]"}
    assert red["channel_metadata"] == {"email": "[redacted]", "n": "[redacted]"}  # by field: not a safe key
    assert red["contact"] == "[telefoon]" and red["score"] == 8
    assert red["transcript"][0]["text"] == "ik ben [e-mail]" and red["notes"][0]["text"] == "gebeld [telefoon]"
    assert red["follow_up_note"] == "[e-mail]"
    assert rec["summary"] == "mail jan@example.com"  # the input is not modified


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_redaction_never_crashes_and_is_idempotent(text):
    once = redact_text(text)
    assert isinstance(once, str)
    assert redact_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999), st.sampled_from(["order ", "", "nr. ", "€ ", "x"]))
def test_short_numbers_are_never_redacted(n, prefix):
    text = f"{prefix}{n}"
    assert redact_text(text) == text
