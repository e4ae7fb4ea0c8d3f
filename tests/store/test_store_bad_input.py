"""Hostile and odd input: stored exactly, or (documented) cleaned/truncated; never a crash,
never a lost story. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from bot.store.capture import snapshot_from_events
from bot.store.export import export_csv, export_jsonl
from bot.store.models import Story
from bot.store.textsafe import MAX_MESSAGE_CHARS, REPLACEMENT, clean_text
from store_helpers import Conversation

EXACT = [
    "🙂👍🏽 top! 👨‍👩‍👧",
    "مرحبا، الطلب لم يصل",  # RTL
    "שלום \u202eevil\u202c",  # bidi override
    "'; DROP TABLE stories; --",
    "<script>alert('x')</script><b>vet</b>",
    "Robert'); DELETE FROM messages WHERE ('1'='1",
    "%s %(x)s {0} $1 :param ? \\x00",
    "tab\there\r\nnewline\x07bell\x1b[31m",
    "",
    " ",
    "e\u0301 vs é (combining)",
    "\ufeffBOM at start",
]


def _save_and_load(store, sender, texts, **slots):
    conv = Conversation(sender, metadata={"page": texts[0] if texts else "", "n\x00": "\ud800"}).session_start()
    for t in texts:
        conv.bot("?").user(t)
    for k, v in slots.items():
        conv.slot(k, v)
    snap = snapshot_from_events(sender, conv.events)
    store.repo.save(snap)
    store.repo.save(snap)
    with store.session() as s:
        story = s.execute(select(Story).where(Story.conversation_id == sender)).scalar_one()
        return story, [m.text for m in story.messages if m.role == "customer"]


def test_exact_storage_of_odd_text(store):
    story, stored = _save_and_load(store, "odd", EXACT)
    assert stored == EXACT


def test_nul_and_lone_surrogates_become_replacement_character(store):
    texts = ["a\x00b", "half emoji \ud83d!", "\udfff", "ok"]
    story, stored = _save_and_load(store, "nul", texts, answer_reason="x\x00y\ud800")
    assert stored == ["a\ufffdb", "half emoji \ufffd!", "\ufffd", "ok"]
    assert story.answers == {"reason": "x\ufffdy\ufffd"}
    assert story.channel_metadata == {"page": "a\ufffdb", "n\ufffd": "\ufffd"}


def test_huge_message_truncated_with_marker(store):
    huge = "ab" * 50_000  # 100,000 characters
    story, stored = _save_and_load(store, "huge", [huge, "daarna nog iets"], answer_reason=huge)
    assert len(stored) == 2 and stored[1] == "daarna nog iets"
    assert stored[0].startswith(huge[:MAX_MESSAGE_CHARS])
    assert stored[0].endswith("truncated: 80000 characters omitted]")
    assert "80000 tekens weggelaten" in stored[0]
    assert story.answers["reason"] == stored[0]


def test_exactly_at_cap_is_not_truncated():
    text = "x" * MAX_MESSAGE_CHARS
    assert clean_text(text) == text
    assert clean_text(text + "y").startswith(text + " [")


def test_odd_conversation_ids_and_channels(store):
    sender = "user:+31612345678/📱" + "x" * 300  # longer than the column
    conv = Conversation(sender, channel="c" * 100).session_start().user("hoi")
    snap = snapshot_from_events(sender, conv.events)
    r = store.repo.save(snap)
    assert store.repo.save(snapshot_from_events(sender, conv.events)).story_id == r.story_id
    with store.session() as s:
        story = s.get(Story, r.story_id)
        assert len(story.conversation_id) == 255 and len(story.channel) == 64


def test_odd_slot_values(store):
    conv = Conversation("slots").session_start().user("hoi")
    for name, value in [("score", "NaN"), ("summary_confirmed", "misschien"), ("contact_details", {"a": 1}),
                        ("answer_reason", ["list"]), ("language", "x" * 50), ("story_status", "weird"),
                        ("contact_consent", "ja"), ("end_reason", 42)]:
        conv.slot(name, value)
    r = store.repo.save(snapshot_from_events("slots", conv.events))
    with store.session() as s:
        story = s.get(Story, r.story_id)
        assert story.score is None and story.summary_confirmed is None and story.contact is None
        assert story.answers == {} and story.status == "in_progress" and story.consent_to_contact is True
        assert len(story.language) == 8 and story.end_reason == "42"


def test_odd_text_survives_export(store):
    _save_and_load(store, "exp", EXACT + ["a\x00b", "\ud800"])
    out = io.StringIO()
    with store.session() as s:
        export_jsonl(s, out, redact=False)
        csv_out = io.StringIO(newline="")
        export_csv(s, csv_out, delimiter=";", redact=False)
    rec = json.loads(out.getvalue())
    assert [m["text"] for m in rec["transcript"] if m["role"] == "customer"] == EXACT + ["a\ufffdb", "\ufffd"]
    csv_out.getvalue().encode("utf-8")  # valid UTF-8


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=300), min_size=1, max_size=4))
def test_any_text_is_stored_without_loss_or_crash(store, texts):
    import uuid

    sender = f"h-{uuid.uuid4().hex}"
    _, stored = _save_and_load(store, sender, texts)
    assert stored == [clean_text(t) for t in texts]
    assert all(REPLACEMENT not in s or REPLACEMENT in t or "\x00" in t or any(0xD800 <= ord(c) <= 0xDFFF for c in t)
               for s, t in zip(stored, texts))
