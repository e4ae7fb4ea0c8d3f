"""Which events a story save causes, and their jobs — enqueued in the save's own transaction.

    before = events.before_save(session, snapshot)      # StoryRepository.save, before the upsert
    events.after_save(session, result.story_id, before) # after it, before the commit

A job row per (event, destination) is inserted next to the story, so the alert exists
exactly when the story write does (durable; a rolled-back save leaves none). Its `key` is
unique: a retried save, the reconciler replaying a session, or two writers never enqueue the
same notification twice. Nothing here touches the network; bot.notify.worker sends.

Moments (what staff want to hear about) are changes: a story that *becomes* a detractor,
asks for a person, consents to contact, is a repeat contact — compared with the row before
this save, so each is announced once per story.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot import config
from bot.notify import rules
from bot.store.models import NotificationJob, Story, utcnow

log = logging.getLogger(__name__)

COMPLETED_STATUSES = ("complete", "handed_off")  # the conversation ended with the customer
_STATE = ("id", "status", "score", "handoff_requested", "consent_to_contact", "repeat_contact", "updated_at")


def _state(session: Session, where) -> Optional[dict]:
    s = Story.__table__
    row = session.execute(select(*[s.c[c] for c in _STATE]).where(where)).first()
    return dict(row._mapping) if row is not None else None


def before_save(session: Session, snapshot) -> Optional[dict]:
    """The story's alert-relevant state before this save ({} for a new story; None = no alerts)."""
    if rules.current() is None:
        return None
    s = Story.__table__
    return _state(session, (s.c.conversation_id == snapshot.conversation_id)
                  & (s.c.session_started_at == snapshot.session_started_at)) or {}


def moments_between(before: dict, after: dict) -> List[str]:
    found = []
    score_before = before.get("score")
    if after.get("score") is not None and after["score"] <= 6 and not (score_before is not None and score_before <= 6):
        found.append("detractor")
    if after.get("handoff_requested") and not before.get("handoff_requested"):
        found.append("handoff")
    if after.get("consent_to_contact") is True and before.get("consent_to_contact") is not True:
        found.append("consent")
    if after.get("repeat_contact") and not before.get("repeat_contact"):
        found.append("repeat_contact")
    return found


def after_save(session: Session, story_id: int, before: Optional[dict]) -> int:
    """Enqueue the jobs of this save; returns how many. `before` from before_save()."""
    if before is None:
        return 0
    alerts = rules.current()
    if alerts is None:
        return 0
    s = Story.__table__
    story = session.execute(select(s).where(s.c.id == story_id)).first()  # a Row: cheaper than the ORM
    if story is None:
        return 0
    after = {name: getattr(story, name) for name in _STATE}
    moments = moments_between(before, after)
    happened = []  # (event, key)
    if not before:
        happened.append(("story.created", f"story.created:{story_id}"))
    elif before != after:
        stamp = f"{after['updated_at']:%Y%m%dT%H%M%S%f}"
        happened.append(("story.updated", f"story.updated:{story_id}:{stamp}"))
    if after["status"] in COMPLETED_STATUSES and before.get("status") not in COMPLETED_STATUSES:
        happened.append(("story.completed", f"story.completed:{story_id}"))
    if not happened:
        return 0
    return enqueue(session, alerts, story, happened, moments)


def _rows(alerts: rules.Alerts, story: Story, happened, moments, now: datetime) -> List[dict]:
    band = rules.band_of(story.score)
    rows: List[dict] = []
    told = set()  # people-facing destinations (Slack, e-mail) get one message per save
    for event, key in happened:
        for name in alerts.destinations_for(event, moments, band, story.aspects or []):
            if name in told:
                continue
            if alerts.destinations[name].kind != "webhook":
                told.add(name)
            rows.append({
                "key": f"{key}|{name}"[:255], "event": event, "story_id": story.id, "destination": name,
                "kind": alerts.destinations[name].kind, "payload": payload(event, key, story, moments, now),
                "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
            })
    return rows


