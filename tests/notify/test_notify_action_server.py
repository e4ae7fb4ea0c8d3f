"""In the action server: the story sink's writer starts the notification thread, a turn hands
the story over without waiting for any send, and the thread delivers the alert."""
from __future__ import annotations

import asyncio
import time

from notify_helpers import SECRET
from test_notify_delivery import detractor_handoff


async def test_story_sink_turn_enqueues_and_the_in_process_worker_sends(tmp_path, monkeypatch, receivers, alerts_file):
    from actions import story_sink
    from bot.notify import worker as notify_worker

    monkeypatch.setenv("GEHOOR_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GEHOOR_DB_URL", f"sqlite:///{tmp_path / 'gehoor.db'}")
    monkeypatch.setenv("GEHOOR_STORY_WRITE_DELAY_MS", "0")
    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("GEHOOR_NOTIFY_WORKER", raising=False)
    monkeypatch.setattr(story_sink, "_writer", None)
    monkeypatch.setattr(notify_worker, "_in_process", None)
    webhook = receivers(secret=SECRET, delay=1.0)  # a slow receiver
    alerts_file({"destinations": {"crm": {"type": "webhook", "url": webhook.url,
                                          "secret_env": "GEHOOR_TEST_WEBHOOK_SECRET"}},
                 "rules": [{"events": ["story.created"], "to": ["crm"]}]})
    conv = detractor_handoff()
    writer = await story_sink.writer()
    worker = notify_worker._in_process
    assert worker is not None and worker._thread.is_alive()
    try:
        started = time.perf_counter()
        reference = await story_sink.save(conv.sender, conv.events)  # what a turn awaits
        turn = time.perf_counter() - started
        assert reference and turn < 0.5, turn
        await story_sink.drain()
        deadline = time.monotonic() + 20
        while not webhook.ok() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        [delivery] = webhook.ok()
        assert delivery["verified"] and delivery["json"]["data"]["story"]["reference"] == reference
    finally:
        worker.stop()
        await writer.aclose()
