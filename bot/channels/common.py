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


class SeenCache:
    """Message ids seen in the last ``ttl`` seconds (bounded, oldest dropped first).

    Per process: with several Rasa processes behind a load balancer a replay can reach a
    process that has not seen the id; the signature/timestamp checks still apply there.
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

    def seen(self, key: str) -> bool:
        """True when ``key`` was seen before (within the ttl); otherwise remembers it."""
        now = time.monotonic()
        self._expire(now)
        if key in self._items:
            return True
        self._items[key] = now
        return False

    def forget(self, key: str) -> None:
        self._items.pop(key, None)

    def __contains__(self, key: str) -> bool:
        self._expire(time.monotonic())
        return key in self._items


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
