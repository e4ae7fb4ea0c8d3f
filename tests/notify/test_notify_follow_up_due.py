"""follow_up.due: once, when an open follow-up comes within the lead time of its due time."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.notify.worker import NotifyWorker
from bot.store.models import NotificationJob, Story
from notify_helpers import SECRET, Clock
from test_notify_delivery import detractor_handoff, write_story


def test_follow_up_due_fires_once_within_the_lead_time(store, receivers, alerts_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook, slack = receivers(secret=SECRET), receivers(slack=True)
    alerts_file({
        "destinations": {"crm": {"type": "webhook", "url": webhook.url, "secret_env": "GEHOOR_TEST_WEBHOOK_SECRET"},
                         "cx-slack": {"type": "slack", "url": slack.url}},
        "follow_up_due": {"lead_minutes": 60},
        "rules": [{"events": ["follow_up.due"], "to": ["crm", "cx-slack"]}],
    })
    story_id = write_story(store, detractor_handoff(), tmp_path)
    with store.factory() as s:
        due = s.get(Story, story_id).follow_up_due_at
    assert due is not None
    clock = Clock(due - timedelta(minutes=61))
    worker = NotifyWorker(store.factory, clock=clock)
    assert worker.run_once().enqueued == 0 and webhook.requests == []

    clock.advance(minutes=2)  # 59 minutes before the due time
    report = worker.run_once()
    assert report.enqueued == 2 and report.delivered == 2
    [event] = [r["json"] for r in webhook.requests]
    assert event["type"] == "follow_up.due" and event["moments"] == ["follow_up_due"]
    assert event["data"]["story"]["follow_up"]["state"] == "open"
    assert "follow-up about to breach its SLA" in slack.requests[0]["json"]["text"]

    for _ in range(3):  # later passes, and past the due time: not again
        clock.advance(minutes=30)
        assert worker.run_once().enqueued == 0
    assert len(webhook.requests) == 1 and len(slack.requests) == 1


def test_no_due_alert_once_staff_contacted_the_customer(store, receivers, alerts_file, tmp_path):
    slack = receivers(slack=True)
    alerts_file({"destinations": {"cx-slack": {"type": "slack", "url": slack.url}},
                 "rules": [{"events": ["follow_up.due"], "to": ["cx-slack"]}]})
    story_id = write_story(store, detractor_handoff(), tmp_path)
    with store.factory() as s:
        story = s.get(Story, story_id)
        due = story.follow_up_due_at
        story.follow_up_state = "contacted"
        s.commit()
    worker = NotifyWorker(store.factory, clock=Clock(due - timedelta(minutes=5)))
    assert worker.run_once().enqueued == 0
    with store.factory() as s:
        assert s.execute(select(NotificationJob)).first() is None
    assert slack.requests == []
