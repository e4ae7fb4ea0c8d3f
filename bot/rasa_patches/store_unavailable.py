"""Feature (changes behaviour): a message that cannot be handled because the tracker store or
the lock store is down is answered 503, never 200 with nothing.

Replaces `rasa.core.agent.Agent.handle_message` and `rasa.core.channels.channel.register`
(Rasa 3.6.21). Stock Rasa's REST channel (and the channels built on it) catches every error
of `handle_message`, logs it and answers 200 with an empty list: with Redis down (the lock
store) or the tracker database down (after `GehoorSQLTrackerStore` waited for it), the
customer's message is lost and nobody retries it. Here:

* `Agent.handle_message` turns such an error into `StoreUnavailable` (logged on one line,
  counted in `gehoor_store_unavailable_total{store}`) and remembers it for the request;
* an app-wide response middleware then answers that request 503 with `Retry-After`,
  whatever the channel made of the error, so Meta, Telegram, Slack and Twilio retry and the
  REST client sends again (the widget's socket channel acknowledges `{"ok": false}` and
  resends by itself);
* the Rasa server gets `GET /readyz` (503 while Redis or the tracker database does not
  answer) and `GET /metrics` (Prometheus text) for its own process.

Other errors keep Rasa's handling.
"""
from __future__ import annotations

import contextvars
import logging
from typing import Any, Iterator, List, Optional

import rasa.core.channels.channel as rasa_channel
from rasa.core.agent import Agent

from bot.channels import store_health
from bot.rasa_patches import is_patched, mark

logger = logging.getLogger(__name__)

REPLACES = "rasa.core.agent.Agent.handle_message, rasa.core.channels.channel.register"
GAIN = "correctness: a message refused for a store outage is retried by its sender, not lost"

RETRY_AFTER_SECONDS = 5
# The stores a request's message was refused for (set per request by the middleware).
_REFUSED: contextvars.ContextVar[Optional[List[str]]] = contextvars.ContextVar("gehoor_refused", default=None)


class StoreUnavailable(RuntimeError):
    """The tracker store ("tracker") or the lock store ("lock") did not answer."""

    def __init__(self, store: str, cause: BaseException) -> None:
        super().__init__(f"{store} store unavailable: {type(cause).__name__}: {_first_line(cause)}")
        self.store = store


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _chain(exc: Optional[BaseException]) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def unavailable_store(exc: BaseException) -> Optional[str]:
    """"tracker" or "lock" when `exc` (or its cause) says that store is unreachable, else None."""
    import redis.exceptions
    from rasa.core.lock_store import LockError

    from bot.channels.tracker_store import TrackerDatabaseUnavailable

    for error in _chain(exc):
        if isinstance(error, StoreUnavailable):
            return error.store
        if isinstance(error, TrackerDatabaseUnavailable):
            return "tracker"
        if isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
            return "lock"
        if isinstance(error, LockError) and isinstance(error.__cause__ or error.__context__, Exception):
            return "lock"
    return None


def _refuse(store: str, exc: BaseException, sender_id: str) -> StoreUnavailable:
    from bot.ops import metrics

    metrics.STORE_UNAVAILABLE.labels(store).inc()
    refused = _REFUSED.get()
    if refused is not None:
        refused.append(store)
    root = list(_chain(exc))[-1]  # the driver's own words ("Connection refused")
    logger.error("message of %s refused (503, its sender retries): %s store unavailable (%s: %s)",
                 sender_id, store, type(root).__name__, _first_line(root))
    return StoreUnavailable(store, exc)


def add_guard(app: Any) -> None:
    """The app-wide 503 for refused messages; GET /readyz and GET /metrics."""
    from sanic import response

    @app.middleware("request")
    async def _reset(request: Any) -> None:  # keep-alive requests share one task's context
        _REFUSED.set([])

    @app.middleware("response")
    async def _answer_503(request: Any, answer: Any) -> Any:
        refused = _REFUSED.get()
        if refused:
            _REFUSED.set([])
            return response.text(f"temporarily unavailable ({refused[0]} store down); retry",
                                 status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return None

    store_health.add_routes(app)


def install() -> None:
    original_handle = Agent.handle_message
    if not is_patched(original_handle):

        async def handle_message(self: Agent, message: Any) -> Any:
            try:
                return await original_handle(self, message)
            except Exception as exc:
                store = unavailable_store(exc)
                if store is None:
                    raise
                raise _refuse(store, exc, message.sender_id) from exc

        Agent.handle_message = mark(handle_message, original_handle)  # type: ignore[method-assign]

    original_register = rasa_channel.register
    if not is_patched(original_register):

        def register(input_channels: Any, app: Any, route: Any) -> None:
            add_guard(app)
            return original_register(input_channels, app, route)

        rasa_channel.register = mark(register, original_register)
