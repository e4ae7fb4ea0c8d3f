"""The website widget's channel (``bot.channels.socketio.SocketIOInput``): Rasa's
socket.io channel with input checks in front of Rasa's own event handlers.

It *is* Rasa's ``SocketIOInput`` (same events, same ``session_persistence`` rooms, same
``jwt_key``/``jwt_method`` signed sessions, stored channel name ``socketio``); this
subclass wraps Rasa's handlers to add:

* ``allowed_origins`` / ``GEHOOR_WIDGET_ORIGINS`` (comma-separated): a socket.io
  connection from another ``Origin`` is refused with a log line. WebSockets are not
  covered by CORS, so Rasa's ``--cors`` alone does not stop another website from talking
  to the bot. Unset: the same origins as ``GEHOOR_CORS_ORIGINS`` (else the demo page's);
  ``*`` allows any origin (development). No ``Origin`` header (not a browser, or a page
  on Rasa's own origin) is allowed.
* session ids must be 32 lowercase hex characters (what Rasa and the widget generate):
  a client cannot pick ``messenger:123`` as its session id and write into someone
  else's conversation; a malformed id in ``session_request`` gets a fresh session.
* a message must be a string of at most ``max_message_chars`` (4000) characters;
  metadata (``customData``) must be a small flat object (≤ 20 keys, string values
  ≤ 500 characters); anything else is dropped with a log line and never stored.
* at most ``max_messages_per_minute`` (30) messages per connection.
* a refused message is never acknowledged as accepted: the ack carries the reason
  (``too_long``, ``rate_limited`` with ``retry_after``, ``invalid``), and a client that
  sends no ``message_id`` (rasa-webchat ignores acks) also gets a ``bot_uttered`` saying it.
* the widget gives every message a ``message_id`` and re-sends a message whose
  acknowledgement it did not get (network drop); a ``message_id`` already handled for
  the session is acknowledged again but not processed twice.
* socket.io packets larger than the body limit (64 KB) are refused by the server.

Settings: ``jwt_key`` / ``GEHOOR_WIDGET_JWT_KEY`` and ``jwt_method`` /
``GEHOOR_WIDGET_JWT_METHOD`` for signed sessions (the widget passes the token as
``auth: {token}``); ``allowed_origins`` / ``GEHOOR_WIDGET_ORIGINS``.
"""
from __future__ import annotations

import json
import logging
import math
import re
import time
from collections import defaultdict, deque
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

from bot import config
from bot.channels import common

logger = logging.getLogger("gehoor.channels.socketio")

CHANNEL = "socketio"
SESSION_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_VALUE_CHARS = 500


def sanitize_metadata(raw: Any) -> Optional[Dict[str, Any]]:
    """A flat, bounded copy of the widget's metadata, or None when it is not an object."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return None
    clean: Dict[str, Any] = {}
    for key, value in list(raw.items())[:MAX_METADATA_KEYS]:
        if not isinstance(key, str) or not key or len(key) > MAX_METADATA_KEY_CHARS:
            continue
        if isinstance(value, str):
            clean[key] = value[:MAX_METADATA_VALUE_CHARS]
        elif isinstance(value, (bool, int, float)) or value is None:
            clean[key] = value
    return clean


# A malformed packet (not what the widget or rasa-webchat sends): said in the ack, never retried.
INVALID = {"ok": False, "error": "invalid", "retry": False}

REFUSALS = {
    "too_long": {
        "nl": "Je bericht is te lang (maximaal {max_chars} tekens) en is niet verwerkt. Wil je het korter opschrijven?",
        "en": "Your message is too long (at most {max_chars} characters) and was not processed. Could you make it shorter?",
    },
    "rate_limited": {
        "nl": "Je stuurt veel berichten kort na elkaar. Dit bericht is niet verwerkt: stuur het over {retry_after} seconden opnieuw.",
        "en": "You are sending many messages in a row. This message was not processed: please send it again in {retry_after} seconds.",
    },
}


def refusal_language(metadata: Any) -> str:
    """The client's language from its metadata (as the bot reads it), else the default."""
    if isinstance(metadata, dict):
        for key in ("language", "ui_language", "browser_language"):
            value = str(metadata.get(key) or "")[:2].lower()
            if value in ("nl", "en"):
                return value
    default = config.default_language()
    return default if default in ("nl", "en") else "en"


def refusal_text(ack: Dict[str, Any], language: str) -> str:
    return REFUSALS[ack["error"]][language].format(**ack)


def parse_origins(raw: Any) -> Optional[List[str]]:
    """The allowed page origins: GEHOOR_WIDGET_ORIGINS / ``allowed_origins`` if set, else the
    CORS origins (GEHOOR_CORS_ORIGINS, else the demo page's). None (``*``) allows any."""
    if not raw:
        raw = config.cors_origins()
    items = raw if isinstance(raw, list) else str(raw).split(",")
    origins = [str(item).strip().rstrip("/") for item in items if str(item).strip()]
    return None if "*" in origins else origins


