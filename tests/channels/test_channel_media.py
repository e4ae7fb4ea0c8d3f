"""Messages without text, edits, Get Started, groups and platform retries on Messenger and
Telegram, with payloads built from the platforms' documentation (tests/channels/payloads/:
messenger_* follow Meta's Messenger Platform webhook reference, telegram_* the Bot API's
Update and Message objects)."""
from __future__ import annotations

import asyncio
import copy
import json
import time
from pathlib import Path

import pytest

from channel_testkit import Bot
from test_channel_messenger import PAGE, PSID, sign
from test_channel_messenger import channel as messenger_channel
from test_channel_telegram import CHAT, OK, SECRET, TOKEN, text_update
from test_channel_telegram import channel as telegram_channel

pytestmark = pytest.mark.asyncio

PAYLOADS = Path(__file__).resolve().parent / "payloads"
LIKE_STICKER = 369239263222822


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def fresh(body: dict) -> bytes:
    """A Messenger fixture with its timestamps set to now (older ones fall outside the replay window)."""
    body = copy.deepcopy(body)
    now = int(time.time() * 1000)
    for entry in body["entry"]:
        entry["time"] = now
        for event in entry.get("messaging", []):
            event["timestamp"] = now
    return json.dumps(body).encode()


async def post_messenger(server, body: bytes):
    headers = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
    return await server.request("POST", "/webhook", data=body, headers=headers)


async def post_telegram(server, update: dict):
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    return await server.request("POST", "/webhook", data=json.dumps(update), headers=headers)


def described(text: str) -> dict:
    """The JSON part of ``/nlu_fallback{...}``."""
    assert text.startswith("/nlu_fallback{"), text
    return json.loads(text[len("/nlu_fallback"):])


# --- Messenger: attachments ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kind",
    [
        ("messenger_messages_attachment_image.json", "photo"),
        ("messenger_messages_attachment_audio.json", "voice note"),
        ("messenger_messages_attachment_video.json", "video"),
        ("messenger_messages_attachment_file.json", "file"),
    ],
)
async def test_messenger_attachment_is_recorded_with_its_url_and_answered(serve, fake_api, name, kind):
    api = await fake_api({"recipient_id": PSID, "message_id": "m_out"})
    bot = Bot(reply={"text": "Ik lees alleen tekst."})
    server = await serve(messenger_channel(api.url), bot)
    fixture = payload(name)
    message_in = fixture["entry"][0]["messaging"][0]["message"]
    url = message_in["attachments"][0]["payload"]["url"]

    assert await post_messenger(server, fresh(fixture)) == (200, "EVENT_RECEIVED")

    [message] = bot.messages
    assert described(message.text) == {"received": kind, "url": url}
    assert message.sender_id == f"messenger:{PSID}"
    assert message.metadata["message_id"] == message_in["mid"]
    assert message.metadata["media"] == [{"kind": kind, "url": url}]
    assert len(api.requests) == 1, "the customer gets an answer"


async def test_messenger_location_is_recorded_without_its_coordinates(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(messenger_channel(api.url), bot)
    assert (await post_messenger(server, fresh(payload("messenger_messages_attachment_location.json"))))[0] == 200
    [message] = bot.messages
    assert described(message.text) == {"received": "location"}
    assert message.metadata["media"] == [{"kind": "location"}]
    assert "52.3676" not in message.text + json.dumps(message.metadata)
    assert len(api.requests) == 1


async def test_messenger_like_sticker_is_one_like_not_a_score(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(messenger_channel(api.url), bot)
    assert (await post_messenger(server, fresh(payload("messenger_messages_like_sticker.json"))))[0] == 200
    [message] = bot.messages
    # Meta sends the sticker twice during its transition (a "sticker" and an "image" attachment):
    # it is one like, recorded with its sticker id, and never a number.
    assert described(message.text) == {"received": "like", "sticker_id": LIKE_STICKER}
    assert message.metadata["media"] == [{"kind": "like", "sticker_id": LIKE_STICKER}]
    assert len(api.requests) == 1


async def test_messenger_other_sticker_is_a_sticker(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(messenger_channel(api.url), bot)
    fixture = payload("messenger_messages_like_sticker.json")
    message_in = fixture["entry"][0]["messaging"][0]["message"]
    message_in["sticker_id"] = 126362180881212
    for attachment in message_in["attachments"]:
        attachment["payload"]["sticker_id"] = 126362180881212
    assert (await post_messenger(server, fresh(fixture)))[0] == 200
    assert described(bot.messages[0].text) == {"received": "sticker", "sticker_id": 126362180881212}


# --- Messenger: edits and Get Started -----------------------------------------------------


async def test_messenger_edit_is_recorded_as_an_edit_and_not_answered(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(messenger_channel(api.url), bot)
    fixture = payload("messenger_message_edits.json")
    edit = fixture["entry"][0]["messaging"][0]["message_edit"]

    assert await post_messenger(server, fresh(fixture)) == (200, "EVENT_RECEIVED")

    assert bot.messages == [] and api.requests == [], "an edit is recorded, not answered as a new message"
    [logged] = bot.logged
    assert logged.text == edit["text"]
    assert logged.sender_id == f"messenger:{PSID}"
    assert logged.input_channel == "messenger"
    assert logged.metadata == {"page_id": PAGE, "edit_of": edit["mid"], "num_edit": 1}


async def test_messenger_edit_retry_is_recorded_once(serve, fake_api):
    api = await fake_api({})
    bot = Bot()
    server = await serve(messenger_channel(api.url), bot)
    body = fresh(payload("messenger_message_edits.json"))
    assert (await post_messenger(server, body))[0] == 200
    assert (await post_messenger(server, body))[0] == 200
    assert len(bot.logged) == 1


async def test_messenger_get_started_is_a_greeting_never_an_answer(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(messenger_channel(api.url), bot)
    fixture = payload("messenger_messaging_postbacks_get_started.json")
    assert (await post_messenger(server, fresh(fixture)))[0] == 200
    [message] = bot.messages
    assert message.text == "/greet"
    assert message.metadata["postback"] == "GET_STARTED"


# --- Messenger: retries -------------------------------------------------------------------


def text_body(mid: str, text: str = "Hoi") -> bytes:
    now = int(time.time() * 1000)
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": now, "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": now,
         "message": {"mid": mid, "text": text}}]}]}).encode()


