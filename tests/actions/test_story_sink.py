"""The action server's story writes are debounced per story (actions/story_sink.py): a
conversation's quick turns cost one write, with the newest snapshot, and nothing waits
longer than MAX_DELAY_SECONDS or past drain()."""
from __future__ import annotations

import asyncio
import time

import pytest

from actions import story_sink


class RecordingWriter:
    def __init__(self) -> None:
        self.writes: list = []  # (conversation id, number of user messages, monotonic time)

    async def save_events(self, conversation_id, events, reference=None):
        self.writes.append((conversation_id, sum(e["event"] == "user" for e in events), time.monotonic()))
        return None


def session(start: float, *texts: str) -> list:
    events = [{"event": "action", "name": "action_session_start", "timestamp": start},
              {"event": "session_started", "timestamp": start}]
    for i, text in enumerate(texts):
        events.append({"event": "user", "text": text, "timestamp": start + i + 1})
        events.append({"event": "bot", "text": "?", "timestamp": start + i + 1.5})
    return events


@pytest.fixture
def recorder(monkeypatch):
    writer = RecordingWriter()

    async def fake_writer():
        return writer

    monkeypatch.setattr(story_sink, "writer", fake_writer)
    monkeypatch.setattr(story_sink, "_pending", {})
    monkeypatch.setattr(story_sink, "_in_flight", set())
    monkeypatch.setenv("GEHOOR_STORY_WRITE_DELAY_MS", "100")
    return writer


def test_quick_turns_are_one_write_with_the_newest_snapshot(recorder):
    async def scenario():
        for n in range(1, 5):
            await story_sink.save("c-1", session(1000.0, *[f"m{i}" for i in range(n)]))
            await asyncio.sleep(0.02)
        assert recorder.writes == [], "nothing written while the conversation is still going"
        await asyncio.sleep(0.2)
        await story_sink.drain()

    asyncio.run(scenario())
    assert [(c, n) for c, n, _ in recorder.writes] == [("c-1", 4)]


def test_a_steady_stream_is_still_written_within_the_maximum_delay(recorder, monkeypatch):
    monkeypatch.setattr(story_sink, "MAX_DELAY_SECONDS", 0.3)

    async def scenario():
        started = time.monotonic()
        texts: list = []
        while time.monotonic() - started < 0.8:
            texts.append("x")
            await story_sink.save("c-2", session(1000.0, *texts))
            await asyncio.sleep(0.05)  # quicker than the 100 ms delay, forever
        await story_sink.drain()
        return started

    started = asyncio.run(scenario())
    assert len(recorder.writes) >= 3, recorder.writes
    assert recorder.writes[0][2] - started < 0.45, "first write no later than the maximum delay"
    assert recorder.writes[-1][1] == max(n for _, n, _ in recorder.writes), "the last write is the newest"


def test_a_new_session_does_not_replace_the_old_sessions_last_snapshot(recorder):
    async def scenario():
        await story_sink.save("c-3", session(1000.0, "first session"))
        await story_sink.save("c-3", session(2000.0, "second session"))
        await story_sink.drain()

    asyncio.run(scenario())
    assert sorted(n for _, n, _ in recorder.writes) == [1, 1] and len(recorder.writes) == 2


def test_drain_writes_what_is_pending_at_once(recorder, monkeypatch):
    monkeypatch.setenv("GEHOOR_STORY_WRITE_DELAY_MS", "60000")

    async def scenario():
        await story_sink.save("c-4", session(1000.0, "hoi"))
        started = time.monotonic()
        await story_sink.drain()
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1
    assert [(c, n) for c, n, _ in recorder.writes] == [("c-4", 1)]


def test_no_delay_writes_every_turn(recorder, monkeypatch):
    monkeypatch.setenv("GEHOOR_STORY_WRITE_DELAY_MS", "0")

    async def scenario():
        await story_sink.save("c-5", session(1000.0, "a"))
        await story_sink.save("c-5", session(1000.0, "a", "b"))
        await story_sink.drain()

    asyncio.run(scenario())
    assert [n for _, n, _ in recorder.writes] == [1, 2]


def test_a_bad_delay_setting_is_a_clear_error(monkeypatch):
    from bot import config

    monkeypatch.setenv("GEHOOR_STORY_WRITE_DELAY_MS", "soon")
    with pytest.raises(ValueError, match="GEHOOR_STORY_WRITE_DELAY_MS must be a whole number"):
        config.story_write_delay_ms()
