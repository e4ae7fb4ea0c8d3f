"""Token-protected REST channel (``bot.channels.rest_token.TokenRestInput``).

Rasa's ``rest`` channel has no authentication: anyone who can reach it can write into
any conversation by choosing its ``sender``. Gehoor keeps plain ``rest`` for local
development and tests only (see docs/channels.md, "REST"). For integrations in
production use this channel instead:

    POST /webhooks/rest_token/webhook
    Authorization: Bearer <GEHOOR_REST_TOKEN>
    {"sender": "customer-42", "message": "8", "metadata": {...}}

The token is compared in constant time (401 when missing or wrong). The body must be a
JSON object with string ``sender`` (≤ 128 chars) and ``message`` (≤ 4000 chars), and an
optional object ``metadata`` (400 otherwise); bodies over the size limit → 413. The
client cannot choose the ``input_channel`` (always ``rest_token``), and sender ids are
namespaced (``rest_token:customer-42``), so a REST client cannot write into a
Messenger or widget conversation.

Settings: ``token`` / ``GEHOOR_REST_TOKEN`` (disabled when unset).
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import common

CHANNEL = "rest_token"
MAX_SENDER_CHARS = 128


class TokenRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            token=common.setting(credentials, "token", "GEHOOR_REST_TOKEN"),
            max_body_bytes=common.max_body_bytes(credentials),
        )

    def __init__(self, token: Optional[Text] = None, max_body_bytes: int = common.DEFAULT_MAX_BODY_BYTES) -> None:
        self.token = token
        self.max_body_bytes = max_body_bytes

    @property
    def missing(self) -> List[str]:
        return [] if self.token else ["GEHOOR_REST_TOKEN"]

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return common.namespaced(CHANNEL, req.json["sender"])

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        # The client's message id rides along, so a resend is answered once (message_dedupe).
        return common.client_message_metadata(request, super().get_metadata(request))

    def _extract_input_channel(self, req: Request) -> Text:
        return CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.missing:
            return common.disabled_blueprint(CHANNEL, ", ".join(self.missing))
        webhook = super().blueprint(on_new_message)
        limit = self.max_body_bytes

        @webhook.middleware("request")
        async def guard(request: Request) -> Optional[HTTPResponse]:
            too_big = common.check_body_size(CHANNEL, request, limit)
            if too_big or request.method != "POST":
                return too_big
            auth = request.headers.get("authorization") or ""
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not common.constant_time_equals(self.token, given.strip()):
                resp = common.reject(CHANNEL, 401, "missing or wrong bearer token", request)
                resp.headers["WWW-Authenticate"] = 'Bearer realm="gehoor"'
                return resp
            data, error = common.parse_json_body(CHANNEL, request)
            if error:
                return error
            sender, message, metadata = data.get("sender"), data.get("message"), data.get("metadata")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return common.reject(CHANNEL, 400, f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters", request)
            if not isinstance(message, str) or len(message) > common.DEFAULT_MAX_MESSAGE_CHARS:
                return common.reject(CHANNEL, 400, f"'message' must be a string of at most {common.DEFAULT_MAX_MESSAGE_CHARS} characters", request)
            if metadata is not None and not isinstance(metadata, dict):
                return common.reject(CHANNEL, 400, "'metadata' must be an object", request)
            return None

        return webhook
