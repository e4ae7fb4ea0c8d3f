"""Feature (changes behaviour): a conversation on an asynchronous channel keeps its session
for hours, and the customer who comes back is reminded where they were.

Replaces `rasa.core.processor.MessageProcessor._has_session_expired` and
`._update_tracker_session` (Rasa 3.6.21). Stock Rasa starts a new session (a new story, empty
slots, the open form forgotten) when the customer's last message is older than domain.yml's
`session_expiration_time` (60 minutes), on every channel. Customers on Messenger, WhatsApp
(Twilio), Telegram and Slack answer when it suits them, often hours later. Here the window
depends on the conversation's channel (its sender namespace, bot/channels/common.py, else the
latest input channel): `bot.config.session_window_minutes` (24 h on those channels; the
widget and REST keep domain.yml's 60 minutes unless GEHOOR_SESSION_MINUTES says otherwise,
and decide exactly as stock Rasa). A message after the stock window but within the channel's
keeps the session, so the form goes on at its open question; when a form is open, the bot
first says `resume_reminder` (catalogue), quoting its last question, recorded as a bot
message of the same story (metadata `{"gehoor": "resume_reminder"}`).
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any, Dict, Optional

from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered

from bot import config
from bot.rasa_patches import is_patched, mark

logger = logging.getLogger(__name__)

REPLACES = "rasa.core.processor.MessageProcessor._has_session_expired, ._update_tracker_session"
GAIN = "correctness: a customer answering hours later on an asynchronous channel continues the same story"

_QUESTION = re.compile(r"[^.!?]*\?")


def channel_of(tracker: Any) -> Optional[str]:
    """The conversation's channel: its sender namespace ("messenger:<psid>"), else the input
    channel of its latest customer message."""
    prefix = tracker.sender_id.split(":", 1)[0] if ":" in tracker.sender_id else None
    if prefix in config.ASYNC_CHANNELS:
        return prefix
    return tracker.get_latest_input_channel()


def idle_minutes(tracker: Any) -> Optional[float]:
    """Minutes since the customer's latest message (None before the first one), as Rasa counts."""
    latest = tracker.get_last_event_for(UserUttered)
    return None if latest is None else (time.time() - latest.timestamp) / 60


def has_session_expired(processor: MessageProcessor, tracker: Any) -> bool:
    session_config = processor.domain.session_config
    if not session_config.are_sessions_enabled():
        return False
    idle = idle_minutes(tracker)
    if idle is None:
        return False
    window = config.session_window_minutes(channel_of(tracker), session_config.session_expiration_time)
    expired = idle > window
    if expired:
        logger.debug("The latest session for conversation ID '%s' has expired (%.0f of %.0f minutes).",
                     tracker.sender_id, idle, window)
    return expired


def reminder(tracker: Any) -> Optional[Dict[str, Any]]:
    """The welcome back for a customer who returns after the stock window to an open form."""
    from bot.listening import catalogue

    if not tracker.active_loop_name:
        return None
    language = tracker.get_slot("language") or config.default_language()
    last_bot = tracker.get_last_event_for(BotUttered)
    questions = _QUESTION.findall(last_bot.text or "") if last_bot is not None else []
    if questions:
        text = catalogue.text("resume_reminder", language, text=questions[-1].strip())
    else:
        text = catalogue.text("resume_reminder_plain", language)
    return {"text": text}


def install() -> None:
    original_expired = MessageProcessor._has_session_expired
    if not is_patched(original_expired):

        def _has_session_expired(self: MessageProcessor, tracker: Any) -> bool:
            return has_session_expired(self, tracker)

        MessageProcessor._has_session_expired = mark(_has_session_expired, original_expired)  # type: ignore

    original_update = MessageProcessor._update_tracker_session
    if not is_patched(original_update):

        async def _update_tracker_session(self: MessageProcessor, tracker: Any, output_channel: Any,
                                          metadata: Optional[Dict] = None) -> None:
            idle = idle_minutes(tracker)
            stock_window = self.domain.session_config.session_expiration_time
            kept_longer = (idle is not None and self.domain.session_config.are_sessions_enabled()
                           and idle > stock_window and not has_session_expired(self, tracker))
            await original_update(self, tracker, output_channel, metadata)
            message = reminder(tracker) if kept_longer else None
            if message is not None and idle is not None:
                logger.info("conversation %s continues after %.1f h: reminded of its open question",
                            tracker.sender_id, idle / 60)
                event = BotUttered(message["text"], metadata={"gehoor": "resume_reminder"})
                tracker.update(event, self.domain)
                await output_channel.send_response(tracker.sender_id, event.message())

        MessageProcessor._update_tracker_session = mark(_update_tracker_session, original_update)  # type: ignore