async def test_messenger_retry_is_acknowledged_and_answered_once(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(messenger_channel(api.url), bot)
    body = text_body("m_retry")
    assert await post_messenger(server, body) == (200, "EVENT_RECEIVED")
    # Meta retries a delivery it thinks failed: a 2xx stops it, a 4xx makes it retry again.
    assert await post_messenger(server, body) == (200, "EVENT_RECEIVED")
    assert len(bot.messages) == 1 and len(api.requests) == 1


class SlowBot(Bot):
    async def __call__(self, message):
        await asyncio.sleep(0.3)
        await super().__call__(message)


async def test_messenger_retry_while_the_first_is_answered_is_handled_once(serve, fake_api):
    api = await fake_api({})
    bot = SlowBot(reply={"text": "Dank je."})
    server = await serve(messenger_channel(api.url), bot)
    body = json.loads(text_body("m_a"))
    second = copy.deepcopy(body["entry"][0]["messaging"][0])
    second["message"] = {"mid": "m_b", "text": "8"}
    body["entry"][0]["messaging"].append(second)
    body = json.dumps(body).encode()
    first, retry = await asyncio.gather(post_messenger(server, body), post_messenger(server, body))
    assert first[0] == retry[0] == 200
    assert [m.text for m in bot.messages] == ["Hoi", "8"]


class FailingOnceBot(Bot):
    failed = False

    async def __call__(self, message):
        if not self.failed:
            self.failed = True
            raise RuntimeError("tracker store down")
        await super().__call__(message)


async def test_messenger_message_that_failed_is_handled_on_the_retry(serve, fake_api):
    api = await fake_api({})
    bot = FailingOnceBot(reply={"text": "Dank je."})
    server = await serve(messenger_channel(api.url), bot)
    body = text_body("m_fail")
    assert (await post_messenger(server, body))[0] >= 500
    assert (await post_messenger(server, body))[0] == 200
    assert [m.text for m in bot.messages] == ["Hoi"]


# --- Telegram: messages without text ------------------------------------------------------


async def test_telegram_photo_caption_is_the_message(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(telegram_channel(api.url), bot)
    update = payload("telegram_update_message_photo_caption.json")
    assert (await post_telegram(server, update))[0] == 200
    [message] = bot.messages
    assert message.text == update["message"]["caption"]
    largest = update["message"]["photo"][-1]["file_id"]
    assert message.metadata["media"] == [{"kind": "photo", "file_id": largest}]
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "name, kind, key",
    [
        ("telegram_update_message_photo.json", "photo", "photo"),
        ("telegram_update_message_voice.json", "voice note", "voice"),
        ("telegram_update_message_sticker.json", "sticker", "sticker"),
        ("telegram_update_message_document.json", "file", "document"),
        ("telegram_update_message_video.json", "video", "video"),
        ("telegram_update_message_audio.json", "audio", "audio"),
    ],
)
async def test_telegram_media_is_recorded_with_its_file_id_and_answered(serve, fake_api, name, kind, key):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Ik lees alleen tekst."})
    server = await serve(telegram_channel(api.url), bot)
    update = payload(name)
    item = update["message"][key]
    file_id = item[-1]["file_id"] if isinstance(item, list) else item["file_id"]

    assert (await post_telegram(server, update))[0] == 200

    [message] = bot.messages
    assert described(message.text) == {"received": kind, "file_id": file_id}
    assert message.sender_id == f"telegram:{CHAT}"
    assert message.metadata["media"] == [{"kind": kind, "file_id": file_id}]
    assert message.metadata["message_id"] == update["message"]["message_id"]
    assert [r["path"] for r in api.requests] == [f"/bot{TOKEN}/sendMessage"], "the customer gets an answer"


@pytest.mark.parametrize(
    "name, kind, private",
    [
        ("telegram_update_message_location.json", "location", "52.367573"),
        ("telegram_update_message_contact.json", "contact", "+31612345678"),
        ("telegram_update_message_poll.json", "poll", "Beste bezorger"),
    ],
)
async def test_telegram_location_contact_poll_are_recorded_without_their_content(serve, fake_api, name, kind, private):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "x"})
    server = await serve(telegram_channel(api.url), bot)
    assert (await post_telegram(server, payload(name)))[0] == 200
    [message] = bot.messages
    assert described(message.text) == {"received": kind}
    assert message.metadata["media"] == [{"kind": kind}]
    assert private not in message.text + json.dumps(message.metadata)
    assert len(api.requests) == 1


