"""forget (AVG/GDPR erasure) and purge (retention)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.store.capture import snapshot_from_events
from bot.store.erasure import forget, normalize_contact, parse_age, purge
from bot.store.keyed import keyed_hash
from bot.store.models import AuditEntry, Message, Note, Story, StoryAspect, StoryTag
from store_helpers import T0, Conversation, count_events, write_rasa_events


def _count(store, model, *where):
    with store.session() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar()


def _conversations(store):
    with store.session() as s:
        return sorted(s.execute(select(Story.conversation_id)).scalars())


def _add(store, sender, conv):
    write_rasa_events(store.tracker_url, sender, conv.events)
    r = store.repo.save(snapshot_from_events(sender, conv.events))
    with store.session() as s:
        s.add(StoryTag(story_id=r.story_id, tag="urgent"))
        s.add(Note(story_id=r.story_id, author="anna", text="notitie"))
        s.add(StoryAspect(story_id=r.story_id, aspect="delivery"))
        s.commit()
    return r


def test_forget_conversation_removes_everything(store):
    conv = Conversation("victim").typical()
    conv.session_start().user("nog een verhaal")  # second session → second story
    a = store.repo.save(snapshot_from_events("victim", conv.events[:-4]))
    b = _add(store, "victim", conv)
    keep = _add(store, "other", Conversation("other").typical())
    store.outbox.append(snapshot_from_events("victim", conv.events))
    report = forget(conversation="victim", factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    assert sorted(report.stories) == sorted([a.reference, b.reference])
    assert report.conversations == ["victim"] and report.messages > 0
    assert report.tracker_events == len(conv.events) and report.tracker_error is None
    assert report.outbox_snapshots == 1 and store.outbox.depth() == 0
    assert _count(store, Story) == 1
    for model in (Message, StoryTag, Note, StoryAspect):
        assert _count(store, model, model.story_id != keep.story_id) == 0
    assert count_events(store.tracker_url, "victim") == 0 and count_events(store.tracker_url, "other") > 0
    with store.session() as s:
        entry = s.get(AuditEntry, report.audit_id)
        assert entry.action == "erase" and entry.target == "conversation:hmac:" + keyed_hash("victim", "conversation")
        assert sorted(entry.detail["stories"]) == sorted(report.stories)


def test_forget_by_contact_email_and_phone(store):
    _add(store, "mail", Conversation("mail").typical())  # contact jan@example.com
    phone = Conversation("phone").session_start().user("bel me").slot("contact_details", "+31612345678")
    phone.slot("contact_kind", "phone")
    _add(store, "phone", phone)
    typed = Conversation("typed").session_start().user("mijn nummer is 0612345678")  # only in the text
    _add(store, "typed", typed)
    _add(store, "bystander", Conversation("bystander").session_start().user("niets persoonlijks"))

    report = forget(contact="JAN@Example.com", factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    assert report.conversations == ["mail"]
    with store.session() as s:
        entry = s.get(AuditEntry, report.audit_id)
        assert "jan@example.com" not in str(entry.target) + str(entry.detail)  # no PII in the audit log
    report = forget(contact="06-12345678", factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    assert report.conversations == ["phone", "typed"]
    assert _conversations(store) == ["bystander"]


def test_forget_unknown_and_bad_arguments(store):
    report = forget(conversation="nobody", factory=store.factory, tracker_url=store.tracker_url, outbox=store.outbox)
    assert report.stories == [] and report.audit_id is not None
    with pytest.raises(ValueError):
        forget(factory=store.factory)
    with pytest.raises(ValueError):
        forget(conversation="a", contact="b@c.nl", factory=store.factory)
    with pytest.raises(ValueError):
        normalize_contact("geen contact")


def test_forget_reports_tracker_problems(store, tmp_path):
    _add(store, "x", Conversation("x").session_start().user("hoi"))
    report = forget(conversation="x", factory=store.factory, tracker_url=f"sqlite:///{tmp_path / 'missing.db'}",
                    outbox=store.outbox)
    assert report.stories and report.tracker_error == "no Rasa events table found"


@pytest.mark.parametrize("text,days", [("365d", 365), ("12w", 84), ("1d", 1)])
def test_parse_age(text, days):
    now = datetime(2026, 11, 22)
    assert now - parse_age(text) == now - timedelta(days=days)


def test_parse_age_months_and_errors():
    assert datetime(2026, 11, 22) - parse_age("6m") == datetime(2026, 5, 22)
    assert datetime(2026, 11, 22) - parse_age("1y") == datetime(2025, 11, 22)
    for bad in ("", "0d", "365", "d", "-5d", "12x", "1.5m"):
        with pytest.raises(ValueError):
            parse_age(bad)


def test_purge_retention(store):
    old = Conversation("old", t0=T0 - 400 * 86400).typical()
    new = Conversation("new", t0=T0 - 10 * 86400).typical()
    _add(store, "old", old)
    _add(store, "new", new)
    now = datetime.utcfromtimestamp(T0)
    report = purge("365d", factory=store.factory, tracker_url=store.tracker_url, now=now)
    assert report.stories == 1 and report.messages == 11
    assert _conversations(store) == ["new"]
    assert count_events(store.tracker_url, "old") == 0 and count_events(store.tracker_url, "new") == len(new.events)
    assert _count(store, Message) == 11
    with store.session() as s:
        assert s.get(AuditEntry, report.audit_id).action == "purge"
    assert purge("365d", factory=store.factory, tracker_url=store.tracker_url, now=now).stories == 0
