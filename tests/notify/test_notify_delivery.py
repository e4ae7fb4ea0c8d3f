"""Alerts end to end through the real capture path (events -> snapshot -> StoryWriter ->
StoryRepository), delivered by the worker to real receivers: an HTTP server that checks the
signature with its own code, a fake Slack incoming webhook and a real SMTP server."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.notify.worker import NotifyWorker
from bot.store.capture import snapshot_from_events
from bot.store.models import NotificationAttempt, NotificationJob, Story
from bot.store.outbox import Outbox
from bot.store.writer import StoryWriter
from notify_helpers import SECRET, Clock
from store_helpers import Conversation


def detractor_handoff() -> Conversation:
    """A customer who scores 3, explains, and asks for a person (with an e-mail address)."""
    return (Conversation("tg-77", channel="telegram").session_start()
            .bot("Hoe waarschijnlijk is het dat je ons aanbeveelt (0-10)?")
            .user("3").slot("score_answer", "3").slot("score", 3.0).slot("language", "nl")
            .bot("Wat is de belangrijkste reden voor je 3?")
            .user("Het pakket kwam twee dagen te laat, mail me op jan@example.com")
            .slot("answer_reason", "Het pakket kwam twee dagen te laat, mail me op jan@example.com")
            .user("ik wil iemand spreken").slot("handoff_requested", True)
            .slot("contact_consent", True).slot("contact_details", "jan@example.com").slot("contact_kind", "email")
            .slot("story_status", "handed_off").slot("end_reason", "handed_off")
            .bot("Ik geef je door aan een collega."))


def full_config(webhook, slack, mailbox, **extra):
    return {
        "destinations": {
            "crm": {"type": "webhook", "url": webhook.url, "secret_env": "GEHOOR_TEST_WEBHOOK_SECRET"},
            "cx-slack": {"type": "slack", "url": slack.url},
            "cx-mail": {"type": "email", "to": ["cx@acme.example"]},
        },
        "smtp": {"host": "127.0.0.1", "port": mailbox.port if mailbox else 1, "from": "gehoor@acme.example"},
        "rules": [
            {"events": ["story.created", "story.updated", "story.completed", "follow_up.due"], "to": ["crm"]},
            {"events": ["story.created", "story.updated"], "moments": ["detractor", "handoff", "consent", "repeat_contact"],
             "to": ["cx-slack", "cx-mail"]},
        ],
        **extra,
    }


def write_story(store, conversation: Conversation, tmp_path):
    writer = StoryWriter(store.repo, Outbox(tmp_path / "outbox.sqlite3"))
    try:
        outcome = writer.save_sync(snapshot_from_events(conversation.sender, conversation.events))
    finally:
        writer._executor.shutdown()
    assert outcome.stored, outcome.error
    return outcome.result.story_id


def jobs(store):
    with store.factory() as s:
        return s.execute(select(NotificationJob).order_by(NotificationJob.id)).scalars().all()


def test_detractor_handoff_alerts_webhook_slack_and_mail(store, receivers, smtp_server, alerts_file, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook, slack = receivers(secret=SECRET), receivers(slack=True)
    alerts_file(full_config(webhook, slack, smtp_server))

    story_id = write_story(store, detractor_handoff(), tmp_path)
    report = NotifyWorker(store.factory).run_once()

    assert report.delivered == 4 and report.retrying == report.failed == 0
    # webhook: story.created and story.completed, both signed and verified by the receiver
    assert [r["json"]["type"] for r in webhook.requests] == ["story.created", "story.completed"]
    assert all(r["verified"] for r in webhook.requests)
    created = webhook.requests[0]
    assert created["headers"]["Gehoor-Event"] == "story.created"
    story = created["json"]["data"]["story"]
    assert story["id"] == story_id and story["score"] == 3 and story["band"] == "detractor"
    assert story["handoff_requested"] is True and story["contact"] == "jan@example.com"  # consented
    assert story["follow_up"]["state"] == "open" and story["follow_up"]["due_at"]
    assert set(created["json"]["moments"]) == {"detractor", "handoff", "consent"}
    # Slack: one message, a link to the story, no contact details
    assert len(slack.requests) == 1
    text = slack.requests[0]["json"]["text"]
    assert f"<https://review.acme.example/stories/{story_id}|Open " in text
    assert "new detractor" in text and "asked for a person" in text
    assert "jan@example.com" not in text
    # e-mail through a real SMTP server
    assert len(smtp_server.messages) == 1
    rcpt, mail = smtp_server.messages[0]
    assert rcpt == ["cx@acme.example"] and mail["From"] == "gehoor@acme.example"
    with store.factory() as s:
        reference = s.get(Story, story_id).reference
    assert reference in mail["Subject"] and "new detractor" in mail["Subject"]
    assert f"https://review.acme.example/stories/{story_id}" in mail.get_content()
    assert "jan@example.com" not in mail.get_content()
    # the delivery log holds one successful attempt per job
    assert {j.state for j in jobs(store)} == {"delivered"}
    with store.factory() as s:
        assert s.execute(select(func.count()).select_from(NotificationAttempt)).scalar() == 4


def test_wrong_secret_is_rejected_by_the_receiver(store, receivers, alerts_file, tmp_path, monkeypatch):
    """The receiver's check can fail: signed with another secret -> 400 -> retried, not delivered."""
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", "not-the-receivers-secret")
    webhook, slack = receivers(secret=SECRET), receivers(slack=True)
    alerts_file(full_config(webhook, slack, None, rules=[{"to": ["crm"]}]))
    write_story(store, detractor_handoff(), tmp_path)
    report = NotifyWorker(store.factory).run_once()
    assert report.delivered == 0 and report.retrying == 2
    assert [r["verified"] for r in webhook.requests] == [False, False]


