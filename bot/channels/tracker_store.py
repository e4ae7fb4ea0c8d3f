"""Rasa's SQL tracker store, but a short database outage delays messages instead of
silently starting empty conversations (`endpoints.prod.yml`:
`type: bot.channels.tracker_store.GehoorSQLTrackerStore`).

Rasa wraps every tracker store in `FailSafeTrackerStore`. When the database cannot be read,
that wrapper returns *no* tracker, so Rasa starts a new, empty conversation session (the
customer is greeted again mid-conversation, and the story splits in two); when it cannot be
written, the turn is kept in an in-memory store that nothing ever reads back. The fault
suite (tests/prod/test_prod_fault.py::test_postgresql_outage_under_load) showed it: after
stopping PostgreSQL for 10 s, 7 of 10 simulated customers never finished.

This store instead:

* retries a read or write that fails with a connection-type error (refused, terminated,
  "the database system is starting up", a stale pooled connection after a restart) for up
  to `GEHOOR_TRACKER_WAIT_SECONDS` (default 20 s), sleeping with `asyncio.sleep` between
  attempts (other conversations keep being served meanwhile). A restart of the database
  then only makes answers slower. Writes are idempotent: Rasa's `save` appends only the
  events beyond those already stored, counted again on every attempt; the events are
  published to the event broker once, before the first attempt (as Rasa does).
* when the database is still unreachable after that, raises `TrackerDatabaseUnavailable`,
  which is let through the fail-safe wrapper (a small patch of `FailSafeTrackerStore`,
  bot/rasa_patches/failsafe_passthrough.py, installed when this store is built): the
  message is *not* processed from an empty tracker, and the webhook is answered 503 so
  the sender retries (bot/rasa_patches/store_unavailable.py; docs/deploy.md). A failure
  while *saving* the
  turn after the answer was computed still loses that turn from the tracker (the answer was
  already collected); the action server's story write for it is in its outbox.
* logs once per outage, not per message: "tracker database unreachable …; waiting" and
  "tracker database reachable again after N s".
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.rasa_patches import failsafe_passthrough

logger = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 20.0
_STREAMED = contextvars.ContextVar("gehoor_tracker_events_streamed", default=False)


class TrackerDatabaseUnavailable(RuntimeError):
    """The tracker database stayed unreachable for GEHOOR_TRACKER_WAIT_SECONDS."""


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, ConnectionError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def wait_seconds() -> float:
    raw = os.environ.get("GEHOOR_TRACKER_WAIT_SECONDS", "").strip()
    if not raw:
        return DEFAULT_WAIT_SECONDS
    try:
        return max(0.0, float(raw))
    except ValueError as exc:
        raise ValueError(f"GEHOOR_TRACKER_WAIT_SECONDS must be a number of seconds, got {raw!r}") from exc


class _Outage:
    """Process-wide: when the current outage began and how many calls waited (for the logs)."""

    since: Optional[float] = None
    waited = 0
    failed = 0

    @classmethod
    def begin(cls, what: str, exc: BaseException, budget: float) -> None:
        if cls.since is None:
            cls.since, cls.waited, cls.failed = time.monotonic(), 0, 0
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            logger.error("tracker database unreachable (%s: %s): messages wait for it (up to %.0f s each) instead "
                         "of falling back to an in-memory tracker", what, first, budget)
        cls.waited += 1

    @classmethod
    def end(cls) -> None:
        if cls.since is not None:
            logger.warning("tracker database reachable again after %.1f s (%d call(s) waited, %d refused)",
                           time.monotonic() - cls.since, cls.waited, cls.failed)
            cls.since = None


# Rasa's engine has no connect timeout, and its SQL calls block the event loop: a database
# host that drops packets (rather than refusing) would stall every conversation of the
# instance for the operating system's TCP timeout (minutes) on each connect. With a bound,
# such a connect fails like a refused one and is retried within GEHOOR_TRACKER_WAIT_SECONDS.
CONNECT_TIMEOUT_SECONDS = 5


def with_connect_timeout(url: str, seconds: int = CONNECT_TIMEOUT_SECONDS) -> str:
    """The URL with libpq's connect_timeout, unless it already has one."""
    from sqlalchemy.engine.url import make_url

    parsed = make_url(url)
    if "connect_timeout" in parsed.query:
        return url
    return parsed.update_query_dict({"connect_timeout": str(seconds)}).render_as_string(hide_password=False)


class GehoorSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that waits out a short database outage (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        failsafe_passthrough.install(TrackerDatabaseUnavailable)
        wait_seconds()  # a malformed GEHOOR_TRACKER_WAIT_SECONDS stops Rasa at start-up, with its name
        if kwargs.get("dialect", "sqlite") != "sqlite":
            host = kwargs.get("host")
            if isinstance(host, str) and "://" in host:  # a whole URL: Rasa uses it as it is
                kwargs["host"] = with_connect_timeout(host)
            else:  # host, port, db, …: Rasa adds `query` to the URL it builds
                kwargs["query"] = {"connect_timeout": str(CONNECT_TIMEOUT_SECONDS), **(kwargs.get("query") or {})}
        super().__init__(*args, **kwargs)

    async def _patiently(self, what: str, call: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        budget = wait_seconds()
        deadline: Optional[float] = None
        delay = 0.25
        while True:
            try:
                result = await call(*args)
            except Exception as exc:  # noqa: BLE001
                if not is_connection_error(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + budget
                    _Outage.begin(what, exc, budget)
                if now >= deadline:
                    _Outage.failed += 1
                    raise TrackerDatabaseUnavailable(
                        f"the tracker database was unreachable for {budget:.0f} s ({what}); the message is not "
                        f"processed (no in-memory fallback): {type(exc).__name__}"
                    ) from exc
                await asyncio.sleep(min(delay, deadline - now))
                delay = min(delay * 2, 1.0)
                continue
            if _Outage.since is not None:
                _Outage.end()
            return result

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Any:
        return await self._patiently("read", super()._retrieve, sender_id, fetch_events_from_all_sessions)

    async def keys(self) -> Any:
        return await self._patiently("keys", super().keys)

    async def stream_events(self, tracker: Any) -> None:
        if _STREAMED.get():
            return  # already published by save() before its first attempt
        await super().stream_events(tracker)

    async def save(self, tracker: Any) -> None:
        # Publish the new events once (this reads the stored tracker, so it waits for the
        # database too), then write with retries: each attempt recounts the stored events
        # and inserts only the rest, so a retry after an unclear commit adds nothing twice.
        await self.stream_events(tracker)
        token = _STREAMED.set(True)
        try:
            await self._patiently("write", super().save, tracker)
        finally:
            _STREAMED.reset(token)
