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
``slack_channel`` / ``GEHOOR_SLACK_CHANNEL`` (Rasa's setting; the survey still runs in
direct messages only).

Gehoor's additions in front of Rasa's handler: only direct messages reach the bot (one
story per person); a mention in a channel is declined politely in its thread, other
channel messages are ignored. Emoji shortcodes become emoji (``slack_text``: ``:+1:`` is
a thumbs-up, not the score 1), and buttons are sent in rows of five (the 0-10 score).
"""
from __future__ import annotations

import html
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import emoji

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import config
from bot.channels import common

logger = logging.getLogger("gehoor.channels.slack")

CHANNEL = "slack"
BUTTONS_PER_ROW = 5  # Rasa sent no buttons at all above 5; rows of 5 are what Slack shows well
SKIN_TONES = {str(n): chr(0x1F3FB + n - 2) for n in range(2, 7)}  # :skin-tone-2: .. :skin-tone-6:
SKIN_TONE_RE = re.compile(r":skin-tone-([2-6]):")
# What is left after emoji.emojize: a workspace's custom emoji (a name with a letter in it,
# so "10:30:00" is left alone).
SHORTCODE_RE = re.compile(r":(?=[a-z0-9_+'-]*[a-z+-])[a-z0-9_+'-]+:")
DECLINE = {
    "nl": "Hoi <@{user}>, feedback verzamel ik één-op-één, niet in een kanaal. "
          "Stuur me een direct bericht, dan luister ik graag.",
    "en": "Hi <@{user}>, I collect feedback one-to-one, not in a channel. "
          "Send me a direct message and I'm happy to listen.",
}


def slack_text(text: str) -> str:
    """What the customer typed, as the bot should read it: Slack writes emoji as shortcodes
    (``:+1:``), which the score parser would read as the number 1. They become the emoji
    itself (``emoji``'s alias names are Slack's); custom workspace emoji are dropped."""
    text = SKIN_TONE_RE.sub(lambda m: SKIN_TONES[m.group(1)], text)
    text = emoji.emojize(text, language="alias")
    text = SHORTCODE_RE.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def score_rows(buttons: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """Buttons as ``actions`` blocks of at most BUTTONS_PER_ROW (0-10 → 5 + 5 + 1)."""
    elements = [
        {"type": "button", "action_id": f"gehoor_button_{i}",
         "text": {"type": "plain_text", "text": str(b.get("title", ""))[:75] or " "},
         "value": str(b.get("payload", b.get("title", "")))[:2000]}
        for i, b in enumerate(buttons)
    ]
    return [{"type": "actions", "elements": elements[i:i + BUTTONS_PER_ROW]}
            for i in range(0, len(elements), BUTTONS_PER_ROW)]


class GehoorSlackBot(SlackBot):
    """Rasa's Slack output; a namespaced recipient is turned back into the Slack id, and
    buttons come in rows (Rasa drops them all when there are more than 5: the 0-10 score)."""

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        await super()._post_message(channel=common.strip_namespace(CHANNEL, channel), **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        if not buttons:
            return await self.send_text_message(recipient_id, text, **kwargs)
        section = {"type": "section", "text": {"type": "plain_text", "text": text}}
        await self._post_message(channel=self.slack_channel or recipient_id, as_user=True, text=text,
                                 blocks=[section, *score_rows(buttons)])


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

    @staticmethod
    def _sanitize_user_message(text: Text, uids_to_remove: Optional[List[Text]]) -> Text:
        text = RasaSlackInput._sanitize_user_message(text, uids_to_remove)
        return slack_text(html.unescape(text))  # Slack escapes &, < and > in message text

    async def decline_in_channel(self, event: Dict[str, Any]) -> None:
        """A mention in a channel: answer in its thread that feedback goes by direct message.
        The survey never runs in public, and a channel is never one person's story."""
        language = config.default_language() if config.default_language() in DECLINE else "en"
        text = DECLINE[language].format(user=event.get("user", ""))
        output = GehoorSlackBot(self.slack_token, None, None, self.proxy)
        try:
            await output._post_message(channel=event["channel"], as_user=True, text=text, type="mrkdwn",
                                       thread_ts=event.get("thread_ts") or event.get("ts"))
        except Exception as exc:  # noqa: BLE001 - the decline is a courtesy; Slack must still get 200
            logger.warning("slack: could not post the decline in %s: %s", event.get("channel"), exc)

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
                event = data.get("event") if isinstance(data.get("event"), dict) else {}
                if kind == "event_callback" and not event.get("bot_id"):
                    # Only direct messages run the survey, one story per person (slack:<user>).
                    if event.get("type") == "app_mention":
                        logger.info("slack: declined a mention in channel %s (feedback goes by direct message)",
                                    event.get("channel"))
                        await self.decline_in_channel(event)
                        return response.text("declined: feedback by direct message only")
                    if event.get("type") == "message" and event.get("channel_type") != "im":
                        return response.text("ignored: not a direct message")
                    if event.get("type") == "message" and not event.get("user"):
                        return response.text("ignored: no user")
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
