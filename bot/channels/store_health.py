"""Whether the Rasa server's stores answer: `GET /readyz` and `GET /metrics` on the Rasa port
(added to the app by bot/rasa_patches/store_unavailable.py when Rasa registers its channels).

`/readyz` is 200 `{"ready": true}` when the lock store (Redis) answers PING and the SQL
tracker database answers `SELECT 1`; 503 with the reasons otherwise, so a load balancer or
Kubernetes stops sending messages to an instance that would refuse them. `/metrics` is the
process's Prometheus registry (gehoor_store_unavailable_total, gehoor_duplicate_messages_total).
Both are for probes and scrapers that reach the Rasa port directly: a request that came
through the reverse proxy (it carries X-Forwarded-For) gets 404, so they are not public.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, List


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def store_problems(agent: Any) -> List[str]:
    """Why the agent's lock store or tracker store does not answer now ([] when both do).
    Blocking (run it in a thread)."""
    from rasa.core.lock_store import RedisLockStore
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
    from sqlalchemy import text

    problems = []
    lock_store = getattr(agent, "lock_store", None)
    if isinstance(lock_store, RedisLockStore):
        try:
            lock_store.red.ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"lock store (Redis) unreachable: {_first_line(exc)}")
    tracker_store = getattr(agent, "tracker_store", None)
    if isinstance(tracker_store, FailSafeTrackerStore):
        tracker_store = tracker_store._tracker_store
    if isinstance(tracker_store, SQLTrackerStore):
        try:
            with tracker_store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"tracker store (SQL) unreachable: {_first_line(exc)}")
    return problems


def add_routes(app: Any) -> None:
    """GET /readyz and GET /metrics on the Rasa server's app."""
    from sanic import response

    def proxied(request: Any) -> bool:
        return "x-forwarded-for" in request.headers

    async def readyz(request: Any) -> Any:
        if proxied(request):
            return response.text("not found", status=404)
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return response.json({"ready": False, "problems": ["no model loaded"]}, status=503)
        started = time.monotonic()
        problems = await asyncio.get_running_loop().run_in_executor(None, store_problems, agent)
        body = {"ready": not problems, "problems": problems, "seconds": round(time.monotonic() - started, 3)}
        return response.json(body, status=503 if problems else 200)

    async def prometheus(request: Any) -> Any:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if proxied(request):
            return response.text("not found", status=404)
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    app.add_route(readyz, "/readyz", methods=["GET"], name="gehoor_readyz")
    app.add_route(prometheus, "/metrics", methods=["GET"], name="gehoor_metrics")
