"""Facebook Messenger input channel (``bot.channels.messenger.MessengerInput``).

Webhook: ``GET/POST /webhooks/messenger/webhook``.

* ``GET``: the verify-token handshake (``hub.mode=subscribe``, ``hub.verify_token``,
  ``hub.challenge``).
* ``POST``: checks the body size, then ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw
  body with the app secret, constant-time compare) → 403 when missing or wrong;
  then handles text messages, quick replies and postbacks (``GET_STARTED`` is a
  greeting, never an answer); a photo, sticker, voice note, file or location without
  text is answered and recorded with its URL or sticker id; an edit is recorded, not
  answered; echoes, deliveries and reads are acknowledged and ignored. Retries: a
  message id already handled → 200, not handled again; an event older than the replay
  window → 403.

Replies go to ``{graph_api_url}/me/messages`` with the page access token; buttons
become quick replies. Sender ids are ``messenger:<psid>``.

Settings (credentials.yml key, or env var): ``verify_token`` /
``GEHOOR_MESSENGER_VERIFY_TOKEN``, ``app_secret`` / ``GEHOOR_MESSENGER_APP_SECRET``,
``page_access_token`` / ``GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN``, ``graph_api_url`` /
``GEHOOR_MESSENGER_GRAPH_API_URL`` (default ``https://graph.facebook.com/v18.0``).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import common

logger = logging.getLogger("gehoor.channels.messenger")

CHANNEL = "messenger"
DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v18.0"
MAX_TEXT = 2000  # Messenger's limit for one text message
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000
IGNORED_EVENTS = ("delivery", "read", "reaction", "optin", "referral", "account_linking", "policy_enforcement")
# The payload the page's Get Started button sends (Messenger Profile API, docs/channels.md).
GET_STARTED_PAYLOADS = ("GET_STARTED",)
# Messenger's like (thumbs-up) button sends one of these stickers (small, medium, large).
LIKE_STICKER_IDS = (369239263222822, 369239343222814, 369239383222810)
# Attachment types as the transcript names them.
ATTACHMENT_KINDS = {"image": "photo", "audio": "voice note", "video": "video", "file": "file",
                    "location": "location", "fallback": "link"}


@dataclass
class Inbound:
    """One messaging event: ``message`` (answered), ``edit`` (recorded, not answered),
    ``ignored`` (known, nothing to do) or ``unknown``. ``key`` is the id retries repeat."""

    kind: str
    text: Optional[str] = None
    key: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)


def _whole_number(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def attachments_as_media(message: Dict[str, Any]) -> List[common.Media]:
    """A message's attachments with their URL; a sticker (the like button too) once, by its id,
    though Meta sends it as an "image" and, since 2026, also as a "sticker" attachment.
    Coordinates of a shared location are not kept: feedback does not need them."""
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    sticker_id = message.get("sticker_id")
    for attachment in attachments:
        sticker_id = sticker_id or (attachment.get("payload") or {}).get("sticker_id")
    media: List[common.Media] = []
    if sticker_id:
        kind = "like" if _whole_number(sticker_id) in LIKE_STICKER_IDS else "sticker"
        media.append(common.Media(kind, {"sticker_id": sticker_id}))
    for attachment in attachments:
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        kind = str(attachment.get("type") or "attachment")
        if sticker_id and (kind == "sticker" or payload.get("sticker_id")):
            continue
        kind = ATTACHMENT_KINDS.get(kind, kind)
        url = payload.get("url") if kind != "location" else None
        media.append(common.Media(kind, {"url": url} if isinstance(url, str) and url else {}))
    return media


class MessengerOutput(OutputChannel):
    """Sends replies through the Graph API Send API."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def __init__(self, page_access_token: Text, graph_api_url: Text = DEFAULT_GRAPH_API_URL, timeout: float = 10) -> None:
        self.page_access_token = page_access_token
        self.graph_api_url = graph_api_url.rstrip("/")
        self.timeout = timeout

    async def _send(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        payload = {
            "recipient": {"id": common.strip_namespace(CHANNEL, recipient_id)},
            "messaging_type": "RESPONSE",
            "message": message,
        }
        url = f"{self.graph_api_url}/me/messages"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                async with session.post(url, params={"access_token": self.page_access_token}, json=payload) as resp:
                    if resp.status >= 300:
                        body = (await resp.text())[:500]
                        logger.error("messenger: Send API answered %s for %s: %s", resp.status, payload["recipient"]["id"], body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.error("messenger: could not reach the Send API at %s: %s", url, exc)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in common.split_text(text, MAX_TEXT):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        parts = common.split_text(text, MAX_TEXT) or [""]
        for part in parts[:-1]:
            await self._send(recipient_id, {"text": part})
        if len(buttons) > MAX_QUICK_REPLIES:
            logger.warning("messenger: %d buttons, only the first %d are sent", len(buttons), MAX_QUICK_REPLIES)
        quick_replies = [
            {
                "content_type": "text",
                "title": str(button.get("title", ""))[:MAX_QUICK_REPLY_TITLE],
                "payload": str(button.get("payload", button.get("title", "")))[:MAX_PAYLOAD],
            }
            for button in buttons[:MAX_QUICK_REPLIES]
        ]
        await self._send(recipient_id, {"text": parts[-1], "quick_replies": quick_replies})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(
            recipient_id, {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}}
        )


class MessengerInput(InputChannel):
    """Facebook Messenger webhook with signature verification and replay protection."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            verify_token=common.setting(credentials, "verify_token", "GEHOOR_MESSENGER_VERIFY_TOKEN"),
            app_secret=common.setting(credentials, "app_secret", "GEHOOR_MESSENGER_APP_SECRET"),
            page_access_token=common.setting(credentials, "page_access_token", "GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN"),
            graph_api_url=common.setting(
                credentials, "graph_api_url", "GEHOOR_MESSENGER_GRAPH_API_URL", DEFAULT_GRAPH_API_URL
            ),
            max_body_bytes=common.max_body_bytes(credentials),
            replay_window_seconds=common.replay_window_seconds(credentials),
        )

    def __init__(
        self,
        verify_token: Optional[Text],
        app_secret: Optional[Text],
        page_access_token: Optional[Text],
        graph_api_url: Text = DEFAULT_GRAPH_API_URL,
        max_body_bytes: int = common.DEFAULT_MAX_BODY_BYTES,
        replay_window_seconds: int = common.DEFAULT_REPLAY_WINDOW_SECONDS,
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.page_access_token = page_access_token
        self.graph_api_url = graph_api_url
        self.max_body_bytes = max_body_bytes
        self.replay_window_seconds = replay_window_seconds
        self.seen = common.SeenCache(replay_window_seconds)

    @property
    def missing(self) -> List[str]:
        names = {
            "GEHOOR_MESSENGER_VERIFY_TOKEN": self.verify_token,
            "GEHOOR_MESSENGER_APP_SECRET": self.app_secret,
            "GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN": self.page_access_token,
        }
        return [name for name, value in names.items() if not value]

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.page_access_token or "", self.graph_api_url)

    def signature_valid(self, body: bytes, header: Optional[str]) -> bool:
        if not header or not header.startswith("sha256=") or not self.app_secret:
            return False
        expected = "sha256=" + hmac.new(self.app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        return common.constant_time_equals(expected, header.strip())

    @staticmethod
    def _classify(event: Dict[str, Any]) -> Inbound:
        """What one ``messaging`` event is: a message to answer, an edit to record, or nothing."""
        message = event.get("message")
        if isinstance(message, dict):
            mid = message.get("mid")
            if message.get("is_echo"):
                return Inbound("ignored", key=mid)
            quick_reply = message.get("quick_reply")
            if isinstance(quick_reply, dict) and isinstance(quick_reply.get("payload"), str):
                return Inbound("message", quick_reply["payload"], mid)
            media = attachments_as_media(message)
            text = common.text_or_media(message.get("text") if isinstance(message.get("text"), str) else None, media)
            if text is None:
                return Inbound("unknown", key=mid)
            return Inbound("message", text, mid, common.media_metadata(media))
        edit = event.get("message_edit")
        if isinstance(edit, dict):
            if not isinstance(edit.get("text"), str) or not edit.get("mid"):
                return Inbound("unknown")
            extra = {"edit_of": edit["mid"], "num_edit": _whole_number(edit.get("num_edit"))}
            return Inbound("edit", edit["text"], f"edit:{edit['mid']}:{extra['num_edit']}", extra)
        postback = event.get("postback")
        if isinstance(postback, dict):
            payload = postback.get("payload")
            if payload in GET_STARTED_PAYLOADS:
                # A greeting, never an answer: at the start it opens the conversation, in the
                # middle the open question is asked again (docs/channels.md).
                return Inbound("message", "/greet", postback.get("mid"), {"postback": payload})
            text = payload or postback.get("title")
            if isinstance(text, str):
                return Inbound("message", text, postback.get("mid"))
            return Inbound("unknown")
        if any(key in event for key in IGNORED_EVENTS):
            return Inbound("ignored")
        return Inbound("unknown")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.missing:
            return common.disabled_blueprint(CHANNEL, ", ".join(self.missing))

        webhook = Blueprint("gehoor_messenger_webhook", __name__)
        common.add_size_guard(webhook, CHANNEL, self.max_body_bytes)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if request.args.get("hub.mode") == "subscribe" and common.constant_time_equals(
                self.verify_token, request.args.get("hub.verify_token")
            ):
                return response.text(request.args.get("hub.challenge", ""))
            return common.reject(CHANNEL, 403, "verify token mismatch", request)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not request.headers.get("x-hub-signature-256"):
                return common.reject(CHANNEL, 403, "missing X-Hub-Signature-256 header", request)
            if not self.signature_valid(request.body or b"", request.headers.get("x-hub-signature-256")):
                return common.reject(CHANNEL, 403, "invalid X-Hub-Signature-256 signature", request)
            data, error = common.parse_json_body(CHANNEL, request)
            if error:
                return error
            if data.get("object") != "page" or not isinstance(data.get("entry"), list):
                return common.reject(CHANNEL, 400, f"unknown webhook object {data.get('object')!r}", request)

            # Validate everything first, so a bad request stores nothing.
            to_handle: List[tuple[str, Inbound, Dict[str, Any]]] = []
            known = duplicates = stale = 0
            now_ms = time.time() * 1000
            for entry in data["entry"]:
                if not isinstance(entry, dict) or not isinstance(entry.get("messaging", []), list):
                    return common.reject(CHANNEL, 400, "malformed entry", request)
                if "standby" in entry and "messaging" not in entry:
                    known += 1  # handover protocol: another app owns the thread; nothing for us
                    continue
                for event in entry.get("messaging", []):
                    if not isinstance(event, dict):
                        return common.reject(CHANNEL, 400, "malformed messaging event", request)
                    inbound = self._classify(event)
                    if inbound.kind == "unknown":
                        continue
                    known += 1
                    if inbound.kind == "ignored":
                        continue
                    psid = (event.get("sender") or {}).get("id")
                    if not psid:
                        return common.reject(CHANNEL, 400, "message without sender id", request)
                    timestamp = event.get("timestamp")
                    if isinstance(timestamp, (int, float)) and now_ms - timestamp > self.replay_window_seconds * 1000:
                        stale += 1
                        continue
                    key = inbound.key or f"{psid}:{timestamp}:{inbound.text}"
                    if key in self.seen or any(k == key for k, _, _ in to_handle):
                        duplicates += 1
                        continue
                    metadata = {"page_id": entry.get("id")}
                    if inbound.kind == "message":
                        metadata["message_id"] = inbound.key
                    metadata.update(inbound.metadata)
                    to_handle.append((key, inbound, {"psid": str(psid), "metadata": metadata}))

            if known == 0:
                return common.reject(CHANNEL, 400, "no supported messaging event in request", request)
            if not to_handle and stale:
                return common.reject(CHANNEL, 403, "event timestamp outside the replay window", request)
            if duplicates:
                # Meta's retry of a delivery it thought failed: 200 stops the retries; each
                # message is answered once (a 4xx would only make Meta retry again).
                logger.info("messenger: %d message(s) already handled; acknowledged, not answered again", duplicates)

            # Claimed before the first await: a retry arriving while these are answered is a
            # duplicate. What was not handled because of an error is released for the retry.
            pending = [key for key, _, _ in to_handle if not self.seen.seen(key)]
            output = self.get_output_channel()
            try:
                for key, inbound, info in to_handle:
                    message = UserMessage(
                        inbound.text,
                        output,
                        common.namespaced(CHANNEL, info["psid"]),
                        input_channel=CHANNEL,
                        metadata=info["metadata"],
                    )
                    if inbound.kind == "edit":
                        await common.record_without_answer(request, message)
                    else:
                        await on_new_message(message)
                    pending.remove(key)
            except common.NotReady as exc:
                return common.reject(CHANNEL, 503, str(exc), request)
            finally:
                for key in pending:
                    self.seen.forget(key)
            return response.text("EVENT_RECEIVED")

        return webhook
