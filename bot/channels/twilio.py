"""Twilio (SMS / WhatsApp) input channel (``bot.channels.twilio.TwilioInput``).

Rasa's ``TwilioInput`` does not check ``X-Twilio-Signature``. This subclass keeps
Rasa's handler and output (``TwilioOutput``) and adds, before the handler runs:

* the body-size limit → 413;
* ``X-Twilio-Signature`` validation with ``twilio.request_validator.RequestValidator``
  against the *public* webhook URL (``GEHOOR_TWILIO_WEBHOOK_URL``: proxies and TLS
  terminators change the URL Rasa sees, and Twilio signs the URL it called) → 403;
* a missing ``From``/``Body`` → 400;
* replay protection: a ``MessageSid`` seen before → 409 (Twilio signs no timestamp).

Sender ids are ``twilio:<From>`` (e.g. ``twilio:whatsapp:+31612345678``); replies go
to the number without the prefix.

Settings (credentials.yml key, or env var): ``account_sid`` / ``GEHOOR_TWILIO_ACCOUNT_SID``,
``auth_token`` / ``GEHOOR_TWILIO_AUTH_TOKEN``, ``twilio_number`` / ``GEHOOR_TWILIO_NUMBER``
(``+31...`` or ``whatsapp:+31...``), ``webhook_url`` / ``GEHOOR_TWILIO_WEBHOOK_URL``.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput as RasaTwilioInput
from rasa.core.channels.twilio import TwilioOutput as RasaTwilioOutput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels import common

logger = logging.getLogger("gehoor.channels.twilio")

CHANNEL = "twilio"


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

    def signature_valid(self, request: Request) -> bool:
        signature = request.headers.get("x-twilio-signature")
        if not signature or not self.auth_token:
            return False
        params = {key: values[0] for key, values in request.form.items()} if request.form else {}
        try:
            return RequestValidator(self.auth_token).validate(self.signed_url(request), params, signature)
        except Exception as exc:  # noqa: BLE001 - a malformed request must never crash the channel
            logger.warning("twilio: signature validation failed on a malformed request: %s", exc)
            return False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.missing:
            return common.disabled_blueprint(CHANNEL, ", ".join(self.missing))

        async def namespaced_on_new_message(message: UserMessage) -> Any:
            message.sender_id = common.namespaced(CHANNEL, message.sender_id)
            return await on_new_message(message)

        webhook = super().blueprint(namespaced_on_new_message)
        limit = self.max_body_bytes

        @webhook.middleware("request")
        async def guard(request: Request) -> Optional[HTTPResponse]:
            too_big = common.check_body_size(CHANNEL, request, limit)
            if too_big or request.method != "POST":
                return too_big
            if not request.headers.get("x-twilio-signature"):
                return common.reject(CHANNEL, 403, "missing X-Twilio-Signature header", request)
            if not self.signature_valid(request):
                return common.reject(CHANNEL, 403, "invalid X-Twilio-Signature", request)
            form = request.form or {}
            if not form.get("From") or form.get("Body") is None:
                return common.reject(CHANNEL, 400, "not a Twilio message (From/Body missing)", request)
            sid = form.get("MessageSid") or form.get("SmsSid")
            if sid and self.seen.seen(f"sid:{sid}"):
                return common.reject(CHANNEL, 409, f"replayed MessageSid {sid} (already handled)", request)
            return None

        return webhook
