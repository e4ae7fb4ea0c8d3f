"""Telegram input channel (``bot.channels.telegram.TelegramInput``).

Unlike Rasa's built-in Telegram channel this one makes no network call at start-up:
the webhook is set only by the explicit command ``gehoor channels telegram set-webhook``.

Webhook: ``POST /webhooks/telegram/webhook``. Checks the body size, then the
``X-Telegram-Bot-Api-Secret-Token`` header (constant time) → 403; handles ``message``
(text; a caption is the text; a photo, sticker, voice note, file, location... without text
is answered and recorded with its ``file_id``), ``callback_query`` (inline keyboard clicks)
and ``edited_message`` (recorded as an edit, not answered); unknown update types → 400.
Only private chats run the survey: a group gets one short note pointing to a private
chat, a channel nothing. A repeated ``update_id`` is acknowledged and not handled again.
Replies use ``sendMessage`` with an inline keyboard for buttons. Sender ids are
``telegram:<chat id>`` (in a private chat, the person's own id).

Settings (credentials.yml key, or env var): ``access_token`` / ``GEHOOR_TELEGRAM_TOKEN``,
``secret_token`` / ``GEHOOR_TELEGRAM_SECRET_TOKEN``, ``webhook_url`` /
``GEHOOR_TELEGRAM_WEBHOOK_URL`` (public https URL, used by set-webhook), ``api_url`` /
``GEHOOR_TELEGRAM_API_URL`` (default ``https://api.telegram.org``), ``bot_username`` /
``GEHOOR_TELEGRAM_BOT_USERNAME`` (optional: the note to a group links to t.me/<name>).
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

from bot import config
from bot.channels import common
from bot.listening import catalogue
from bot.listening.nlp import LANGUAGES

logger = logging.getLogger("gehoor.channels.telegram")

CHANNEL = "telegram"
DEFAULT_API_URL = "https://api.telegram.org"
MAX_TEXT = 4096
MAX_CALLBACK_DATA_BYTES = 64
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
IGNORED_UPDATES = ("channel_post", "edited_channel_post", "my_chat_member", "chat_member")
GROUP_NOTE_SECONDS = 24 * 3600  # a group gets the "private chat only" note at most this often
# Message fields that are not text, as the transcript names them. Only the file_id is kept:
# the content of a location, contact or poll is not needed for feedback.
MEDIA_FIELDS = (
    ("photo", "photo"), ("sticker", "sticker"), ("voice", "voice note"), ("video_note", "video note"),
    ("audio", "audio"), ("video", "video"), ("animation", "animation"), ("document", "file"),
    ("location", "location"), ("contact", "contact"), ("poll", "poll"), ("dice", "dice"), ("game", "game"),
    ("story", "story"),
)


def message_media(message: Dict[str, Any]) -> List[common.Media]:
    """The non-text parts of a Telegram message with their file_id (a photo's largest size)."""
    media: List[common.Media] = []
    for name, kind in MEDIA_FIELDS:
        value = message.get(name)
        if not value or (name == "document" and message.get("animation")):  # a GIF comes as both
            continue
        item = value[-1] if isinstance(value, list) else value  # photo sizes: the largest is last
        file_id = item.get("file_id") if isinstance(item, dict) else None
        media.append(common.Media(kind, {"file_id": file_id} if isinstance(file_id, str) else {}))
    return media


def language_of(sender: Dict[str, Any]) -> str:
    code = str(sender.get("language_code") or "")[:2].lower()
    return code if code in LANGUAGES else config.default_language()
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
            bot_username=common.setting(credentials, "bot_username", "GEHOOR_TELEGRAM_BOT_USERNAME"),
            max_body_bytes=common.max_body_bytes(credentials),
            replay_window_seconds=common.replay_window_seconds(credentials),
        )

    def __init__(
        self,
        access_token: Optional[Text],
        secret_token: Optional[Text],
        webhook_url: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
        bot_username: Optional[Text] = None,
        max_body_bytes: int = common.DEFAULT_MAX_BODY_BYTES,
        replay_window_seconds: int = common.DEFAULT_REPLAY_WINDOW_SECONDS,
    ) -> None:
        self.access_token = access_token
        self.bot_username = bot_username
        self.groups_told = common.SeenCache(GROUP_NOTE_SECONDS)
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.api_url = api_url
        self.max_body_bytes = max_body_bytes
        self.seen = common.SeenCache(max(replay_window_seconds, 24 * 3600))  # Telegram keeps updates 24 h

    async def decline_group(self, chat: Dict[str, Any], sender: Dict[str, Any], edit: bool) -> HTTPResponse:
        """The survey runs one to one only: in a group it would mix several people's answers
        into one story. A group gets one short note (at most once a day), a channel nothing."""
        chat_id, kind = chat.get("id"), chat.get("type")
        if kind not in ("group", "supergroup") or edit or self.groups_told.seen(f"group:{chat_id}"):
            logger.info("telegram: message in a %s chat %s; not handled (private chats only)", kind, chat_id)
            return response.json({"status": "ignored"})
        note = catalogue.text("private_chat_only", language_of(sender), company=config.company_name())
        if self.bot_username:
            note += f" https://t.me/{self.bot_username.lstrip('@')}"
        logger.info("telegram: message in %s chat %s: pointed to a private chat", kind, chat_id)
        await self.get_output_channel().send_text_message(common.namespaced(CHANNEL, chat_id), note)
        return response.json({"status": "declined"})

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
            extra: Dict[str, Any] = {}
            edit = False
            if isinstance(update.get("message"), dict) or isinstance(update.get("edited_message"), dict):
                edit = not isinstance(update.get("message"), dict)
                message = update["edited_message" if edit else "message"]
                chat, sender = message.get("chat") or {}, message.get("from") or {}
                media = message_media(message)
                own_text = message.get("text") if isinstance(message.get("text"), str) else message.get("caption")
                text = common.text_or_media(own_text if isinstance(own_text, str) else None, media)
                if text is None:
                    logger.info("telegram: update %s has neither text nor media (a service message); ignored", update_id)
                    return response.json({"status": "ignored"})
                extra = {"edit_of": message.get("message_id")} if edit else {"message_id": message.get("message_id")}
                extra.update(common.media_metadata(media))
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
            key = f"update:{update_id}"
            if self.seen.seen(key):
                # Telegram's retry of a call it thought failed: 200 stops it (until a call
                # succeeds, Telegram holds the chat's later updates back).
                logger.info("telegram: update_id %s was already handled; acknowledged, not answered again", update_id)
                return response.json({"status": "duplicate"})

            try:
                if callback_id:
                    try:  # stops the spinner on the button the customer pressed
                        await self.api.call("answerCallbackQuery", {"callback_query_id": callback_id})
                    except (RuntimeError, aiohttp.ClientError, TimeoutError) as exc:
                        logger.warning("telegram: answerCallbackQuery failed: %s", exc)
                if chat.get("type") != "private":
                    return await self.decline_group(chat, sender, edit)
                metadata = {"chat_type": chat.get("type"), "language_code": sender.get("language_code"), **extra}
                message = UserMessage(
                    text,
                    self.get_output_channel(),
                    common.namespaced(CHANNEL, chat_id),
                    input_channel=CHANNEL,
                    metadata={k: v for k, v in metadata.items() if v is not None},
                )
                if edit:
                    await common.record_without_answer(request, message)
                else:
                    await on_new_message(message)
            except common.NotReady as exc:
                self.seen.forget(key)
                return common.reject(CHANNEL, 503, str(exc), request)
            except BaseException:
                self.seen.forget(key)  # not handled: Telegram's retry is
                raise
            return response.json({"status": "ok"})

        return webhook
