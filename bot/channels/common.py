"""Shared building blocks for Gehoor's input channels.

Every webhook channel gets the same guards (see docs/channels.md, "Security"):

* a body-size limit (``GEHOOR_CHANNEL_MAX_BODY_BYTES``, default 64 KB) → 413;
* a platform signature / secret check in constant time → 403, nothing stored;
* replay protection: a bounded cache of message ids already seen, and, where the platform
  signs a timestamp, a time window → 403. A platform's retry of a message already handled
  is acknowledged (200/204, so the platform stops retrying) and not handled again;
* malformed JSON → 400, unknown event types → 400;
* sender ids namespaced per channel ("messenger:<psid>", "telegram:<chat id>") so
  the same person on two channels has two separate stories.

A channel whose credentials are not configured is *disabled*: its blueprint answers
``GET /`` with ``{"status": "disabled"}`` and ``POST /webhook`` with 404, so
``credentials.yml`` can list every channel and still run offline.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger("gehoor.channels")

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_REPLAY_WINDOW_SECONDS = 15 * 60
DEFAULT_MAX_MESSAGE_CHARS = 4000


def setting(credentials: Optional[Mapping[str, Any]], key: str, env: str, default: Any = None) -> Any:
    """A channel setting: the credentials.yml value if given and non-empty, else the env var."""
    value = (credentials or {}).get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        value = os.environ.get(env, "").strip() or default
    return value


def int_setting(credentials: Optional[Mapping[str, Any]], key: str, env: str, default: int) -> int:
    raw = setting(credentials, key, env, default)
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{env} (or '{key}' in credentials.yml) must be a whole number, got {raw!r}") from exc


def max_body_bytes(credentials: Optional[Mapping[str, Any]] = None) -> int:
    return int_setting(credentials, "max_body_bytes", "GEHOOR_CHANNEL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


def replay_window_seconds(credentials: Optional[Mapping[str, Any]] = None) -> int:
    return int_setting(
        credentials, "replay_window_seconds", "GEHOOR_CHANNEL_REPLAY_WINDOW_SECONDS", DEFAULT_REPLAY_WINDOW_SECONDS
    )


def constant_time_equals(expected: Optional[str], given: Optional[str]) -> bool:
    """Compare secrets without leaking their length or content through timing. Empty never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def namespaced(channel: str, raw_id: Any) -> str:
    return f"{channel}:{raw_id}"


def strip_namespace(channel: str, sender_id: str) -> str:
    prefix = f"{channel}:"
    return sender_id[len(prefix):] if sender_id.startswith(prefix) else sender_id


class _Shared:
    """The Redis all Rasa instances share (bot.config.redis_url), or None in the default
    profile. One client per process; short timeouts, because a check runs on the event loop.
    When Redis does not answer, callers fall back to their per-process cache (a warning
    once per outage): the lock store is down then too, so the message is refused with 503
    anyway (bot/rasa_patches/store_unavailable.py)."""

    _client: Any = None
    _url: Optional[str] = None
    down_since: Optional[float] = None

    @classmethod
    def client(cls) -> Any:
        from bot import config

        url = config.redis_url()
        if url is None:
            return None
        if cls._client is None or cls._url != url:
            import redis

            cls._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            cls._url = url
        return cls._client

    @classmethod
    def key(cls, kind: str, key: str) -> str:
        from bot import config

        return f"{config.redis_key_prefix()}:{kind}:{key}"

    @classmethod
    def failed(cls, exc: BaseException) -> None:
        if cls.down_since is None:
            cls.down_since = time.monotonic()
            logger.warning("Redis unreachable for message deduplication (%s); per-process caches meanwhile", exc)

    @classmethod
    def answered(cls) -> None:
        if cls.down_since is not None:
            logger.warning("Redis reachable again for message deduplication after %.0f s",
                           time.monotonic() - cls.down_since)
            cls.down_since = None


def _redis_errors() -> tuple:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class SeenCache:
    """Message ids seen in the last ``ttl`` seconds.

    In the production profile (``GEHOOR_REDIS_URL`` or the lock store's ``GEHOOR_REDIS_*``)
    the ids live in Redis (``SET NX EX``), so a platform's retry that reaches another Rasa
    instance, or the same one after a restart, is still recognised. Otherwise, and while
    Redis does not answer, a bounded per-process cache (oldest dropped first).
    """

    def __init__(self, ttl_seconds: float, max_items: int = 10000) -> None:
        self.ttl = ttl_seconds
        self.max_items = max_items
        self._items: "OrderedDict[str, float]" = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._items:
            key, seen_at = next(iter(self._items.items()))
            if now - seen_at <= self.ttl and len(self._items) <= self.max_items:
                break
            self._items.popitem(last=False)

    def _shared(self, operation: str, key: str) -> Optional[Any]:
        client = _Shared.client()
        if client is None:
            return None
        name = _Shared.key("seen", key)
        try:
            if operation == "claim":
                result: Any = not client.set(name, b"1", nx=True, ex=max(1, int(self.ttl)))
            elif operation == "forget":
                result = client.delete(name) >= 0
            else:
                result = bool(client.exists(name))
        except _redis_errors() as exc:
            _Shared.failed(exc)
            return None
        _Shared.answered()
        return result

    def seen(self, key: str) -> bool:
        """True when ``key`` was seen before (within the ttl); otherwise remembers it."""
        shared = self._shared("claim", key)
        if shared is not None:
            return shared
        now = time.monotonic()
        self._expire(now)
        if key in self._items:
            return True
        self._items[key] = now
        return False

    def forget(self, key: str) -> None:
        self._shared("forget", key)
        self._items.pop(key, None)

    def __contains__(self, key: str) -> bool:
        shared = self._shared("exists", key)
        if shared is not None:
            return shared
        self._expire(time.monotonic())
        return key in self._items


