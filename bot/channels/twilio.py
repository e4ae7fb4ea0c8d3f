"""Twilio (SMS / WhatsApp) input channel (``bot.channels.twilio.TwilioInput``).

Rasa's ``TwilioInput`` does not check ``X-Twilio-Signature``, reads Sanic's ``request.form``
(which drops the blank values Twilio signs) and drops a message without text. This
subclass keeps Rasa's output (``TwilioOutput``) and handles the webhook itself:

* the body-size limit → 413;
* ``X-Twilio-Signature`` validation with ``twilio.request_validator.RequestValidator``
  over the raw body parsed with blank values kept, against the *public* webhook URL
  (``GEHOOR_TWILIO_WEBHOOK_URL``: proxies and TLS terminators change the URL Rasa sees,
  and Twilio signs the URL it called) → 403;
* a missing ``From``/``Body`` → 400;
* replay protection: a ``MessageSid`` seen before → 409 (Twilio signs no timestamp);
* media or a location without text → ``nlu_fallback`` describing what came in
  (``inbound_message``), so the customer gets an answer and the transcript shows it.

Sender ids are ``twilio:<From>`` (e.g. ``twilio:whatsapp:+31612345678``); replies go
to the number without the prefix.

Settings (credentials.yml key, or env var): ``account_sid`` / ``GEHOOR_TWILIO_ACCOUNT_SID``,
``auth_token`` / ``GEHOOR_TWILIO_AUTH_TOKEN``, ``twilio_number`` / ``GEHOOR_TWILIO_NUMBER``
(``+31...`` or ``whatsapp:+31...``), ``webhook_url`` / ``GEHOOR_TWILIO_WEBHOOK_URL``.
"""
from __future__ import annotations

import logging
import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qsl

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput as RasaTwilioInput
from rasa.core.channels.twilio import TwilioOutput as RasaTwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels import common

logger = logging.getLogger("gehoor.channels.twilio")

CHANNEL = "twilio"
MAX_MEDIA = 10  # Twilio's limit per message


class TwilioOutput(RasaTwilioOutput):
    """Rasa's Twilio output, with the channel prefix taken off the recipient."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await super().send_text_message(common.strip_namespace(CHANNEL, recipient_id), text, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        # SMS/WhatsApp have no buttons: list the options, the customer types one.
        options = " / ".join(str(b.get("title", "")) for b in buttons)
        await self.send_text_message(recipient_id, f"{text}\n({options})" if options else text)


class TwilioInput(RasaTwilioInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            common.setting(credentials, "account_sid", "GEHOOR_TWILIO_ACCOUNT_SID"),
            common.setting(credentials, "auth_token", "GEHOOR_TWILIO_AUTH_TOKEN"),
            common.setting(credentials, "twilio_number", "GEHOOR_TWILIO_NUMBER"),
            webhook_url=common.setting(credentials, "webhook_url", "GEHOOR_TWILIO_WEBHOOK_URL"),
            max_body_bytes=common.max_body_bytes(credentials),
            replay_window_seconds=common.replay_window_seconds(credentials),
        )

    def __init__(
        self,
        account_sid: Optional[Text],
        auth_token: Optional[Text],
        twilio_number: Optional[Text],
        debug_mode: bool = False,
        webhook_url: Optional[Text] = None,
        max_body_bytes: int = common.DEFAULT_MAX_BODY_BYTES,
        replay_window_seconds: int = common.DEFAULT_REPLAY_WINDOW_SECONDS,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=debug_mode)
        self.webhook_url = webhook_url
        self.max_body_bytes = max_body_bytes
        self.seen = common.SeenCache(max(replay_window_seconds, 24 * 3600))

    @property
    def missing(self) -> List[str]:
        names = {
            "GEHOOR_TWILIO_ACCOUNT_SID": self.account_sid,
            "GEHOOR_TWILIO_AUTH_TOKEN": self.auth_token,
            "GEHOOR_TWILIO_NUMBER": self.twilio_number,
        }
        return [name for name, value in names.items() if not value]

    def get_output_channel(self) -> OutputChannel:
        return TwilioOutput(self.account_sid, self.auth_token, self.twilio_number)

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public URL (plus the query string), else the request URL."""
        if not self.webhook_url:
            return request.url
        query = request.query_string
        return f"{self.webhook_url}?{query}" if query and "?" not in self.webhook_url else self.webhook_url

    def signature_valid(self, request: Request, params: RequestParameters) -> bool:
        signature = request.headers.get("x-twilio-signature")
        if not signature or not self.auth_token:
            return False
        try:
            return RequestValidator(self.auth_token).validate(self.signed_url(request), params, signature)
        except Exception as exc:  # noqa: BLE001 - a malformed request must never crash the channel
            logger.warning("twilio: signature validation failed on a malformed request: %s", exc)
            return False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.missing:
            return common.disabled_blueprint(CHANNEL, ", ".join(self.missing))
        webhook = Blueprint("twilio_webhook", __name__)
        limit = self.max_body_bytes

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            too_big = common.check_body_size(CHANNEL, request, limit)
            if too_big:
                return too_big
            if not request.headers.get("x-twilio-signature"):
                return common.reject(CHANNEL, 403, "missing X-Twilio-Signature header", request)
            form = form_with_blanks(request)
            if form is None:
                return common.reject(CHANNEL, 400, "body is not application/x-www-form-urlencoded UTF-8", request)
            if not self.signature_valid(request, form):
                return common.reject(CHANNEL, 403, "invalid X-Twilio-Signature", request)
            inbound = inbound_message(form)
            if inbound is None:
                return common.reject(CHANNEL, 400, "not a Twilio message (From/Body missing)", request)
            sid = inbound.metadata.get("message_sid")
            if sid and self.seen.seen(f"sid:{sid}"):
                return common.reject(CHANNEL, 409, f"replayed MessageSid {sid} (already handled)", request)
            sender = form.get("From")
            try:
                await on_new_message(UserMessage(
                    inbound.text, self.get_output_channel(), common.namespaced(CHANNEL, sender),
                    input_channel=CHANNEL, metadata=inbound.metadata,
                ))
            except Exception:  # noqa: BLE001 - e.g. the lock store or tracker store is down
                # Not handled: forget the MessageSid so Twilio's retry (it retries on 5xx) is handled.
                if sid:
                    self.seen.forget(f"sid:{sid}")
                logger.exception("twilio: message %s could not be handled; answering 503 so Twilio retries", sid)
                return response.text("temporarily unavailable", status=503)
            return response.text("", status=204)

        return webhook


