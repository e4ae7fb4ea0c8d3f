"""Fault test: `kill -9` one action server while customers are mid-conversation. nginx sends
its traffic to the other one (the action upstream retries a cut-off request once; actions are
safe to repeat), the supervisor restarts the dead one, and every conversation completes with
every message stored exactly once, in order, and no 5xx."""
from __future__ import annotations

import asyncio
import os
import signal
import time
import urllib.error
import urllib.request

from bot.ops.loadgen import conversation_problems, run_customers


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_kill_an_action_server_under_load(prod_stack):
    victim = prod_stack.action_ports[0]
    pid = prod_stack.child_pid(victim)
    assert pid, f"no action server process found on port {victim}"

    async def scenario():
        load = asyncio.ensure_future(run_customers(prod_stack.url, 12, sticky_ratio=0.5, seed=3, think_seconds=0.6))
        await asyncio.sleep(4)  # conversations are under way
        os.kill(pid, signal.SIGKILL)
        return await load

    results = asyncio.run(scenario())
    problems = conversation_problems(prod_stack.db_url, results)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:10])
    # Most conversations must have been in flight when the server died (otherwise this proved nothing).
    assert sum(len(r.sent) for r in results) >= 12 * 6

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (ready(victim) and "every instance is up again" in prod_stack.log()):
        time.sleep(1)
    log = prod_stack.log()
    assert "the action-1 stopped (signal 9)" in log, log[-2000:]
    assert "restarting the action-1" in log, log[-2000:]
    assert ready(victim), "the killed action server was not restarted"
    new_pid = prod_stack.child_pid(victim)
    assert new_pid and new_pid != pid
    assert prod_stack.ready_status() == 200
