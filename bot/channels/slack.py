"""Slack input channel (``bot.channels.slack.SlackInput``): Rasa's built-in connector,
configured from environment variables and with a few guards added in front of it.

Rasa's ``SlackInput`` verifies ``X-Slack-Signature`` (HMAC-SHA256 of
``v0:<timestamp>:<body>`` with the signing secret) and rejects timestamps more than
five minutes off. With an *empty* signing secret anyone can compute a valid signature,
so this subclass stays disabled until both the bot token and the signing secret are
set. In front of Rasa's handler it adds:

* the body-size limit → 413;
* the signature check → 403 (Rasa's own check, which answers 400, stays behind it);
* replay protection: an ``event_id`` seen before → 409 (with ``X-Slack-No-Retry: 1``);
  the signed timestamp window (5 minutes) covers everything older.

Conversation ids are ``slack:<user id>`` (or ``slack:<user>_<channel>`` with
``conversation_granularity: channel``); replies go to the Slack channel the message
came from.

Settings (credentials.yml key, or env var): ``slack_token`` / ``GEHOOR_SLACK_TOKEN``
(``xoxb-...``), ``slack_signing_secret`` / ``GEHOOR_SLACK_SIGNING_SECRET``,
``slack_channel`` / ``GEHOOR_SLACK_CHANNEL`` (optional: only listen in this channel
besides direct messages and mentions).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import common

logger = logging.getLogger("gehoor.channels.slack")

CHANNEL = "slack"


class GehoorSlackBot(SlackBot):
    """Rasa's Slack output; a namespaced recipient is turned back into the Slack id."""

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        await super()._post_message(channel=common.strip_namespace(CHANNEL, channel), **kwargs)


class SlackInput(RasaSlackInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = cls(
            common.setting(credentials, "slack_token", "GEHOOR_SLACK_TOKEN"),
            common.setting(credentials, "slack_channel", "GEHOOR_SLACK_CHANNEL"),
            credentials.get("proxy"),
            credentials.get("slack_retry_reason_header", "x-slack-retry-reason"),
            credentials.get("slack_retry_number_header", "x-slack-retry-num"),
            credentials.get("errors_ignore_retry", None),
            credentials.get("use_threads", False),
            common.setting(credentials, "slack_signing_secret", "GEHOOR_SLACK_SIGNING_SECRET", ""),
            credentials.get("conversation_granularity", "sender"),
        )
        channel.max_body_bytes = common.max_body_bytes(credentials)
        return channel

    def __init__(self, slack_token: Optional[Text], *args: Any, **kwargs: Any) -> None:
        super().__init__(slack_token or "", *args, **kwargs)
        self.max_body_bytes = common.DEFAULT_MAX_BODY_BYTES
        self.seen = common.SeenCache(3600)

    def _validate_credentials(self) -> None:
        # Neither token nor secret: the channel is simply disabled. A token without a
        # signing secret is a mistake: Rasa's check refuses to start.
        if self.slack_token or self.slack_signing_secret:
            super()._validate_credentials()

    @property
    def missing(self) -> List[str]:
        names = {"GEHOOR_SLACK_TOKEN": self.slack_token, "GEHOOR_SLACK_SIGNING_SECRET": self.slack_signing_secret}
        return [name for name, value in names.items() if not value]

    def _get_conversation_id(
        self, sender_id: Optional[Text], channel_id: Optional[Text], thread_id: Optional[Text]
    ) -> Optional[Text]:
        conversation_id = super()._get_conversation_id(sender_id, channel_id, thread_id)
        return common.namespaced(CHANNEL, conversation_id) if conversation_id else conversation_id

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return GehoorSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.missing:
            return common.disabled_blueprint(CHANNEL, ", ".join(self.missing))
        webhook = super().blueprint(on_new_message)
        limit = self.max_body_bytes

        @webhook.middleware("request")
        async def guard(request: Request) -> Optional[HTTPResponse]:
            too_big = common.check_body_size(CHANNEL, request, limit)
            if too_big or request.method != "POST" or not request.path.endswith("/webhook"):
                return too_big
            if not request.headers.get("x-slack-signature"):
                return common.reject(CHANNEL, 403, "missing X-Slack-Signature header", request)
            if not self.is_request_from_slack_authentic(request):
                return common.reject(CHANNEL, 403, "invalid X-Slack-Signature or stale timestamp", request)
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            if content_type == "application/json":
                data, error = common.parse_json_body(CHANNEL, request)
                if error:
                    return error
                kind = data.get("type")
                if kind not in ("url_verification", "event_callback"):
                    return common.reject(CHANNEL, 400, f"unknown Slack payload type {kind!r}", request)
                event_id = data.get("event_id")
                if kind == "event_callback" and event_id and self.seen.seen(f"event:{event_id}"):
                    resp = common.reject(CHANNEL, 409, f"replayed event_id {event_id} (already handled)", request)
                    resp.headers["X-Slack-No-Retry"] = "1"
                    return resp
            elif content_type == "application/x-www-form-urlencoded":
                try:
                    payload = json.loads((request.form or {}).get("payload") or "")
                except (TypeError, ValueError):
                    return common.reject(CHANNEL, 400, "malformed interactive payload", request)
                if not isinstance(payload, dict):
                    return common.reject(CHANNEL, 400, "malformed interactive payload", request)
            else:
                return common.reject(CHANNEL, 400, f"unsupported content type {content_type!r}", request)
            return None

        return webhook
