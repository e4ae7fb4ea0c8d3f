"""Redaction by field (docs/review.md, "What is redacted where"): a viewer's export never carries
the sender id, the contact or free channel metadata, whatever they look like."""
from __future__ import annotations

import csv
import io
import json

from bot.store.capture import snapshot_from_events
from bot.store.export import export_csv, export_jsonl
from bot.store.redact import PERSONAL_FIELDS, SAFE_METADATA_KEYS, redact_record
from store_helpers import Conversation

SENDER = "twilio:whatsapp:+31612345678"
META = {"page": "/bestelling", "name": "Piet Jansen", "order_ref": "A-98765", "message_sid": "SM0123456789abcdef",
        "address": "Dorpsstraat 12"}
SECRETS = ("+31612345678", "31612345678", "Piet Jansen", "A-98765", "SM0123456789abcdef", "Dorpsstraat 12",
           "jan@example.com")


def _store_story(store):
    conv = Conversation(SENDER, channel="twilio", metadata=dict(META)).typical()
    return store.repo.save(snapshot_from_events(SENDER, conv.events))


def test_field_table_covers_identifiers():
    for field in ("conversation_id", "contact", "channel_metadata", "transcript", "answers", "notes"):
        assert field in PERSONAL_FIELDS
    assert "name" not in SAFE_METADATA_KEYS and "order_ref" not in SAFE_METADATA_KEYS


def test_redacted_jsonl_has_no_identifier(store):
    _store_story(store)
    out = io.StringIO()
    with store.session() as s:
        export_jsonl(s, out)
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text, secret
    rec = json.loads(text)
    assert rec["conversation_id"].startswith("anon-")
    assert rec["channel_metadata"]["page"] == "/bestelling"  # a safe key keeps its value
    assert rec["channel_metadata"]["name"] == "[redacted]" and rec["channel_metadata"]["order_ref"] == "[redacted]"


def test_redacted_csv_has_no_identifier(store):
    _store_story(store)
    out = io.StringIO(newline="")
    with store.session() as s:
        export_csv(s, out, delimiter=";")
    data = out.getvalue()
    for secret in SECRETS:
        assert secret not in data, secret
    (row,) = csv.DictReader(io.StringIO(data.lstrip("\ufeff"), newline=""), delimiter=";")
    assert row["conversation_id"].startswith("anon-")


def test_pseudonym_is_stable_and_keyed(monkeypatch):
    rec = {"conversation_id": SENDER, "language": "nl"}
    a = redact_record(rec)["conversation_id"]
    assert a == redact_record(rec)["conversation_id"]  # same sender, same pseudonym: stories can be grouped
    monkeypatch.setenv("GEHOOR_HASH_KEY", "another key")
    assert redact_record(rec)["conversation_id"] != a  # depends on the key, not only on the number


def test_nested_and_list_metadata_are_masked():
    rec = {"language": "en", "channel_metadata": {"customer": {"name": "Piet"}, "tags": ["Piet"], "page": "/bestelling a@b.nl"}}
    meta = redact_record(rec)["channel_metadata"]
    assert meta == {"customer": "[redacted]", "tags": "[redacted]", "page": "/bestelling [e-mail]"}
