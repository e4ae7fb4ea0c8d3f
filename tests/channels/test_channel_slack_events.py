"""Slack as the Events API sends it (tests/channels/payloads/slack_events_api_*.json, following
https://docs.slack.dev/reference/events/message.im, .../app_mention and .../message.channels):
emoji shortcodes, the 0-10 score buttons, and channel mentions."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from rasa.core.channels.slack import SlackBot

from bot.channels.slack import GehoorSlackBot, SlackInput, slack_text
from channel_testkit import Bot

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SCORE_BUTTONS = [{"title": str(i), "payload": f'/give_score{{"score": {i}}}'} for i in range(11)]


def event(name: str, **changes) -> dict:
    data = json.loads((PAYLOADS / name).read_text())
    data = copy.deepcopy(data)
    data["event"].update(changes)
    data["event_id"] = f"Ev{time.monotonic_ns()}"
    return data


def headers(body: bytes) -> dict:
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": f"v0={digest}"}


@pytest.fixture
def posted(monkeypatch):
    """What the bot posts to Slack (chat.postMessage arguments)."""
    calls = []

    async def fake_post(self, channel, **kwargs):
        calls.append({"channel": channel, **kwargs})

    monkeypatch.setattr(SlackBot, "_post_message", fake_post)
    return calls


async def send(server, data: dict) -> int:
    body = json.dumps(data).encode()
    status, _ = await server.request("POST", "/webhook", data=body, headers=headers(body))
    return status


def channel() -> SlackInput:
    return SlackInput.from_credentials({"slack_token": "xoxb-test", "slack_signing_secret": SECRET})


@pytest.mark.parametrize("text, expected", [
    (":+1:", "\U0001F44D"),
    (":thumbsup:", "\U0001F44D"),
    (":+1::skin-tone-3:", "\U0001F44D\U0001F3FC"),
    (":100: top service", "\U0001F4AF top service"),
    ("8 :slightly_smiling_face:", "8 \U0001F642"),
    (":our-team-10:", ""),  # a workspace's custom emoji: no score hidden in its name
    ("om 10:30 geleverd", "om 10:30 geleverd"),
])
def test_slack_text_turns_shortcodes_into_emoji(text, expected):
    assert slack_text(text) == expected


async def test_a_thumbs_up_in_a_direct_message_is_an_emoji_not_a_score(serve, posted):
    bot = Bot()
    server = await serve(channel(), bot)
    assert await send(server, event("slack_events_api_message_im.json")) == 200
    await bot.wait()
    [message] = bot.messages
    assert message.text == "\U0001F44D" and "1" not in message.text
    assert message.sender_id == "slack:U2147483697"


async def test_score_buttons_are_sent_in_rows_slack_accepts(posted):
    await GehoorSlackBot("xoxb-test", "D024BE91L").send_text_with_buttons(
        "slack:D024BE91L", "Hoe waarschijnlijk is het dat je ons aanbeveelt?", SCORE_BUTTONS)
    [call] = posted
    assert call["channel"] == "D024BE91L"
    actions = [block for block in call["blocks"] if block["type"] == "actions"]
    assert actions and all(1 <= len(block["elements"]) <= 5 for block in actions)
    values = [element["value"] for block in actions for element in block["elements"]]
    assert values == [b["payload"] for b in SCORE_BUTTONS]
    assert len({e["action_id"] for block in actions for e in block["elements"]}) == 11
    assert call["blocks"][0] == {"type": "section", "text": {"type": "plain_text",
                                                             "text": "Hoe waarschijnlijk is het dat je ons aanbeveelt?"}}


async def test_a_mention_in_a_channel_is_declined_politely_and_nothing_is_stored(serve, posted):
    bot = Bot()
    server = await serve(channel(), bot)
    assert await send(server, event("slack_events_api_app_mention.json")) == 200
    assert await send(server, event("slack_events_api_app_mention.json", user="U0OTHER01", ts="1515449600.000100")) == 200
    await bot.wait(0)
    assert bot.messages == []
    assert [(p["channel"], p["thread_ts"]) for p in posted] == [("C123ABC456", "1515449522.000016"),
                                                               ("C123ABC456", "1515449600.000100")]
    assert "<@U061F7AUR>" in posted[0]["text"] and "<@U0OTHER01>" in posted[1]["text"]
    assert all("direct" in p["text"].lower() or "direct bericht" in p["text"] for p in posted)


async def test_plain_channel_messages_are_ignored(serve, posted):
    bot = Bot()
    server = await serve(channel(), bot)
    assert await send(server, event("slack_events_api_message_channels.json")) == 200
    assert bot.messages == [] and posted == []


async def test_two_people_in_direct_messages_are_two_stories(serve, posted):
    bot = Bot()
    server = await serve(channel(), bot)
    await send(server, event("slack_events_api_message_im.json", text="8"))
    await send(server, event("slack_events_api_message_im.json", text="6", user="U0OTHER01", channel="D0OTHER01"))
    await bot.wait(2)
    assert sorted(m.sender_id for m in bot.messages) == ["slack:U0OTHER01", "slack:U2147483697"]


def test_the_score_parser_reads_no_score_from_a_thumbs_up():
    from bot.listening.score import parse_score

    assert parse_score(":+1:").value == 1, "why this matters: the raw shortcode reads as 1"
    assert parse_score(slack_text(":+1:")).value is None
