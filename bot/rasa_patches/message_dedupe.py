"""Feature (changes behaviour): a message a client sends again with the same message id is
answered and stored once.

Replaces `rasa.core.agent.Agent.handle_message` (Rasa 3.6.21), around `store_unavailable`'s
replacement. A REST client (or any channel) that puts the client's id for a message in the
message metadata (`"message_id"`, `bot.channels.common.client_message_metadata`) and sends
it again after a timeout, a 503 or a Rasa restart, reaches Rasa twice; stock Rasa handles it
twice (two customer messages in the story, the form moved on twice). Here the first one
claims `<sender>:<message id>` (`common.ClientMessages`: Redis `SET NX` shared by every
instance in the production profile, per process otherwise), and a resend is not handled
again: a collecting channel (REST) gets the first answer again (waiting up to
WAIT_SECONDS while the first is still being handled), a pushing channel (Messenger,
Telegram, ...) sends nothing more. A message that fails is released, so its resend is
handled. Counted in `gehoor_duplicate_messages_total{channel}`.

For the channels whose clients choose the ids (REST, token REST, widget), a claimed id is
also looked up in the stored conversation (one tracker read): a resend after a restart of
the only Rasa instance (default profile, no Redis) finds its message there and gets the bot
messages that followed it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Optional

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels import common
from bot.rasa_patches import is_patched, mark

logger = logging.getLogger(__name__)

REPLACES = "rasa.core.agent.Agent.handle_message"
GAIN = "correctness: a resent message is answered and stored once"

WAIT_SECONDS = 10.0
CLIENT_ID_CHANNELS = ("rest", "rest_token", "socketio")
MESSAGES = common.ClientMessages()


def message_key(message: Any) -> Optional[str]:
    message_id = common.client_message_id(message.metadata or {})
    return f"{message.sender_id}:{message_id}" if message_id else None


async def answer_again(key: str, message: Any) -> None:
    from bot.ops import metrics

    metrics.DUPLICATE_MESSAGES.labels(message.input_channel or "unknown").inc()
    logger.info("message %s of %s was sent again: answered once, not handled again",
                key.rsplit(":", 1)[-1], message.sender_id)
    if not isinstance(message.output_channel, CollectingOutputChannel):
        return
    deadline = time.monotonic() + WAIT_SECONDS
    answer = MESSAGES.answer(key)
    while answer == common.PENDING and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        answer = MESSAGES.answer(key)
    if isinstance(answer, list):
        message.output_channel.messages.extend(answer)


async def stored_answer(agent: Agent, message: Any) -> Optional[list]:
    """The bot messages that followed this message id in the stored conversation, or None
    when the conversation does not hold it."""
    message_id = common.client_message_id(message.metadata or {})
    tracker = await agent.tracker_store.retrieve(message.sender_id)
    events = list(tracker.events) if tracker is not None else []
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and (event.metadata or {}).get("message_id") == message_id:
            answer = []
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    answer.append(later.message())
            return answer
    return None


def install() -> None:
    original = Agent.handle_message
    if is_patched(original) and getattr(original, "gehoor_dedupe", False):
        return

    async def handle_message(self: Agent, message: Any) -> Any:
        key = message_key(message)
        if key is None:
            return await original(self, message)
        if not MESSAGES.claim(key):
            return await answer_again(key, message)
        if message.input_channel in CLIENT_ID_CHANNELS:
            answer = await stored_answer(self, message)
            if answer is not None:
                MESSAGES.finish(key, [])
                await answer_again(key, message)
                if isinstance(message.output_channel, CollectingOutputChannel):
                    for part in answer:
                        await message.output_channel.send_response(message.sender_id, part)
                return None
        output = message.output_channel
        before = len(output.messages) if isinstance(output, CollectingOutputChannel) else 0
        try:
            result = await original(self, message)
        except BaseException:
            MESSAGES.release(key)
            raise
        MESSAGES.finish(key, output.messages[before:] if isinstance(output, CollectingOutputChannel) else [])
        return result

    handle_message.gehoor_dedupe = True  # type: ignore[attr-defined]
    Agent.handle_message = mark(handle_message, original)  # type: ignore[method-assign]