def enqueue(session: Session, alerts: rules.Alerts, story: Story, happened, moments, now: Optional[datetime] = None) -> int:
    now = now or utcnow()
    try:
        rows = _rows(alerts, story, happened, moments, now)
    except Exception:  # noqa: BLE001  a bug in building an alert must never cost the story its write
        log.exception("alerts for story %s could not be built; the story is stored without them", story.id)
        return 0
    if not rows:
        return 0
    j = NotificationJob.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):  # the unique key drops what was enqueued before
        from sqlalchemy.dialects import postgresql, sqlite

        upsert = (sqlite if dialect == "sqlite" else postgresql).insert(j).on_conflict_do_nothing(index_elements=["key"])
        added = sum(session.execute(upsert, row).rowcount or 0 for row in rows)
    else:
        known = {k for (k,) in session.execute(select(j.c.key).where(j.c.key.in_([r["key"] for r in rows])))}
        rows = [r for r in rows if r["key"] not in known]
        if rows:
            session.execute(insert(j), rows)
        added = len(rows)
    if added:
        sa_event.listen(session, "after_commit", _wake_workers, once=True)
    return added


# Workers of this process waiting for new jobs (NotifyWorker.start_thread): woken when a
# transaction that enqueued jobs commits, so an alert leaves at once instead of at the next poll.
_waiting: List = []


def wake_on_enqueue(callback) -> None:
    if callback not in _waiting:
        _waiting.append(callback)


def _wake_workers(_session) -> None:
    for callback in list(_waiting):
        callback()


def enqueue_due_follow_ups(session: Session, alerts: rules.Alerts, now: Optional[datetime] = None) -> int:
    """follow_up.due for every follow-up still open whose due time is within the lead time
    (alerts file: follow_up_due.lead_minutes, default 120). Once per due time: the key holds it.
    Follow-ups already overdue by more than a day are not announced (a first start would
    otherwise flood the channels with old promises)."""
    if not alerts.wants("follow_up.due"):
        return 0
    now = now or utcnow()
    lead = timedelta(minutes=alerts.follow_up_lead_minutes)
    stories = session.execute(select(Story).where(
        Story.follow_up_state == "open", Story.follow_up_due_at.isnot(None),
        Story.follow_up_due_at <= now + lead, Story.follow_up_due_at > now - timedelta(days=1),
    ).order_by(Story.follow_up_due_at).limit(500)).scalars().all()
    added = 0
    for story in stories:
        key = f"follow_up.due:{story.id}:{story.follow_up_due_at:%Y%m%dT%H%M%S}"
        added += enqueue(session, alerts, story, [("follow_up.due", key)], ["follow_up_due"], now)
    return added


def _iso(value: Optional[datetime]) -> Optional[str]:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def payload(event: str, key: str, story: Story, moments: Iterable[str], now: datetime) -> Dict:
    """The event as webhooks receive it (Slack and e-mail are rendered from it too).
    Contact details only when the customer agreed to be contacted."""
    answers = story.answers or {}
    consented = story.consent_to_contact is True
    return {
        "id": "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24],
        "type": event,
        "created_at": _iso(now),
        "moments": list(moments),
        "data": {"story": {
            "id": story.id, "reference": story.reference,
            "url": f"{config.review_url()}/stories/{story.id}",
            "channel": story.channel, "language": story.language, "status": story.status,
            "end_reason": story.end_reason, "started_at": _iso(story.started_at), "updated_at": _iso(story.updated_at),
            "score": story.score, "band": rules.band_of(story.score), "aspects": list(story.aspects or []),
            "sentiment": story.sentiment, "repeat_contact": bool(story.repeat_contact),
            "handoff_requested": bool(story.handoff_requested), "consent_to_contact": story.consent_to_contact,
            "contact": story.contact if consented else None, "contact_kind": story.contact_kind if consented else None,
            "reason": answers.get("reason"), "summary": story.summary, "summary_confirmed": story.summary_confirmed,
            "correction": story.correction,
            "follow_up": {"state": story.follow_up_state, "assignee": story.assignee,
                          "due_at": _iso(story.follow_up_due_at)},
        }},
    }
