"""The example event consumer (`gehoor events count`, bot/ops/event_consumer.py) against the
real RabbitMQ queue that Rasa's pika broker publishes to."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from bot.ops.event_consumer import consume, count_bodies
from bot.ops.loadgen import run_customers

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def test_count_bodies_unit():
    counts = count_bodies([
        b'{"sender_id": "a", "event": "user", "text": "hoi"}',
        b'{"sender_id": "a", "event": "bot"}',
        b'{"sender_id": "b", "event": "user"}',
        b"not json", b'{"event": "user"}', b'{"sender_id": 5, "event": "user"}',
    ])
    assert counts.as_dict() == {"a": {"total": 2, "by_type": {"bot": 1, "user": 1}},
                                "b": {"total": 1, "by_type": {"user": 1}}}
    assert counts.unreadable == 3


def test_counts_every_customer_message_per_conversation(prod_stack):
    results = asyncio.run(run_customers(prod_stack.url, 3, sticky_ratio=0.5, seed=7))
    assert all(r.finished for r in results), [r.error for r in results]
    # Half of the stream through the CLI (acknowledged = taken from the queue), the rest
    # with the function; together they must have seen every event exactly once.
    url = AMQP
    cli = subprocess.run(
        [sys.executable, "-m", "bot.cli", "events", "count", "--url", url, "--queue", prod_stack.queue,
         "--max-messages", "20", "--idle-seconds", "3", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    first = json.loads(cli.stdout)["conversations"]
    rest = asyncio.run(consume(url, prod_stack.queue, idle_seconds=3)).as_dict()
    assert sum(v["total"] for v in first.values()) == 20
    for r in results:
        user_events = (first.get(r.sender, {}).get("by_type", {}).get("user", 0)
                       + rest.get(r.sender, {}).get("by_type", {}).get("user", 0))
        assert user_events == len(r.sent), f"{r.sender}: {user_events} user events, {len(r.sent)} messages sent"
        bot_events = (first.get(r.sender, {}).get("by_type", {}).get("bot", 0)
                      + rest.get(r.sender, {}).get("by_type", {}).get("bot", 0))
        assert bot_events >= len(r.sent), f"{r.sender}: every message got at least one bot reply"


def test_tap_sees_new_events_without_taking_them(prod_stack):
    async def scenario():
        ready = asyncio.Event()
        tap = asyncio.create_task(consume(AMQP, tap=True, exchange=prod_stack.exchange, idle_seconds=4,
                                          ready=ready))
        await asyncio.wait_for(ready.wait(), 30)
        results = await run_customers(prod_stack.url, 1, seed=8)
        return results[0], await tap

    result, tapped = asyncio.run(scenario())
    assert result.finished, result.error
    assert tapped.as_dict()[result.sender]["by_type"]["user"] == len(result.sent)
    # ... and the durable queue still holds them for its own consumer
    queued = asyncio.run(consume(AMQP, prod_stack.queue, idle_seconds=3)).as_dict()
    assert queued[result.sender]["by_type"]["user"] == len(result.sent)
