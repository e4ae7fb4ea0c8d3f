"""Idempotent story upserts and the idle sweeper.

    repo = StoryRepository(session_factory)           # a sessionmaker (bot.store.db.session_factory())
    repo.save(snapshot) -> SaveResult                 # story_id, reference, created, messages_added
    repo.get_by_reference(ref) -> Story | None        # accepts 'gh 7k3m 9qxd' too
    sweep_idle(session, idle_minutes=None, now=None) -> int

`save` is keyed on (conversation_id, session_started_at) and is safe to repeat or retry:
- messages are upserted by `seq`; a message that exists is never duplicated or moved, and a
  shorter (older, retried) snapshot never deletes later messages;
- story fields owned by the conversation are overwritten only by a snapshot whose transcript
  is at least as long as the stored one, so an old retry cannot undo newer state;
- staff data (review status, assignee, follow-up, tags, notes) is never touched, except that a
  hand-off or consent to contact opens the follow-up once (bot/store/follow_up.py): only while
  it was never opened, so a later capture never overrides what staff decided;
- `story_aspects` and `customer_text` (full-text search) are kept in sync.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import config
from bot.notify import events as notify_events
from bot.store import follow_up
from bot.store.capture import StorySnapshot, normalize_reference, reference_for
from bot.store.models import Message, Story, StoryAspect, utcnow

log = logging.getLogger(__name__)

# Conversation-owned story columns (everything the snapshot sets; never staff columns).
CONVERSATION_FIELDS = (
    "channel", "channel_metadata", "language", "status", "end_reason", "updated_at",
    "last_customer_at", "ended_at", "score", "answers", "summary", "summary_confirmed",
    "correction", "aspects", "sentiment", "sentiment_score", "emotions", "repeat_contact",
    "consent_to_contact", "contact", "contact_kind", "handoff_requested",
)


@dataclass
class SaveResult:
    story_id: int
    reference: str
    created: bool
    messages_added: int
    fields_updated: bool


def _fields(snap: StorySnapshot) -> dict:
    values = {name: getattr(snap, name) for name in CONVERSATION_FIELDS}
    values["updated_at"] = snap.updated_at or snap.session_started_at
    values["aspects"] = list(snap.aspects)
    values["emotions"] = list(snap.emotions)
    values["answers"] = dict(snap.answers)
    values["channel_metadata"] = dict(snap.channel_metadata)
    values["repeat_contact"] = bool(snap.repeat_contact)
    values["handoff_requested"] = bool(snap.handoff_requested)
    return values


def customer_text_of(texts) -> str:
    return "\n".join(t for t in texts if t)


class StoryRepository:
    def __init__(self, factory: Optional[sessionmaker] = None):
        if factory is None:
            from bot.store.db import session_factory

            factory = session_factory()
        self.factory = factory

    # ------------------------------------------------------------------ save
    def save(self, snapshot: StorySnapshot) -> SaveResult:
        for attempt in range(3):
            session: Session = self.factory()
            try:
                before = notify_events.before_save(session, snapshot)  # None unless alerts are configured
                result = self._save(session, snapshot, long_reference=attempt > 0)
                notify_events.after_save(session, result.story_id, before)  # alert jobs, same transaction
                session.commit()
                return result
            except IntegrityError:
                # a concurrent writer created the story/messages first, or the short reference
                # collided with another story: retry (the second attempt finds the row).
                session.rollback()
                if attempt == 2:
                    raise
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        raise AssertionError("unreachable")

    def _save(self, session: Session, snap: StorySnapshot, long_reference: bool) -> SaveResult:
        s = Story.__table__
        m = Message.__table__
        row = session.execute(
            select(s.c.id, s.c.reference, s.c.updated_at, s.c.aspects, s.c.customer_text,
                   s.c.follow_up_opened_at, s.c.handoff_requested).where(
                s.c.conversation_id == snap.conversation_id, s.c.session_started_at == snap.session_started_at
            )
        ).first()
        values = _fields(snap)
        created = row is None
        if created:
            reference = snap.reference
            if long_reference and session.execute(
                select(s.c.id).where(s.c.reference == reference)
            ).first() is not None:
                # keep the code the customer was told as the prefix; add two hash characters
                reference = snap.reference + reference_for(snap.conversation_id, snap.session_started_at, long=True)[-3:]
            customer_text = customer_text_of(snap.customer_texts)
            story_id = session.execute(
                insert(s).values(
                    reference=reference,
                    conversation_id=snap.conversation_id,
                    session_started_at=snap.session_started_at,
                    started_at=snap.started_at or snap.session_started_at,
                    customer_text=customer_text,
                    review_status="new",
                    **(self._opening(snap) or {"follow_up_state": "none"}),
                    **values,
                )
            ).inserted_primary_key[0]
            if snap.messages:
                session.execute(
                    insert(m),
                    [
                        {"story_id": story_id, "seq": i, "role": msg.role, "text": msg.text, "at": msg.at}
                        for i, msg in enumerate(snap.messages)
                    ],
                )
            if snap.aspects:
                session.execute(insert(StoryAspect.__table__), [{"story_id": story_id, "aspect": a} for a in snap.aspects])
            return SaveResult(story_id, reference, True, len(snap.messages), True)

        story_id, reference, _stored_updated, stored_aspects, stored_text, opened_at, stored_handoff = row
        existing = {
            seq: (role, text, at)
            for seq, role, text, at in session.execute(
                select(m.c.seq, m.c.role, m.c.text, m.c.at).where(m.c.story_id == story_id)
            )
        }
        stored_count = len(existing)
        # fresh = at least as long as what was stored: a shorter snapshot is an old retry
        fresh = len(snap.messages) >= stored_count
        new_rows = []
        for i, msg in enumerate(snap.messages):
            old = existing.get(i)
            if old is None:
                new_rows.append({"story_id": story_id, "seq": i, "role": msg.role, "text": msg.text, "at": msg.at})
            elif fresh and old != (msg.role, msg.text, msg.at):
                # same position, different content: only possible when the tracker itself changed
                # (e.g. a rewritten event); the snapshot is authoritative, order is unchanged.
                session.execute(
                    update(m)
                    .where(m.c.story_id == story_id, m.c.seq == i)
                    .values(role=msg.role, text=msg.text, at=msg.at)
                )
                existing[i] = (msg.role, msg.text, msg.at)
        if new_rows:
            session.execute(insert(m), new_rows)
            for r in new_rows:
                existing[r["seq"]] = (r["role"], r["text"], r["at"])

        changes: dict = {}
        if fresh:
            changes.update(values)
            # keep the latest customer activity even if the stored transcript is longer
            customer_at = [at for role, _t, at in existing.values() if role == "customer"]
            if customer_at:
                changes["last_customer_at"] = max(customer_at)
            if list(stored_aspects or []) != list(snap.aspects):
                self._sync_aspects(session, story_id, set(snap.aspects))
        customer_text = customer_text_of(existing[k][1] for k in sorted(existing) if existing[k][0] == "customer")
        if customer_text != stored_text:
            changes["customer_text"] = customer_text
        if changes:
            session.execute(update(s).where(s.c.id == story_id).values(**changes))
        if fresh and opened_at is None:
            opening = self._opening(snap)
            if opening:  # guarded: staff may have acted on the story since it was read
                session.execute(update(s).where(
                    s.c.id == story_id, s.c.follow_up_state == "none", s.c.follow_up_opened_at.is_(None)
                ).values(**opening))
        elif fresh and snap.handoff_requested and not stored_handoff:
            # asked for a person after the follow-up opened (e.g. after consenting): the hand-off's
            # SLA applies, while nobody has contacted the customer yet
            due = follow_up.due_at(opened_at, snap.score, True)
            session.execute(update(s).where(
                s.c.id == story_id, s.c.follow_up_state == "open", s.c.first_contact_at.is_(None),
                s.c.follow_up_due_at > due,
            ).values(follow_up_due_at=due))
        return SaveResult(story_id, reference, False, len(new_rows), fresh)

    @staticmethod
    def _opening(snap: StorySnapshot) -> Optional[dict]:
        """The follow-up a hand-off or consent to contact opens, due by the band's SLA."""
        if not follow_up.wanted(snap.handoff_requested, snap.consent_to_contact):
            return None
        opened_at = snap.updated_at or snap.session_started_at
        return follow_up.opening(opened_at, snap.score, snap.handoff_requested)

    @staticmethod
    def _sync_aspects(session: Session, story_id: int, wanted: set) -> None:
        a = StoryAspect.__table__
        have = {x for (x,) in session.execute(select(a.c.aspect).where(a.c.story_id == story_id))}
        gone = have - wanted
        if gone:
            session.execute(delete(a).where(a.c.story_id == story_id, a.c.aspect.in_(sorted(gone))))
        add = wanted - have
        if add:
            session.execute(insert(a), [{"story_id": story_id, "aspect": x} for x in sorted(add)])

    # ------------------------------------------------------------------ reads
    def get_by_reference(self, ref: str) -> Optional[Story]:
        """The story with this reference (also a long reference starting with it)."""
        canonical = normalize_reference(ref)
        if not canonical:
            return None
        with self.factory() as session:
            story = session.execute(select(Story).where(Story.reference == canonical)).scalar_one_or_none()
            if story is None:
                story = (
                    session.execute(
                        select(Story).where(Story.reference.like(canonical + "-%")).order_by(Story.id).limit(1)
                    ).scalar_one_or_none()
                )
            if story is not None:
                _ = story.messages, story.tags, story.notes  # load before the session closes
            return story


def sweep_idle(session: Session, idle_minutes: Optional[int] = None, now: Optional[datetime] = None) -> int:
    """Mark in-progress stories without a customer message for `idle_minutes`
    (default GEHOOR_IDLE_MINUTES) as abandoned (end_reason "idle"). Nothing is deleted.
    Returns the number of stories marked. The caller commits (or use session_scope)."""
    minutes = config.idle_minutes() if idle_minutes is None else max(0, int(idle_minutes))
    now = now or utcnow()
    cutoff = now - timedelta(minutes=minutes)
    s = Story.__table__
    last = func.coalesce(s.c.last_customer_at, s.c.started_at)
    result = session.execute(
        update(s)
        .where(s.c.status == "in_progress", last < cutoff)
        .values(status="abandoned", end_reason="idle", ended_at=last, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
