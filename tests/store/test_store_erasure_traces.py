"""After `forget` nothing that identifies the customer is left in the stores Gehoor can reach:
audit log (keyed hashes only, earlier entries scrubbed too), outbox, Rasa's tracker store."""
from __future__ import annotations

import hashlib
import json
import sqlite3

from sqlalchemy import select

from bot.store.audit import audit, query_detail
from bot.store.capture import snapshot_from_events
from bot.store.erasure import forget
from bot.store.keyed import keyed_hash
from bot.store.models import AuditEntry, Story
from store_helpers import Conversation, count_events, write_rasa_events

SENDER = "twilio:whatsapp:+31612345678"
IDENTIFYING = ("+31612345678", "31612345678", "0612345678", "06-12345678", "jan@example.com")


def _audit_dump(store) -> str:
    with store.session() as s:
        return json.dumps([[e.actor, e.action, e.target, e.detail] for e in s.execute(select(AuditEntry)).scalars()])


def _customer(store):
    conv = Conversation(SENDER, channel="twilio").typical()  # leaves jan@example.com as the contact
    write_rasa_events(store.tracker_url, SENDER, conv.events)
    r = store.repo.save(snapshot_from_events(SENDER, conv.events))
    store.outbox.append(snapshot_from_events(SENDER, conv.events))
    with store.session() as s:  # traces of earlier work: a story view, searches, an old-style erase entry
        audit(s, "anna@acme.example", "view", f"story:{r.story_id}")
        audit(s, "anna@acme.example", "search", "stories", query="jan@example.com")
        audit(s, "anna@acme.example", "export", "stories", filters={"q": "06-12345678"})
        audit(s, "cli", "erase", f"conversation:{SENDER}")
        s.commit()
    return r


def test_forget_conversation_leaves_no_identifier(store):
    _customer(store)
    report = forget(conversation=SENDER, factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    dump = _audit_dump(store)
    for secret in IDENTIFYING:
        assert secret not in dump, secret
    with store.session() as s:
        entry = s.get(AuditEntry, report.audit_id)
        assert entry.target == "conversation:hmac:" + keyed_hash(SENDER, "conversation")
        assert s.execute(select(Story)).first() is None
    assert report.audit_scrubbed >= 3
    assert count_events(store.tracker_url, SENDER) == 0
    assert store.outbox.depth() == 0 and store.outbox.dead_count() == 0
    with sqlite3.connect(store.outbox.path) as conn:  # nothing left in the outbox file's tables either
        rows = conn.execute("SELECT payload FROM outbox UNION ALL SELECT payload FROM dead").fetchall()
    assert not any(SENDER in r[0] for r in rows)


def test_forget_removes_queued_alerts(store):
    from bot.store.models import NotificationAttempt, NotificationJob

    r = _customer(store)
    with store.session() as s:
        job = NotificationJob(key="k1", event="story.completed", story_id=r.story_id, destination="slack", kind="slack",
                              payload={"contact": "jan@example.com", "conversation_id": SENDER})
        s.add(job)
        s.flush()
        s.add(NotificationAttempt(job_id=job.id, ok=False, status=500, error="boom"))
        s.commit()
    report = forget(conversation=SENDER, factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    with store.session() as s:
        assert s.execute(select(NotificationJob)).first() is None
        assert s.execute(select(NotificationAttempt)).first() is None
    assert any("alerts already delivered" in item for item in report.not_reached)


def test_forget_contact_uses_a_keyed_hash(store, monkeypatch):
    _customer(store)
    report = forget(contact="JAN@example.com", factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    with store.session() as s:
        target = s.get(AuditEntry, report.audit_id).target
    assert target == "contact:hmac:" + keyed_hash("jan@example.com", "contact")
    assert hashlib.sha256(b"jan@example.com").hexdigest()[:16] not in target  # not the old unsalted hash
    dump = _audit_dump(store)
    for secret in IDENTIFYING:
        assert secret not in dump, secret
    assert report.not_reached  # what erasure cannot reach is said, every time


def test_query_detail_keeps_ordinary_queries():
    assert query_detail("pakket weer") == {"query": "pakket weer"}
    d = query_detail("mail jan@example.com")
    assert d["query"] == "mail [e-mail]" and d["query_hmac"] == keyed_hash("mail jan@example.com", "search")


def test_short_sender_ids_are_scrubbed_only_as_whole_targets(store):
    conv = Conversation("c1").session_start().user("hallo")
    store.repo.save(snapshot_from_events("c1", conv.events))
    with store.session() as s:
        audit(s, "cli", "erase", "conversation:c1")
        audit(s, "cli", "view", "story:c1x", note="c1 in a word")
        s.commit()
    forget(conversation="c1", factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    dump = _audit_dump(store)
    assert "conversation:c1" not in dump and "c1 in a word" in dump and "story:c1x" in dump


def test_hash_key_lives_outside_the_database(tmp_path, monkeypatch):
    import os
    import stat

    from bot.store import keyed

    monkeypatch.delenv("GEHOOR_HASH_KEY", raising=False)
    monkeypatch.setenv("GEHOOR_VAR_DIR", str(tmp_path / "var2"))
    first = keyed.keyed_hash("+31612345678", "contact")
    path = tmp_path / "var2" / keyed.KEY_FILE
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keyed.keyed_hash("+31612345678", "contact") == first  # generated once, then reused
    assert first != hashlib.sha256(b"+31612345678").hexdigest()  # keyed, not a plain hash
    monkeypatch.setenv("GEHOOR_HASH_KEY", "from the environment")
    assert keyed.keyed_hash("+31612345678", "contact") != first
