"""The delivery log of alerts (bot/notify): /notifications, admins only, read-only.

Newest first, 100 per page; filter on state, event and destination. Each job shows its
attempts (time, HTTP/SMTP status, error, duration), so staff can see what reached the
webhook, Slack or the mailbox, what is still being retried and what was given up.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from bot.review.app import db, has_role
from bot.store.models import NotificationAttempt, NotificationJob, Story

bp = Blueprint("notifications", __name__)

STATES = ("pending", "delivered", "failed")
EVENTS = ("story.created", "story.updated", "story.completed", "follow_up.due")
PAGE = 100


@bp.get("/notifications")
def delivery_log():
    if not has_role("admin"):
        abort(403)
    s = db()
    state = request.args.get("state", "")
    event = request.args.get("event", "")
    destination = (request.args.get("destination") or "").strip()[:64]
    q = select(NotificationJob, Story.reference).outerjoin(Story, Story.id == NotificationJob.story_id)
    if state in STATES:
        q = q.where(NotificationJob.state == state)
    if event in EVENTS:
        q = q.where(NotificationJob.event == event)
    if destination:
        q = q.where(NotificationJob.destination == destination)
    before = request.args.get("before", "")
    if before.isdigit():
        q = q.where(NotificationJob.id < int(before))
    rows = s.execute(q.order_by(NotificationJob.id.desc()).limit(PAGE + 1)).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    attempts: dict = {}
    if rows:
        ids = [job.id for job, _ref in rows]
        for a in s.execute(select(NotificationAttempt).where(NotificationAttempt.job_id.in_(ids))
                           .order_by(NotificationAttempt.id)).scalars():
            attempts.setdefault(a.job_id, []).append(a)
    destinations = [d for (d,) in s.execute(select(NotificationJob.destination).distinct().order_by(NotificationJob.destination))]
    params = {k: v for k, v in (("state", state if state in STATES else ""), ("event", event if event in EVENTS else ""),
                                ("destination", destination)) if v}
    return render_template("notifications.html", rows=rows, attempts=attempts, more=more, params=params,
                           older=rows[-1][0].id if rows and more else None, states=STATES, events=EVENTS,
                           destinations=destinations)
