"""Plain REST for development and tests only (``bot.channels.rest_dev.DevRestInput``).

Rasa's ``rest`` channel (``POST /webhooks/rest/webhook {"sender", "message"}``) has no
authentication: whoever reaches it can write into any conversation by choosing its
``sender``, e.g. ``messenger:<psid>``. This channel keeps that URL and body for local
development, the test suites and the benchmarks, but:

* it is **off** (``POST`` → 404, health ``{"status": "disabled"}``) unless
  ``GEHOOR_REST_DEV=1`` (``bot.config.rest_dev_enabled``); ``make run`` and the test and
  benchmark harnesses set it, the production profile and the deploy manifests do not;
* a ``sender`` in another channel's namespace (``messenger:…``, ``telegram:…``,
  ``slack:…``, ``twilio:…``, ``rest_token:…``, ``socketio:…``) or shaped like a widget
  session id (32 hex characters) → 403, nothing stored;
* the client cannot choose ``input_channel`` (always ``rest``); a body that is not
  ``{"sender": str, "message": str}`` → 400 (Rasa's handler answered 500). No body-size
  limit of its own: the suites send 100 KB messages; nginx limits them in the profile.

For integrations in production use ``bot.channels.rest_token.TokenRestInput``.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import config
from bot.channels import common
from bot.channels.messenger import MessengerInput
from bot.channels.rest_token import MAX_SENDER_CHARS, TokenRestInput
from bot.channels.slack import SlackInput
from bot.channels.socketio import SESSION_ID_RE, SocketIOInput
from bot.channels.telegram import TelegramInput
from bot.channels.twilio import TwilioInput

logger = logging.getLogger("gehoor.channels.rest")

CHANNEL = "rest"
# Every other channel's sender namespace (common.namespaced): a REST sender must not land there.
OTHER_CHANNELS = tuple(c.name() for c in (MessengerInput, TelegramInput, SlackInput, TwilioInput,
                                           TokenRestInput, SocketIOInput))


def foreign_namespace(sender: str) -> Optional[str]:
    """The channel whose conversations ``sender`` would write into, or None."""
    for channel in OTHER_CHANNELS:
        if common.strip_namespace(channel, sender) != sender:
            return channel
    if SESSION_ID_RE.match(sender):
        return SocketIOInput.name()  # widget conversations are keyed by their bare session id
    return None


class DevRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(enabled=config.rest_dev_enabled())

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        # The client's message id rides along, so a resend is answered once (message_dedupe).
        return common.client_message_metadata(request, super().get_metadata(request))

    def _extract_input_channel(self, req: Request) -> Text:
        return CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.enabled:
            return common.disabled_blueprint(CHANNEL, "GEHOOR_REST_DEV=1 (development and tests only)")
        logger.warning("channel rest: unauthenticated REST is on (GEHOOR_REST_DEV); never in production")
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def guard(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            data, error = common.parse_json_body(CHANNEL, request)
            if error:
                return error
            sender, message = data.get("sender"), data.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return common.reject(CHANNEL, 400, f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters", request)
            if not isinstance(message, str):
                return common.reject(CHANNEL, 400, "'message' must be a string", request)
            owner = foreign_namespace(sender)
            if owner:
                return common.reject(CHANNEL, 403, f"sender {sender!r} belongs to the {owner} channel", request)
            return None

        return webhook