async def test_telegram_edit_is_recorded_as_an_edit_and_not_answered(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "x"})
    server = await serve(telegram_channel(api.url), bot)
    update = payload("telegram_update_edited_message.json")
    assert (await post_telegram(server, update))[0] == 200
    assert bot.messages == [] and api.requests == []
    [logged] = bot.logged
    assert logged.text == update["edited_message"]["text"]
    assert logged.sender_id == f"telegram:{CHAT}"
    assert logged.metadata["edit_of"] == update["edited_message"]["message_id"]


def test_telegram_webhook_asks_for_edits():
    from bot.channels.telegram import ALLOWED_UPDATES

    assert "edited_message" in ALLOWED_UPDATES


# --- Telegram: groups ---------------------------------------------------------------------


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_telegram_group_is_declined_once_and_never_runs_the_survey(serve, fake_api, chat_type):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Hoe waarschijnlijk...?"})
    server = await serve(telegram_channel(api.url), bot)
    update = payload("telegram_update_message_group.json")
    update["message"]["chat"]["type"] = chat_type
    group_id = update["message"]["chat"]["id"]

    assert (await post_telegram(server, update))[0] == 200
    other = copy.deepcopy(update)  # a second person in the same group
    other["update_id"] += 1
    other["message"]["from"] = {"id": 55501, "is_bot": False, "first_name": "Piet", "language_code": "nl"}
    assert (await post_telegram(server, other))[0] == 200

    assert bot.messages == [], "no survey in a group"
    [reply] = api.requests
    assert reply["path"] == f"/bot{TOKEN}/sendMessage"
    assert reply["json"]["chat_id"] == group_id
    assert "priv" in reply["json"]["text"].lower()


async def test_telegram_group_button_click_is_not_a_survey_answer(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot()
    server = await serve(telegram_channel(api.url), bot)
    click = {"update_id": 3100, "callback_query": {
        "id": "99", "from": {"id": 55501, "is_bot": False, "first_name": "Piet"}, "chat_instance": "-9",
        "message": {"message_id": 12, "chat": {"id": -1001234567890, "title": "Acme klanten", "type": "supergroup"},
                    "date": 1700000001, "text": "Score?"},
        "data": "8"}}
    assert (await post_telegram(server, click))[0] == 200
    assert bot.messages == []


async def test_telegram_channel_post_is_ignored_without_posting(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "x"})
    server = await serve(telegram_channel(api.url), bot)
    assert (await post_telegram(server, payload("telegram_update_channel_post.json")))[0] == 200
    assert bot.messages == [] and api.requests == []


async def test_telegram_private_chats_of_two_people_are_two_stories(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot()
    server = await serve(telegram_channel(api.url), bot)
    first = text_update("8", update_id=3200)
    second = text_update("3", update_id=3201)
    second["message"]["from"]["id"] = second["message"]["chat"]["id"] = 55501
    assert (await post_telegram(server, first))[0] == 200
    assert (await post_telegram(server, second))[0] == 200
    assert [m.sender_id for m in bot.messages] == [f"telegram:{CHAT}", "telegram:55501"]


# --- Telegram: retries --------------------------------------------------------------------


async def test_telegram_retry_is_acknowledged_and_answered_once(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(telegram_channel(api.url), bot)
    update = text_update("Hoi", update_id=3300)
    assert (await post_telegram(server, update))[0] == 200
    # Telegram retries a webhook call that failed and holds later updates back until one succeeds.
    assert (await post_telegram(server, update))[0] == 200
    assert len(bot.messages) == 1 and len(api.requests) == 1


async def test_telegram_update_that_failed_is_handled_on_the_retry(serve, fake_api):
    api = await fake_api(OK)
    bot = FailingOnceBot(reply={"text": "Dank je."})
    server = await serve(telegram_channel(api.url), bot)
    update = text_update("Hoi", update_id=3400)
    assert (await post_telegram(server, update))[0] >= 500
    assert (await post_telegram(server, update))[0] == 200
    assert [m.text for m in bot.messages] == ["Hoi"]
