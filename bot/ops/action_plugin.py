"""rasa_sdk plugin (hook `attach_sanic_app_extensions`) for the action server:

    GET /health   rasa_sdk's own liveness check (unchanged)
    GET /ready    readiness: the story store is migrated and answers `SELECT 1`; the body
                  says why not (503) — e.g. PostgreSQL unreachable. The outbox depth is
                  reported too (a non-empty outbox means writes are being queued).
    GET /metrics  Prometheus text format (bot/ops/metrics.py + the process collectors)
    no access log unless SANIC_ACCESS_LOG is set (attach_sanic_app_extensions says why)
    on stop       writes the stories still pending in actions/story_sink.py's debounce

rasa_sdk discovers plugins only through a top-level `rasa_sdk_plugins` package; Gehoor
registers this module explicitly instead (bot/ops/action_server.py, which `gehoor run-prod`
and the deploy manifests start in place of `rasa run actions`).
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

import pluggy
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sanic import Sanic, response

from bot.ops import metrics

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 5.0


def _ping_store() -> None:
    from sqlalchemy import text

    from bot.store.db import get_engine

    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


async def readiness() -> tuple:
    """(ready, details). Creates the story writer (migrations) on first call."""
    from actions import story_sink

    started = time.perf_counter()
    details: dict = {}
    try:
        writer = await asyncio.wait_for(story_sink.writer(), READY_TIMEOUT_SECONDS)
        details["outbox_depth"] = writer._pending
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.run_in_executor(None, _ping_store), READY_TIMEOUT_SECONDS)
        details["story_store"] = "ok"
    except Exception as exc:  # noqa: BLE001  every failure is "not ready", with the reason
        metrics.ERRORS.labels("readiness").inc()
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        details["story_store"] = f"unavailable: {type(exc).__name__}: {reason}"
        logger.error("readiness: story store unavailable: %s", reason)
        details["seconds"] = round(time.perf_counter() - started, 3)
        return False, details
    details["seconds"] = round(time.perf_counter() - started, 3)
    return True, details


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    # Sanic's access log is on by default, and even where the `sanic.access` logger writes
    # nothing, every response first builds its log record (the request's URL, the client
    # address from the forwarding headers): ~0.15 ms per action call. Only Rasa calls this
    # server and /metrics counts its turns, so it is off unless SANIC_ACCESS_LOG asks.
    if "SANIC_ACCESS_LOG" not in os.environ:
        app.config.ACCESS_LOG = False

    @app.get("/ready")
    async def ready(request):  # noqa: ANN001, ARG001
        ok, details = await readiness()
        return response.json({"status": "ready" if ok else "not ready", **details}, status=200 if ok else 503)

    @app.before_server_stop
    async def write_pending_stories(app_, loop):  # noqa: ANN001, ARG001
        """SIGTERM/SIGINT: stories still waiting for their debounce are written before exit."""
        from actions import story_sink

        await story_sink.drain()

    @app.get("/metrics")
    async def prometheus_metrics(request):  # noqa: ANN001, ARG001
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)