class SocketIOInput(RasaSocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            common.setting(credentials, "jwt_key", "GEHOOR_WIDGET_JWT_KEY"),
            common.setting(credentials, "jwt_method", "GEHOOR_WIDGET_JWT_METHOD", "HS256"),
            credentials.get("metadata_key", "customData"),
        )
        channel.allowed_origins = parse_origins(common.setting(credentials, "allowed_origins", "GEHOOR_WIDGET_ORIGINS"))
        channel.max_message_chars = int(credentials.get("max_message_chars", common.DEFAULT_MAX_MESSAGE_CHARS))
        channel.max_messages_per_minute = int(credentials.get("max_messages_per_minute", 30))
        channel.max_body_bytes = common.max_body_bytes(credentials)
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_origins: Optional[List[str]] = parse_origins(None)
        self.max_message_chars = common.DEFAULT_MAX_MESSAGE_CHARS
        self.max_messages_per_minute = 30
        self.max_body_bytes = common.DEFAULT_MAX_BODY_BYTES
        self._recent: Dict[str, Deque[float]] = defaultdict(deque)
        self.seen = common.SeenCache(24 * 3600, max_items=100000)

    def _rate_limited(self, sid: str) -> Optional[int]:
        """Seconds until ``sid`` may send again, or None (and the message is counted)."""
        now = time.monotonic()
        recent = self._recent[sid]
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= self.max_messages_per_minute:
            return max(1, math.ceil(60 - (now - recent[0])))
        recent.append(now)
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        sio.eio.max_http_buffer_size = self.max_body_bytes
        namespace = self.namespace or "/"
        handlers = sio.handlers[namespace]
        rasa_connect = handlers["connect"]
        rasa_disconnect = handlers["disconnect"]
        rasa_session_request = handlers["session_request"]
        rasa_message = handlers[self.user_message_evt]

        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            # Browsers always send Origin from another site; none is a same-origin page or not a browser.
            origin = (environ.get("HTTP_ORIGIN") or "").rstrip("/")
            if origin and self.allowed_origins is not None and origin not in self.allowed_origins:
                logger.warning("socketio: refused a connection from origin %r: not one of %s "
                               "(GEHOOR_WIDGET_ORIGINS, default GEHOOR_CORS_ORIGINS)", origin, ", ".join(self.allowed_origins))
                return False
            allowed = await rasa_connect(sid, environ, auth if isinstance(auth, dict) else None)
            if not allowed:
                logger.warning("socketio: refused a connection without a valid signed-session token")
            return allowed

        async def disconnect(sid: Text) -> None:
            self._recent.pop(sid, None)
            await rasa_disconnect(sid)

        async def session_request(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict):
                data = {}
            session_id = data.get("session_id")
            if session_id is not None and not (isinstance(session_id, str) and SESSION_ID_RE.match(session_id)):
                logger.warning("socketio: session_request with a malformed session id; starting a new session")
                data = {k: v for k, v in data.items() if k != "session_id"}
            await rasa_session_request(sid, data)

        async def refuse(sid: Text, data: Dict[str, Any], ack: Dict[str, Any]) -> Dict[str, Any]:
            """The acknowledgement says why; a client that sends no message_id (rasa-webchat,
            which ignores acknowledgements) also gets a bot message saying it."""
            if not data.get("message_id"):
                language = refusal_language(data.get(self.metadata_key))
                await sio.emit(self.bot_message_evt, {"text": refusal_text(ack, language)}, room=sid)
            return ack

        async def handle_message(sid: Text, data: Any = None) -> Optional[Dict[str, Any]]:
            if not isinstance(data, dict):
                logger.warning("socketio: dropped a %s that is not an object", self.user_message_evt)
                return INVALID
            session_id = data.get("session_id")
            if not (isinstance(session_id, str) and SESSION_ID_RE.match(session_id)):
                logger.warning("socketio: dropped a message with a missing or malformed session id")
                return INVALID
            message = data.get("message")
            if not isinstance(message, str):
                logger.warning("socketio: dropped a message that is not a string")
                return INVALID
            if len(message) > self.max_message_chars:
                logger.warning("socketio: dropped a message of %d characters (at most %d)", len(message), self.max_message_chars)
                return await refuse(sid, data, {"ok": False, "error": "too_long", "max_chars": self.max_message_chars,
                                                "retry": False})
            metadata = sanitize_metadata(data.get(self.metadata_key))
            if metadata is None:
                logger.warning("socketio: dropped a message whose %s is not an object", self.metadata_key)
                return INVALID
            message_id = data.get("message_id")
            if message_id is not None and not (isinstance(message_id, str) and MESSAGE_ID_RE.match(message_id)):
                logger.warning("socketio: dropped a message with a malformed message_id")
                return INVALID
            if message_id and f"{session_id}:{message_id}" in self.seen:
                logger.info("socketio: message %s of session %s was re-sent after a reconnect; already handled", message_id, session_id)
                return
            wait = self._rate_limited(sid)
            if wait:
                logger.warning("socketio: dropped a message from %s: more than %d a minute", sid, self.max_messages_per_minute)
                return await refuse(sid, data, {"ok": False, "error": "rate_limited", "retry_after": wait, "retry": True})
            key = f"{session_id}:{message_id}" if message_id else None
            if key:
                self.seen.seen(key)
                # Also in the message metadata: after a restart without Redis the resend is
                # found in the stored conversation (bot/rasa_patches/message_dedupe.py).
                metadata = {**metadata, "message_id": message_id}
            try:
                await rasa_message(sid, {"session_id": session_id, "message": message, self.metadata_key: metadata})
            except Exception:  # noqa: BLE001 — e.g. the lock store or tracker store is down
                # Not handled: forget the id so the widget's resend is processed, and say so in
                # the acknowledgement (the widget sends it again after a second).
                if key:
                    self.seen.forget(key)
                logger.exception("socketio: message %s of session %s could not be handled; "
                                 "the widget will send it again", message_id, session_id)
                return {"ok": False}
            return {"ok": True}

        sio.on("connect", connect, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return webhook
