"""Seed data covers what the review app filters on."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from bot.store.models import Note, Story, StoryAspect, StoryTag
from bot.store.seed import seed
from bot.store.search import fulltext_filter


def test_seed_is_varied_and_consistent(store):
    assert seed(400, store.factory, seed=1) == 400
    assert seed(100, store.factory, seed=2) == 100  # appending works (ids continue)
    with store.session() as s:
        def distinct(col):
            return set(s.execute(select(col).distinct()).scalars())

        assert s.execute(select(func.count()).select_from(Story)).scalar() == 500
        assert distinct(Story.status) == {"in_progress", "complete", "abandoned", "handed_off"}
        assert distinct(Story.language) == {"nl", "en"}
        scores = distinct(Story.score)
        assert None in scores and {0, 6, 7, 8, 9, 10} <= scores
        assert distinct(Story.repeat_contact) == {True, False}
        assert distinct(Story.consent_to_contact) >= {True, False}
        assert distinct(Story.review_status) == {"new", "read", "in_follow_up", "closed"}
        assert distinct(Story.follow_up_state) == {"none", "open", "contacted", "resolved", "could_not_reach"}
        # a follow-up exactly where a capture would open one, each with its due time
        wanted = or_(Story.handoff_requested.is_(True), Story.consent_to_contact.is_(True))
        assert s.execute(select(func.count()).where(wanted, Story.follow_up_state == "none")).scalar() == 0
        assert s.execute(select(func.count()).where(~wanted, Story.follow_up_state != "none")).scalar() == 0
        assert s.execute(select(func.count()).where(
            Story.follow_up_state != "none", Story.follow_up_due_at.is_(None))).scalar() == 0
        assert s.execute(select(func.count()).where(
            Story.follow_up_state.in_(("contacted", "resolved")), Story.first_contact_at.is_(None))).scalar() == 0
        assert len(distinct(StoryAspect.aspect)) >= 8 and len(distinct(StoryTag.tag)) >= 5
        assert s.execute(select(func.count()).select_from(Note)).scalar() > 0
        assert len(distinct(Story.reference)) == 500
        # messages are contiguous per story and customer_text matches them
        story = s.execute(select(Story).order_by(Story.id).limit(1)).scalar_one()
        assert [m.seq for m in story.messages] == list(range(len(story.messages)))
        assert story.customer_text == "\n".join(m.text for m in story.messages if m.role == "customer")
        # full-text search finds seeded text
        n = s.execute(fulltext_filter(select(func.count()).select_from(Story), "pakket", store.engine)).scalar()
        assert n > 0
    # the sequence continues after explicit ids (PostgreSQL)
    from bot.store.capture import snapshot_from_events
    from store_helpers import Conversation

    r = store.repo.save(snapshot_from_events("after-seed", Conversation("after-seed").session_start().user("hoi").events))
    assert r.story_id == 501