def form_with_blanks(request: Request) -> Optional[RequestParameters]:
    """The POSTed parameters with blank values kept: Twilio signs ``FromCity=`` and ``Body=``
    too, and Sanic's ``request.form`` drops them (the signature would never match)."""
    try:
        raw = (request.body or b"").decode("utf-8")
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        return None
    form = RequestParameters()
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


@dataclass
class Inbound:
    text: str
    metadata: Dict[str, Any] = field(default_factory=dict)


def inbound_message(form: RequestParameters) -> Optional[Inbound]:
    """What the customer sent, as the text Rasa gets, or None when this is no message.

    A caption is the message. A photo, voice note, file or location without text is sent
    as Rasa's ``nlu_fallback`` (never an answer to the open question: the bot asks again)
    with what came in, so the transcript shows that a photo was sent and staff can find
    it at Twilio by its MessageSid. (Rasa's own connector crashes on these and drops them.)
    """
    body = form.get("Body")
    if not form.get("From") or body is None:
        return None
    metadata: Dict[str, Any] = {"message_sid": form.get("MessageSid") or form.get("SmsSid")}
    media = [{"content_type": form.get(f"MediaContentType{i}") or "unknown"} for i in range(media_count(form))]
    if media:
        metadata["media"] = media
    if form.get("Latitude") and form.get("Longitude"):
        metadata["location"] = True  # the coordinates stay at Twilio: not needed for feedback
    text = body.replace("\u00a1", "@")  # some carriers turn @ into an inverted exclamation mark
    if text.strip():
        return Inbound(text, metadata)
    kinds = [m["content_type"] for m in media] + (["location"] if metadata.get("location") else [])
    described = {"received": ", ".join(kinds) or "empty message", "message_sid": metadata["message_sid"]}
    return Inbound(f"/nlu_fallback{json.dumps(described)}", metadata)


def media_count(form: RequestParameters) -> int:
    try:
        return max(0, min(int(form.get("NumMedia") or 0), MAX_MEDIA))
    except ValueError:
        return 0
