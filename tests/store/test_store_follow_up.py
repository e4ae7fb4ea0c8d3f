"""A capture opens the follow-up once (hand-off or consent to contact), with the SLA of the
band; staff decisions survive later captures; migration 0003 keeps old values readable."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.store import follow_up
from bot.store.capture import snapshot_from_events
from bot.store.models import Story
from store_helpers import Conversation


def _story(store, story_id) -> Story:
    with store.session() as s:
        story = s.get(Story, story_id)
        s.expunge(story)
        return story


def _handoff(sender: str, score=None) -> Conversation:
    conv = Conversation(sender).session_start().bot("Hoi! Hoe waarschijnlijk (0-10)?")
    if score is not None:
        conv.user(str(score)).slot("score", float(score)).bot("Waarom?")
    return (conv.user("ik wil een mens spreken").slot("handoff_requested", True)
            .slot("story_status", "handed_off").bot("Ik zorg dat een collega je verhaal oppakt."))


def test_consent_opens_a_follow_up_due_by_the_detractor_sla(store):
    events = Conversation("fu-consent").typical().events
    snap = snapshot_from_events("fu-consent", events)
    r = store.repo.save(snap)
    story = _story(store, r.story_id)
    assert (story.follow_up_state, story.score, story.consent_to_contact) == ("open", 4, True)
    assert story.follow_up_opened_at == snap.updated_at
    assert story.follow_up_due_at == snap.updated_at + timedelta(hours=24)


def test_no_request_no_follow_up(store):
    conv = Conversation("fu-none").session_start().bot("0-10?").user("9").slot("score", 9.0).bot("Waarom?")
    r = store.repo.save(snapshot_from_events("fu-none", conv.events))
    story = _story(store, r.story_id)
    assert (story.follow_up_state, story.follow_up_opened_at, story.follow_up_due_at) == ("none", None, None)


@pytest.mark.parametrize("score, env, hours", [
    (9, {}, 24),                                            # a hand-off is 24 h whatever the score
    (9, {"GEHOOR_FOLLOW_UP_HOURS_HANDOFF": "4"}, 4),
    (3, {"GEHOOR_FOLLOW_UP_HOURS_DETRACTOR": "2"}, 2),      # the tighter of detractor and hand-off
])
def test_hand_off_sla(store, monkeypatch, score, env, hours):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    sender = f"fu-handoff-{score}-{hours}"
    r = store.repo.save(snapshot_from_events(sender, _handoff(sender, score).events))
    story = _story(store, r.story_id)
    assert story.follow_up_state == "open" and story.handoff_requested is True
    assert story.follow_up_due_at - story.follow_up_opened_at == timedelta(hours=hours)


@pytest.mark.parametrize("score, env, hours", [
    (8, {}, 72), (10, {}, 72), (None, {}, 72), (6, {}, 24),
    (7, {"GEHOOR_FOLLOW_UP_HOURS_PASSIVE": "48"}, 48), (9, {"GEHOOR_FOLLOW_UP_HOURS_PROMOTER": "96"}, 96),
])
def test_sla_per_band(monkeypatch, score, env, hours):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    t = datetime(2026, 12, 1, 9, 0)
    assert follow_up.due_at(t, score, False) == t + timedelta(hours=hours)


def test_a_bad_sla_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("GEHOOR_FOLLOW_UP_HOURS_DETRACTOR", "een dag")
    with pytest.raises(ValueError, match="GEHOOR_FOLLOW_UP_HOURS_DETRACTOR must be a whole number"):
        follow_up.due_at(datetime(2026, 12, 1), 3, False)


def test_follow_up_opens_when_consent_comes_in_a_later_turn(store):
    events = Conversation("fu-later").typical().events
    cut = next(i for i, e in enumerate(events) if e.get("name") == "contact_consent")
    r = store.repo.save(snapshot_from_events("fu-later", events[:cut]))
    assert _story(store, r.story_id).follow_up_state == "none"
    store.repo.save(snapshot_from_events("fu-later", events))
    assert _story(store, r.story_id).follow_up_state == "open"


@pytest.mark.parametrize("staff_state", ["resolved", "could_not_reach", "contacted", "none"])
def test_a_staff_decision_is_never_overwritten_by_a_later_capture(store, staff_state):
    sender = f"fu-staff-{staff_state}"
    conv = _handoff(sender, 3)
    r = store.repo.save(snapshot_from_events(sender, conv.events))
    with store.session() as s:
        story = s.get(Story, r.story_id)
        assert story.follow_up_state == "open"
        story.follow_up_state = staff_state  # e.g. staff closed it, or judged it not needed
        s.commit()
    conv.user("bel me op 0612345678").slot("contact_details", "+31612345678").bot("Dank je.")
    store.repo.save(snapshot_from_events(sender, conv.events))
    story = _story(store, r.story_id)
    assert story.contact == "+31612345678", "the later capture was stored"
    assert story.follow_up_state == staff_state


def test_transitions_record_first_contact_and_close():
    t0 = datetime(2026, 12, 1, 9, 0)
    story = Story(score=3, handoff_requested=False, follow_up_state="none")
    assert follow_up.transition(story, "open", t0)["follow_up_state"] == ("none", "open")
    assert story.follow_up_due_at == t0 + timedelta(hours=24) and story.follow_up_opened_at == t0
    follow_up.transition(story, "contacted", t0 + timedelta(hours=3))
    assert story.first_contact_at == t0 + timedelta(hours=3)
    follow_up.transition(story, "resolved", t0 + timedelta(hours=5), note="opgelost")
    assert story.first_contact_at == t0 + timedelta(hours=3), "the first contact stays the first"
    assert (story.followed_up_at, story.follow_up_note) == (t0 + timedelta(hours=5), "opgelost")
    with pytest.raises(follow_up.TransitionError):
        follow_up.transition(story, "contacted", t0 + timedelta(hours=6))
    follow_up.transition(story, "open", t0 + timedelta(days=2))  # reopen: a new due time
    assert story.followed_up_at is None and story.follow_up_due_at == t0 + timedelta(days=3)
    assert story.follow_up_opened_at == t0
    assert follow_up.state_of("requested") == "open" and follow_up.state_of("done") == "resolved"


def test_migration_0003_keeps_old_values_readable(store):
    from alembic import command

    from bot.store.db import alembic_config

    cfg = alembic_config(store.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    t = datetime(2026, 11, 1, 12, 0)
    rows = [("OLD-REQ-1", "requested", 5, False, None), ("OLD-REQ-2", "requested", 8, True, None),
            ("OLD-DONE-1", "done", 9, False, t + timedelta(hours=30)), ("OLD-NONE-1", "none", 9, False, None)]
    with store.engine.begin() as conn:
        for ref, state, score, handoff, done_at in rows:
            conn.execute(text(
                "INSERT INTO stories (reference, conversation_id, session_started_at, channel, channel_metadata,"
                " language, status, started_at, updated_at, ended_at, score, answers, aspects, emotions,"
                " repeat_contact, handoff_requested, customer_text, review_status, follow_up_state, followed_up_at)"
                " VALUES (:ref, :ref, :t, 'rest', '{}', 'nl', 'complete', :t, :t, :t, :score, '{}', '[]', '[]',"
                " false, :handoff, '', 'read', :state, :done_at)"),
                {"ref": ref, "t": t, "score": score, "handoff": handoff, "state": state, "done_at": done_at})
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    with store.session() as s:
        got = {r.reference: r for r in s.execute(select(Story).where(Story.reference.like("OLD-%"))).scalars()}
    assert got["OLD-REQ-1"].follow_up_state == "open"
    assert got["OLD-REQ-1"].follow_up_due_at == t + timedelta(hours=24)   # detractor
    assert got["OLD-REQ-2"].follow_up_due_at == t + timedelta(hours=24)   # hand-off
    assert got["OLD-DONE-1"].follow_up_state == "resolved"
    assert got["OLD-DONE-1"].first_contact_at == t + timedelta(hours=30)
    assert got["OLD-DONE-1"].follow_up_due_at == t + timedelta(hours=72)  # promoter
    assert (got["OLD-NONE-1"].follow_up_state, got["OLD-NONE-1"].follow_up_due_at) == ("none", None)
    with store.engine.begin() as conn:  # and back: downgrade maps the new states to the old ones
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        states = dict(conn.execute(text("SELECT reference, follow_up_state FROM stories WHERE reference LIKE 'OLD-%'")).all())
    assert states == {"OLD-REQ-1": "requested", "OLD-REQ-2": "requested", "OLD-DONE-1": "done", "OLD-NONE-1": "none"}


def test_a_hand_off_after_consent_tightens_the_due_time(store):
    sender = "fu-tighten"
    conv = (Conversation(sender).session_start().bot("0-10?").user("8").slot("score", 8.0)
            .bot("Wil je dat iemand contact opneemt?").user("ja, jan@example.com").slot("contact_consent", True)
            .slot("contact_details", "jan@example.com").bot("Dank je."))
    r = store.repo.save(snapshot_from_events(sender, conv.events))
    story = _story(store, r.story_id)
    assert story.follow_up_due_at - story.follow_up_opened_at == timedelta(hours=72)  # passive
    conv.user("ik wil toch een mens spreken").slot("handoff_requested", True).bot("Ik zorg ervoor.")
    store.repo.save(snapshot_from_events(sender, conv.events))
    later = _story(store, r.story_id)
    assert later.follow_up_opened_at == story.follow_up_opened_at
    assert later.follow_up_due_at - later.follow_up_opened_at == timedelta(hours=24)
