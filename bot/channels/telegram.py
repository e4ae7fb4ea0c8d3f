"""Telegram input channel (``bot.channels.telegram.TelegramInput``).

Unlike Rasa's built-in Telegram channel this one makes no network call at start-up:
the webhook is set only by the explicit command ``gehoor channels telegram set-webhook``.

Webhook: ``POST /webhooks/telegram/webhook``. Checks the body size, then the
``X-Telegram-Bot-Api-Secret-Token`` header (constant time) → 403; handles ``message``
(text) and ``callback_query`` (inline keyboard clicks) updates; other messages (photos,
stickers) and edits are acknowledged and ignored; unknown update types → 400.
A repeated ``update_id`` → 409. Replies use ``sendMessage`` with an inline keyboard
for buttons. Sender ids are ``telegram:<chat id>``.

Settings (credentials.yml key, or env var): ``access_token`` / ``GEHOOR_TELEGRAM_TOKEN``,
``secret_token`` / ``GEHOOR_TELEGRAM_SECRET_TOKEN``, ``webhook_url`` /
``GEHOOR_TELEGRAM_WEBHOOK_URL`` (public https URL, used by set-webhook), ``api_url`` /
``GEHOOR_TELEGRAM_API_URL`` (default ``https://api.telegram.org``).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import common

logger = logging.getLogger("gehoor.channels.telegram")

CHANNEL = "telegram"
DEFAULT_API_URL = "https://api.telegram.org"
MAX_TEXT = 4096
MAX_CALLBACK_DATA_BYTES = 64
ALLOWED_UPDATES = ["message", "callback_query"]
IGNORED_UPDATES = ("edited_message", "channel_post", "edited_channel_post", "my_chat_member", "chat_member")
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def keyboard_rows(buttons: List[Dict[Text, Any]]) -> List[List[Dict[Text, Text]]]:
    """Lay out buttons: short ones (a score 0–10) six to a row, longer ones two or one."""
    keys = []
    for button in buttons:
        title = str(button.get("title", ""))
        payload = str(button.get("payload", title))
        data = common.truncate_utf8(payload, MAX_CALLBACK_DATA_BYTES)
        if data != payload:
            logger.warning("telegram: button payload %r cut to %d bytes", payload, MAX_CALLBACK_DATA_BYTES)
        keys.append({"text": title, "callback_data": data})
    longest = max((len(k["text"]) for k in keys), default=0)
    per_row = 6 if longest <= 3 else 2 if longest <= 16 else 1
    return [keys[i : i + per_row] for i in range(0, len(keys), per_row)]


class TelegramApi:
    """The few Bot API methods Gehoor uses, against a configurable base URL."""

    def __init__(self, token: Text, api_url: Text = DEFAULT_API_URL, timeout: float = 10) -> None:
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    async def call(self, method: Text, payload: Dict[Text, Any]) -> Dict[Text, Any]:
        url = f"{self.api_url}/bot{self.token}/{method}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
            async with session.post(url, json=payload) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = {"ok": False, "description": (await resp.text())[:300]}
                if resp.status >= 300 or not body.get("ok", False):
                    raise RuntimeError(f"Telegram {method} answered HTTP {resp.status}: {body.get('description', body)}")
                return body


class TelegramOutput(OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def __init__(self, api: TelegramApi) -> None:
        self.api = api

    async def _send(self, recipient_id: Text, payload: Dict[Text, Any]) -> None:
        chat_id = common.strip_namespace(CHANNEL, recipient_id)
        body = {"chat_id": int(chat_id) if re.fullmatch(r"-?\d+", chat_id) else chat_id, **payload}
        try:
            await self.api.call("sendMessage", body)
        except (RuntimeError, aiohttp.ClientError, TimeoutError) as exc:
            logger.error("telegram: sendMessage to %s failed: %s", chat_id, exc)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in common.split_text(text, MAX_TEXT):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        parts = common.split_text(text, MAX_TEXT) or [" "]
        for part in parts[:-1]:
            await self._send(recipient_id, {"text": part})
        await self._send(
            recipient_id, {"text": parts[-1], "reply_markup": {"inline_keyboard": keyboard_rows(buttons)}}
        )

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)


class TelegramInput(InputChannel):
    """Telegram webhook with secret-token verification; no network at start-up."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            access_token=common.setting(credentials, "access_token", "GEHOOR_TELEGRAM_TOKEN"),
            secret_token=common.setting(credentials, "secret_token", "GEHOOR_TELEGRAM_SECRET_TOKEN"),
            webhook_url=common.setting(credentials, "webhook_url", "GEHOOR_TELEGRAM_WEBHOOK_URL"),
            api_url=common.setting(credentials, "api_url", "GEHOOR_TELEGRAM_API_URL", DEFAULT_API_URL),
            max_body_bytes=common.max_body_bytes(credentials),
            replay_window_seconds=common.replay_window_seconds(credentials),
        )

    def __init__(
        self,
        access_token: Optional[Text],
        secret_token: Optional[Text],
        webhook_url: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
        max_body_bytes: int = common.DEFAULT_MAX_BODY_BYTES,
        replay_window_seconds: int = common.DEFAULT_REPLAY_WINDOW_SECONDS,
    ) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.api_url = api_url
        self.max_body_bytes = max_body_bytes
        self.seen = common.SeenCache(max(replay_window_seconds, 24 * 3600))  # Telegram keeps updates 24 h

    @property
    def missing(self) -> List[str]:
        names = {"GEHOOR_TELEGRAM_TOKEN": self.access_token, "GEHOOR_TELEGRAM_SECRET_TOKEN": self.secret_token}
        return [name for name, value in names.items() if not value]

    @property
    def api(self) -> TelegramApi:
        return TelegramApi(self.access_token or "", self.api_url)

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.api)

    async def set_webhook(self, url: Optional[Text] = None, drop_pending_updates: bool = False) -> Dict[Text, Any]:
        """Register the webhook with Telegram (called by `gehoor channels telegram set-webhook`)."""
        if self.missing:
            raise ValueError(f"Telegram is not configured: set {', '.join(self.missing)}")
        if not SECRET_TOKEN_RE.match(self.secret_token or ""):
            raise ValueError("GEHOOR_TELEGRAM_SECRET_TOKEN may only contain A-Z, a-z, 0-9, _ and - (1-256 chars)")
        url = url or self.webhook_url
        if not url:
            raise ValueError("no webhook URL: pass --url or set GEHOOR_TELEGRAM_WEBHOOK_URL")
        if not url.startswith("https://"):
            raise ValueError(f"Telegram only calls https:// webhooks, got {url!r}")
        return await self.api.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": self.secret_token,
                "allowed_updates": ALLOWED_UPDATES,
                "drop_pending_updates": drop_pending_updates,
            },
        )

    async def delete_webhook(self) -> Dict[Text, Any]:
        if self.missing:
            raise ValueError(f"Telegram is not configured: set {', '.join(self.missing)}")
        return await self.api.call("deleteWebhook", {})

    async def webhook_info(self) -> Dict[Text, Any]:
        if self.missing:
            raise ValueError(f"Telegram is not configured: set {', '.join(self.missing)}")
        return await self.api.call("getWebhookInfo", {})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.missing:
            return common.disabled_blueprint(CHANNEL, ", ".join(self.missing))

        webhook = Blueprint("gehoor_telegram_webhook", __name__)
        common.add_size_guard(webhook, CHANNEL, self.max_body_bytes)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            header = request.headers.get("x-telegram-bot-api-secret-token")
            if not header:
                return common.reject(CHANNEL, 403, "missing X-Telegram-Bot-Api-Secret-Token header", request)
            if not common.constant_time_equals(self.secret_token, header):
                return common.reject(CHANNEL, 403, "wrong X-Telegram-Bot-Api-Secret-Token", request)
            update, error = common.parse_json_body(CHANNEL, request)
            if error:
                return error
            update_id = update.get("update_id")
            if not isinstance(update_id, int):
                return common.reject(CHANNEL, 400, "update without update_id", request)

            text: Optional[str] = None
            chat: Dict[str, Any] = {}
            sender: Dict[str, Any] = {}
            callback_id: Optional[str] = None
            if isinstance(update.get("message"), dict):
                message = update["message"]
                chat, sender = message.get("chat") or {}, message.get("from") or {}
                text = message.get("text") if isinstance(message.get("text"), str) else None
                if text is None:
                    logger.info("telegram: update %s is not a text message; ignored", update_id)
                    return response.json({"status": "ignored"})
            elif isinstance(update.get("callback_query"), dict):
                query = update["callback_query"]
                sender = query.get("from") or {}
                chat = (query.get("message") or {}).get("chat") or {}
                text = query.get("data") if isinstance(query.get("data"), str) else None
                callback_id = query.get("id")
                if text is None:
                    return common.reject(CHANNEL, 400, "callback query without data", request)
            elif any(key in update for key in IGNORED_UPDATES):
                logger.info("telegram: update %s of an ignored type; ignored", update_id)
                return response.json({"status": "ignored"})
            else:
                kinds = sorted(k for k in update if k != "update_id")
                return common.reject(CHANNEL, 400, f"unknown update type {kinds}", request)

            chat_id = chat.get("id")
            if chat_id is None:
                return common.reject(CHANNEL, 400, "update without chat id", request)
            if self.seen.seen(f"update:{update_id}"):
                return common.reject(CHANNEL, 409, f"replayed update_id {update_id} (already handled)", request)

            output = self.get_output_channel()
            if callback_id:
                try:  # stops the spinner on the button the customer pressed
                    await self.api.call("answerCallbackQuery", {"callback_query_id": callback_id})
                except (RuntimeError, aiohttp.ClientError, TimeoutError) as exc:
                    logger.warning("telegram: answerCallbackQuery failed: %s", exc)
            metadata = {"chat_type": chat.get("type"), "language_code": sender.get("language_code")}
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    common.namespaced(CHANNEL, chat_id),
                    input_channel=CHANNEL,
                    metadata={k: v for k, v in metadata.items() if v is not None},
                )
            )
            return response.json({"status": "ok"})

        return webhook