def test_500_twice_then_200_three_attempts_with_growing_delays(store, receivers, alerts_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook = receivers(secret=SECRET, script=[500, 500])
    alerts_file(full_config(webhook, webhook, None, rules=[{"events": ["story.created"], "to": ["crm"]}]))
    write_story(store, detractor_handoff(), tmp_path)
    clock = Clock(datetime.utcnow())
    worker = NotifyWorker(store.factory, clock=clock)

    assert worker.run_once().retrying == 1
    first_retry = jobs(store)[0].next_attempt_at
    assert worker.run_once().retrying == 0  # not due yet: nothing sent
    assert len(webhook.requests) == 1
    clock.now = first_retry
    assert worker.run_once().retrying == 1
    second_retry = jobs(store)[0].next_attempt_at
    clock.now = second_retry - timedelta(seconds=1)
    worker.run_once()
    assert len(webhook.requests) == 2  # still waiting
    clock.now = second_retry
    assert worker.run_once().delivered == 1

    [job] = jobs(store)
    assert job.state == "delivered" and job.attempts == 3
    with store.factory() as s:
        log = s.execute(select(NotificationAttempt).order_by(NotificationAttempt.id)).scalars().all()
    assert [(a.ok, a.status) for a in log] == [(False, 500), (False, 500), (True, 200)]
    delays = [(log[1].at - log[0].at).total_seconds(), (log[2].at - log[1].at).total_seconds()]
    assert delays[0] > 0 and delays[1] > delays[0]  # exponential: 30 s, then 60 s
    assert delays == [30.0, 60.0]
    # every attempt carried the same delivery id and the same body (only the signature time changes)
    assert len({r["headers"]["Gehoor-Delivery"] for r in webhook.requests}) == 1
    assert len({r["body"] for r in webhook.requests}) == 1


def test_a_restarted_worker_sends_what_is_pending(store, receivers, alerts_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook = receivers(secret=SECRET)
    config = full_config(webhook, webhook, None, rules=[{"events": ["story.created"], "to": ["crm"]}])
    config["destinations"]["crm"]["url"] = "http://127.0.0.1:9/down"  # nobody listens: attempt fails
    path = alerts_file(config)
    write_story(store, detractor_handoff(), tmp_path)
    clock = Clock(datetime.utcnow())
    assert NotifyWorker(store.factory, clock=clock).run_once().retrying == 1

    # a worker that died while sending leaves a lease; the job is not lost
    [job] = jobs(store)
    with store.factory() as s:
        s.get(NotificationJob, job.id).locked_until = clock.now + timedelta(minutes=2)
        s.commit()
    config["destinations"]["crm"]["url"] = webhook.url  # the receiver is back
    path.write_text(__import__("yaml").safe_dump(config), encoding="utf-8")
    time.sleep(0.01)

    # "restart": a new engine and a new worker, later
    from bot.store.db import make_engine, session_factory

    engine = make_engine(store.url)
    restarted = NotifyWorker(session_factory(engine), clock=clock)
    clock.advance(seconds=31)
    assert restarted.run_once().delivered == 0  # the dead worker's lease still holds
    clock.advance(minutes=2)
    assert restarted.run_once().delivered == 1
    engine.dispose()
    assert len(webhook.ok()) == 1 and jobs(store)[0].attempts == 2


def test_nothing_is_sent_twice(store, receivers, smtp_server, alerts_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook, slack = receivers(secret=SECRET, delay=0.05), receivers(slack=True)
    alerts_file(full_config(webhook, slack, smtp_server))
    conversation = detractor_handoff()
    write_story(store, conversation, tmp_path)
    n_jobs = len(jobs(store))
    # the same snapshot again (a retry, the reconciler, an outbox replay): no new jobs
    write_story(store, conversation, tmp_path)
    store.repo.save(snapshot_from_events(conversation.sender, conversation.events))
    assert len(jobs(store)) == n_jobs == 4

    # four workers at once (two action servers, a `gehoor notify work`, …)
    workers = [NotifyWorker(store.factory, batch=2) for _ in range(4)]
    threads = [threading.Thread(target=lambda w=w: [w.run_once() for _ in range(3)]) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(2):
        workers[0].run_once()
    assert len(webhook.requests) == 2 and len({r["headers"]["Gehoor-Delivery"] for r in webhook.requests}) == 2
    assert len(slack.requests) == 1 and len(smtp_server.messages) == 1
    assert all(j.state == "delivered" and j.attempts == 1 for j in jobs(store))


def test_a_moment_is_announced_once_across_turns(store, receivers, alerts_file, tmp_path):
    """Turn by turn, as the action server writes: the story is created before the score is
    known; becoming a detractor alerts Slack once; later turns do not alert again."""
    slack = receivers(slack=True)
    alerts_file({"destinations": {"cx-slack": {"type": "slack", "url": slack.url}},
                 "rules": [{"moments": ["detractor", "handoff"], "to": ["cx-slack"]}]})
    conv = (Conversation("web-5").session_start().bot("Hoe waarschijnlijk (0-10)?").user("hallo"))
    write_story(store, conv, tmp_path)
    conv.user("2").slot("score_answer", "2").slot("score", 2.0)
    write_story(store, conv, tmp_path)
    conv.bot("Waarom een 2?").user("De monteur kwam niet opdagen").slot("answer_reason", "De monteur kwam niet opdagen")
    write_story(store, conv, tmp_path)
    NotifyWorker(store.factory).run_once()
    assert len(slack.requests) == 1 and "new detractor" in slack.requests[0]["json"]["text"]
    conv.user("ik wil een mens spreken").slot("handoff_requested", True)
    write_story(store, conv, tmp_path)
    NotifyWorker(store.factory).run_once()
    assert len(slack.requests) == 2 and "asked for a person" in slack.requests[1]["json"]["text"]
    assert "new detractor" not in slack.requests[1]["json"]["text"]


def test_no_alerts_file_no_jobs(store, tmp_path, monkeypatch):
    monkeypatch.delenv("GEHOOR_ALERTS_FILE", raising=False)
    write_story(store, detractor_handoff(), tmp_path)
    assert jobs(store) == []
    assert NotifyWorker(store.factory).run_once().delivered == 0


def test_a_slow_receiver_never_slows_the_story_write(store, receivers, alerts_file, tmp_path, monkeypatch):
    """The save only inserts job rows; the network is the worker's, on its own thread."""
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook = receivers(secret=SECRET, delay=2.0)
    alerts_file(full_config(webhook, webhook, None, rules=[{"to": ["crm"]}]))
    worker = NotifyWorker(store.factory)
    worker.start_thread(interval=0.05)
    try:
        conv = detractor_handoff()
        snapshot_from_events(conv.sender, conv.events)  # loads the listening analysis (cold start)
        started = time.perf_counter()
        write_story(store, conv, tmp_path)
        time.sleep(0.3)  # the worker is now inside a 2-second send
        conv.user("nog iets").bot("Dank je.")
        write_story(store, conv, tmp_path)
        elapsed = time.perf_counter() - started - 0.3
    finally:
        worker.stop(timeout=10)
    assert elapsed < 1.0, elapsed
    assert len(webhook.requests) >= 1  # the worker did send meanwhile


def test_forgetting_a_customer_removes_their_alerts(store, receivers, alerts_file, tmp_path, monkeypatch):
    from bot.store.erasure import forget

    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook = receivers(secret=SECRET, script=[500])
    alerts_file(full_config(webhook, webhook, None, rules=[{"to": ["crm"]}]))
    write_story(store, detractor_handoff(), tmp_path)
    NotifyWorker(store.factory).run_once()
    assert jobs(store)
    forget(conversation="tg-77", factory=store.factory, tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}")
    assert jobs(store) == []
    with store.factory() as s:
        assert s.execute(select(func.count()).select_from(NotificationAttempt)).scalar() == 0


def test_a_commit_with_new_jobs_wakes_the_waiting_worker(store, receivers, alerts_file, tmp_path, monkeypatch):
    """The thread polls once a minute here, yet the alert leaves as soon as the story commits."""
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    webhook = receivers(secret=SECRET)
    alerts_file(full_config(webhook, webhook, None, rules=[{"events": ["story.created"], "to": ["crm"]}]))
    conv = detractor_handoff()
    snapshot = snapshot_from_events(conv.sender, conv.events)
    worker = NotifyWorker(store.factory)
    worker.start_thread(interval=60)
    try:
        time.sleep(0.5)  # the first pass is over: the thread waits
        started = time.monotonic()
        store.repo.save(snapshot)
        while not webhook.ok() and time.monotonic() - started < 10:
            time.sleep(0.05)
        waited = time.monotonic() - started
    finally:
        worker.stop()
    assert webhook.ok() and waited < 5, waited


def test_customer_words_cannot_become_slack_links_or_mentions(store, receivers, alerts_file, tmp_path):
    slack = receivers(slack=True)
    alerts_file({"destinations": {"cx-slack": {"type": "slack", "url": slack.url}},
                 "rules": [{"moments": ["detractor"], "to": ["cx-slack"]}]})
    reason = "Slecht <!channel> zie <https://evil.example|jullie site> & meer"
    conv = (Conversation("web-9").session_start().bot("Cijfer?").user("1").slot("score", 1.0)
            .bot("Waarom?").user(reason).slot("answer_reason", reason))
    story_id = write_story(store, conv, tmp_path)
    NotifyWorker(store.factory).run_once()
    text = slack.requests[0]["json"]["text"]
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example|jullie site&gt;" in text and "&amp; meer" in text
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert f"<https://review.acme.example/stories/{story_id}|Open " in text  # our own link stays a link