MESSAGE_ID_MAX_CHARS = 128
PENDING = "pending"


def client_message_id(data: Any) -> Optional[str]:
    """The client's id for a message in a JSON body (``"message_id"``, or in its
    ``"metadata"``): a client that resends after a timeout sends the same id, and the message
    is answered and stored once. None when absent or not a short printable string."""
    if not isinstance(data, Mapping):
        return None
    value = data.get("message_id")
    if value is None and isinstance(data.get("metadata"), Mapping):
        value = data["metadata"].get("message_id")
    if isinstance(value, str) and 0 < len(value) <= MESSAGE_ID_MAX_CHARS and value.isprintable():
        return value
    return None


def client_message_metadata(request: Request, body_metadata: Any = None) -> Optional[Dict[str, Any]]:
    """For a REST channel's ``get_metadata``: the body's own ``metadata`` (Rasa's RestInput
    passes it on) plus ``{"message_id": ...}`` from the JSON body, so the resend of a
    message is recognised (bot/rasa_patches/message_dedupe.py)."""
    try:
        data = json.loads((request.body or b"").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body_metadata
    message_id = client_message_id(data)
    if not message_id:
        return body_metadata
    return {**(body_metadata if isinstance(body_metadata, Mapping) else {}), "message_id": message_id}


class ClientMessages:
    """A client's message ids and the answers Rasa gave them, for ``ttl`` seconds: in Redis
    in the production profile (shared by every Rasa instance, kept over a restart), else in
    this process. ``claim`` is atomic (``SET NX``); the answer is kept so a resend gets it
    again instead of a second handling."""

    def __init__(self, ttl_seconds: float = 24 * 3600, max_items: int = 10000) -> None:
        self.ttl = max(1, int(ttl_seconds))
        self.local = SeenCache(ttl_seconds, max_items)
        self.answers: Dict[str, Any] = {}

    def _redis(self, call: Any) -> Any:
        client = _Shared.client()
        if client is None:
            return None
        try:
            result = call(client)
        except _redis_errors() as exc:
            _Shared.failed(exc)
            return None
        _Shared.answered()
        return result

    def claim(self, key: str) -> bool:
        """True the first time ``key`` is seen (handle the message), False for a resend."""
        name = _Shared.key("message", key)
        first = self._redis(lambda r: bool(r.set(name, PENDING, nx=True, ex=self.ttl)))
        if first is not None:
            return first
        return not self._local_seen(key)

    def _local_seen(self, key: str) -> bool:
        now = time.monotonic()
        self.local._expire(now)
        if key in self.local._items:
            return True
        self.local._items[key] = now
        return False

    def finish(self, key: str, answer: Sequence[Any]) -> None:
        encoded = json.dumps(list(answer), ensure_ascii=False)
        if self._redis(lambda r: r.set(_Shared.key("message", key), encoded, ex=self.ttl)) is None:
            self.answers[key] = encoded
            while len(self.answers) > self.local.max_items:
                self.answers.pop(next(iter(self.answers)))

    def release(self, key: str) -> None:
        """Not handled after all (an error): the resend will be."""
        self._redis(lambda r: r.delete(_Shared.key("message", key)))
        self.local._items.pop(key, None)
        self.answers.pop(key, None)

    def answer(self, key: str) -> Optional[Any]:
        """The answer given to ``key``: a list, PENDING while it is being handled, None if unknown."""
        stored = self._redis(lambda r: r.get(_Shared.key("message", key)))
        if stored is None:
            stored = self.answers.get(key) or (PENDING if key in self.local._items else None)
        if isinstance(stored, bytes):
            stored = stored.decode("utf-8")
        return stored if stored in (None, PENDING) else json.loads(stored)


def reject(channel: str, status: int, reason: str, request: Optional[Request] = None) -> HTTPResponse:
    """One clear log line and a short plain-text 4xx answer."""
    where = ""
    if request is not None:
        peer = request.headers.get("x-forwarded-for") or (request.ip or "?")
        where = f" from {peer} {request.method} {request.path}"
    logger.warning("channel %s rejected a request%s: %s (HTTP %s)", channel, where, reason, status)
    return response.text(reason, status=status)


def check_body_size(channel: str, request: Request, limit: int) -> Optional[HTTPResponse]:
    declared = request.headers.get("content-length")
    try:
        if declared is not None and int(declared) > limit:
            return reject(channel, 413, f"request body larger than {limit} bytes", request)
    except ValueError:
        return reject(channel, 400, "invalid Content-Length header", request)
    if len(request.body or b"") > limit:
        return reject(channel, 413, f"request body larger than {limit} bytes", request)
    return None


def parse_json_body(channel: str, request: Request) -> Tuple[Optional[Dict[str, Any]], Optional[HTTPResponse]]:
    """The request body as a JSON object, or a 400 response."""
    try:
        data = json.loads((request.body or b"").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, reject(channel, 400, f"malformed JSON body ({exc.__class__.__name__})", request)
    if not isinstance(data, dict):
        return None, reject(channel, 400, "JSON body must be an object", request)
    return data, None


def add_size_guard(blueprint: Blueprint, channel: str, limit: int) -> None:
    """Reject oversized bodies on every route of ``blueprint`` before any handler runs."""

    @blueprint.middleware("request")
    async def _size_guard(request: Request) -> Optional[HTTPResponse]:
        return check_body_size(channel, request, limit)


def disabled_blueprint(channel: str, missing: str) -> Blueprint:
    """The blueprint of a channel that is listed in credentials.yml but not configured."""
    logger.info("channel %s is disabled: set %s to enable it (docs/channels.md)", channel, missing)
    blueprint = Blueprint(f"{channel}_disabled_webhook", __name__)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "disabled", "missing": missing})

    @blueprint.route("/webhook", methods=["GET", "POST"])
    async def webhook(request: Request) -> HTTPResponse:
        return reject(channel, 404, f"channel {channel} is not configured", request)

    return blueprint


def truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def split_text(text: str, limit: int) -> list[str]:
    """Split a long reply into chunks of at most ``limit`` characters, at paragraph/word borders."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


# --- messages without text: photos, stickers, voice notes, locations, files ---------------


@dataclass(frozen=True)
class Media:
    """One non-text part of a customer's message, with the platform's id for it
    (``{"url": ...}`` on Messenger, ``{"file_id": ...}`` on Telegram, ``{"sticker_id": ...}``)."""

    kind: str  # "photo", "sticker", "like", "voice note", "audio", "video", "file", "location", ...
    ids: Dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> Dict[str, Any]:
        return {"kind": self.kind, **self.ids}


def media_text(items: Sequence[Media]) -> str:
    """The text Rasa gets for a message that has no text: Rasa's ``nlu_fallback`` naming what came.

    ``/nlu_fallback{"received": "photo", "file_id": "AgAC..."}``: the intent is fixed (NLU
    would guess at a description such as "[photo]", and could read it as "stop"); the form
    never takes a text starting with "/" as an answer, the listening analysis skips it, and
    action_clarify tells the customer that the bot reads text. The text is what the
    transcript shows, so staff see what was sent and find it by its id (Twilio does the same).
    """
    described: Dict[str, Any] = {"received": ", ".join(item.kind for item in items) or "empty message"}
    for item in items:
        for key, value in item.ids.items():
            described.setdefault(key, []).append(value)
    for key, value in list(described.items()):
        if isinstance(value, list) and len(value) == 1:
            described[key] = value[0]
    return "/nlu_fallback" + json.dumps(described, ensure_ascii=False)


def media_metadata(items: Iterable[Media]) -> Dict[str, Any]:
    """``{"media": [{"kind": "photo", "file_id": ...}]}`` for the user message's metadata."""
    media = [item.as_metadata() for item in items]
    return {"media": media} if media else {}


def text_or_media(text: Optional[str], items: Sequence[Media]) -> Optional[str]:
    """The message's own text (a caption counts) when it has any, else the media text; None
    when there is neither (nothing a customer sent)."""
    if isinstance(text, str) and text.strip():
        return text
    if items:
        return media_text(items)
    return None



# --- messages recorded without an answer (edits) ---------------------------------------------


class NotReady(RuntimeError):
    """Rasa's agent cannot record a message yet (no model loaded): answer 503 so the platform retries."""


async def record_without_answer(request: Request, message: Any) -> None:
    """Add a customer message to its conversation without the bot answering it, e.g. an edit
    of an earlier message: the dialogue does not move (no slot is filled, no question asked).

    Rasa's own ``Agent.log_message`` under the conversation's lock, as Rasa's HTTP API
    (``POST /conversations/<id>/messages``) does. The story store sees it with the next turn
    (or ``gehoor stories reconcile``), like every event the action server has not seen yet.
    """
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        raise NotReady("Rasa has no agent ready to record the message")
    async with agent.lock_store.lock(message.sender_id):
        await agent.log_message(message)
