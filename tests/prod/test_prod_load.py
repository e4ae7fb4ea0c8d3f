"""Short load test: concurrent simulated customers hold complete conversations over REST
through nginx against two Rasa and two action servers on PostgreSQL/Redis/RabbitMQ.

Half of the customers send `X-Gehoor-Sender` (sticky: one Rasa instance), half do not (every
message may land on another instance): both must store every message exactly once, in order,
because the tracker is shared and the Redis lock store serialises a conversation.
GEHOOR_SOAK=1 runs 100 customers instead of 20.
"""
from __future__ import annotations

import asyncio
import os
import re
import urllib.request

from bot.ops.loadgen import conversation_problems, run_customers

CUSTOMERS = 100 if os.environ.get("GEHOOR_SOAK") else 20


def check_conversations(stack, results) -> None:
    problems = conversation_problems(stack.db_url, results)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:10])


def test_concurrent_customers_complete_conversations(prod_stack):
    results = asyncio.run(run_customers(prod_stack.url, CUSTOMERS, sticky_ratio=0.5, seed=1))
    assert len(results) == CUSTOMERS
    check_conversations(prod_stack, results)
    assert all(r.finished for r in results)
    # The two Rasa instances both served (hash on X-Gehoor-Sender + spread without it).
    log = (prod_stack.var_dir / "prod" / "log" / "nginx-access.log")
    seen = set()
    for _ in range(10):  # the access log is buffered (flush=2 s)
        text = log.read_text() if log.exists() else ""
        seen = set(re.findall(r'"POST /webhooks/rest/webhook[^"]*" \d+ \d+ up=127\.0\.0\.1:(\d+)', text))
        if len(seen) >= 2:
            break
        asyncio.run(asyncio.sleep(1))
    assert {str(p) for p in prod_stack.rasa_ports} <= seen, f"instances used: {seen}"


def test_sticky_sender_stays_on_one_instance(prod_stack):
    results = asyncio.run(run_customers(prod_stack.url, 4, sticky_ratio=1.0, seed=2))
    check_conversations(prod_stack, results)
    log = prod_stack.var_dir / "prod" / "log" / "nginx-access.log"
    for _ in range(10):
        text = log.read_text()
        if all(r.sender in text for r in results):
            break
        asyncio.run(asyncio.sleep(1))
    for r in results:
        upstreams = set(re.findall(r'up=127\.0\.0\.1:(\d+) [^\n]*key=' + re.escape(r.sender) + r'\b', text))
        assert len(upstreams) == 1, f"{r.sender} was served by {upstreams}"


def test_readiness_and_metrics(prod_stack):
    with urllib.request.urlopen(prod_stack.url + "/readyz", timeout=5) as response:
        assert response.status == 200
    total_turns = 0.0
    for port in prod_stack.action_ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
        for name in ("gehoor_turns_total", "gehoor_story_write_seconds_bucket", "gehoor_story_outbox_depth",
                     'gehoor_story_writes_total{outcome="stored"}', "gehoor_errors_total"):
            assert name in text, f"{name} missing from /metrics on {port}"
        total_turns += float(re.search(r"^gehoor_turns_total (\S+)$", text, re.M).group(1))
        assert float(re.search(r"^gehoor_story_outbox_depth (\S+)$", text, re.M).group(1)) == 0
    assert total_turns > 0, "no turn was counted on either action server"
