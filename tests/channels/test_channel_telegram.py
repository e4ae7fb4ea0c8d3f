"""Telegram channel: real update payloads in, exact Bot API requests out."""
from __future__ import annotations

import json
import logging

import pytest

from bot.channels import cli as channels_cli
from bot.channels.telegram import TelegramInput, keyboard_rows
from bot.cli import main as gehoor_main
from channel_testkit import Bot

SECRET = "s3cret-Token_1"
TOKEN = "123456:ABC-DEF"
CHAT = 987654321
OK = {"ok": True, "result": {"message_id": 5}}


def channel(api_url: str) -> TelegramInput:
    return TelegramInput.from_credentials({"access_token": TOKEN, "secret_token": SECRET, "api_url": api_url})


def text_update(text: str, update_id: int = 1000) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 11,
            "from": {"id": CHAT, "is_bot": False, "first_name": "Sanne", "language_code": "nl"},
            "chat": {"id": CHAT, "first_name": "Sanne", "type": "private"},
            "date": 1700000000,
            "text": text,
        },
    }


def callback_update(data: str, update_id: int = 1001) -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": CHAT, "is_bot": False, "first_name": "Sanne", "language_code": "nl"},
            "message": {"message_id": 12, "chat": {"id": CHAT, "type": "private"}, "date": 1700000001, "text": "Score?"},
            "chat_instance": "-123",
            "data": data,
        },
    }


async def post(server, update, secret: str | None = SECRET, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await server.request("POST", "/webhook", data=raw if raw is not None else json.dumps(update), headers=headers)


async def test_text_message_is_answered_with_an_inline_keyboard(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Hoe waarschijnlijk is het dat je ons aanbeveelt?",
                     "buttons": [{"title": str(i), "payload": str(i)} for i in range(11)]})
    server = await serve(channel(api.url), bot)
    assert (await post(server, text_update("Hoi")))[0] == 200

    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == ("Hoi", f"telegram:{CHAT}", "telegram")
    assert message.metadata == {"chat_type": "private", "language_code": "nl", "message_id": 11}
    assert api.requests == [
        {
            "method": "POST",
            "path": f"/bot{TOKEN}/sendMessage",
            "query": {},
            "content_type": "application/json",
            "json": {
                "chat_id": CHAT,
                "text": "Hoe waarschijnlijk is het dat je ons aanbeveelt?",
                "reply_markup": {"inline_keyboard": [
                    [{"text": str(i), "callback_data": str(i)} for i in range(0, 6)],
                    [{"text": str(i), "callback_data": str(i)} for i in range(6, 11)],
                ]},
            },
        }
    ]


async def test_callback_query_sends_its_data_and_is_answered(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(channel(api.url), bot)
    assert (await post(server, callback_update("8")))[0] == 200
    assert [m.text for m in bot.messages] == ["8"]
    assert bot.messages[0].sender_id == f"telegram:{CHAT}"
    assert [(r["path"], r["json"]) for r in api.requests] == [
        (f"/bot{TOKEN}/answerCallbackQuery", {"callback_query_id": "4382bfdwdsb323b2d9"}),
        (f"/bot{TOKEN}/sendMessage", {"chat_id": CHAT, "text": "Dank je."}),
    ]


def test_keyboard_layout():
    assert keyboard_rows([{"title": "Ja", "payload": "ja"}, {"title": "Nee", "payload": "nee"}]) == [
        [{"text": "Ja", "callback_data": "ja"}, {"text": "Nee", "callback_data": "nee"}]
    ]
    long = [{"title": "Ik wil graag teruggebeld worden", "payload": "x" * 100}]
    assert keyboard_rows(long) == [[{"text": "Ik wil graag teruggebeld worden", "callback_data": "x" * 64}]]


@pytest.mark.parametrize("secret", [None, "wrong", SECRET + "x", ""], ids=["missing", "wrong", "longer", "empty"])
async def test_wrong_or_missing_secret_token_is_403(serve, fake_api, caplog, secret):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        assert (await post(server, text_update("Hoi"), secret=secret))[0] == 403
    assert bot.messages == [] and api.requests == []
    assert any("channel telegram rejected" in r.message for r in caplog.records)


async def test_replayed_update_is_acknowledged_and_not_handled_again(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(channel(api.url), bot)
    assert (await post(server, text_update("Hoi", update_id=7)))[0] == 200
    assert await post(server, text_update("Hoi", update_id=7)) == (200, '{"status":"duplicate"}')
    assert len(bot.messages) == 1 and len(api.requests) == 1


@pytest.mark.parametrize(
    "update, raw, status",
    [
        (None, b"{oops", 400),
        (None, b'"just a string"', 400),
        ({"message": {"text": "no update id"}}, None, 400),
        ({"update_id": 5, "poll": {"id": "1"}}, None, 400),
        ({"update_id": 6, "message": {"message_id": 1, "date": 1, "text": "no chat"}}, None, 400),
    ],
    ids=["malformed-json", "not-an-object", "no-update-id", "unknown-update-type", "no-chat"],
)
async def test_bad_input_is_4xx_and_nothing_is_stored(serve, fake_api, caplog, update, raw, status):
    api = await fake_api(OK)
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        assert (await post(server, update, raw=raw))[0] == status
    assert bot.messages == [] and api.requests == []
    assert any("channel telegram rejected" in r.message for r in caplog.records)


async def test_service_messages_are_ignored(serve, fake_api):
    # Stickers, photos and edits: test_channel_media.py.
    api = await fake_api(OK)
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    pinned = text_update("")
    del pinned["message"]["text"]
    pinned["message"]["pinned_message"] = {"message_id": 3, "date": 1, "chat": pinned["message"]["chat"], "text": "x"}
    assert await post(server, pinned) == (200, '{"status":"ignored"}')
    assert bot.messages == [] and api.requests == []


async def test_oversized_body_is_413(serve, fake_api):
    api = await fake_api(OK)
    bot = Bot()
    server = await serve(channel(api.url), bot)
    assert (await post(server, text_update("x" * 70_000)))[0] == 413
    assert bot.messages == []


async def test_starts_without_network_and_disabled_without_settings(serve):
    # No API call happens at start-up: the api_url points at nothing.
    server = await serve(TelegramInput.from_credentials(
        {"access_token": TOKEN, "secret_token": SECRET, "api_url": "http://127.0.0.1:9"}))
    assert (await server.request("GET", "/"))[0] == 200
    disabled = await serve(TelegramInput.from_credentials(None))
    assert json.loads((await disabled.request("GET", "/"))[1])["status"] == "disabled"
    assert (await post(disabled, text_update("Hoi")))[0] == 404


async def test_set_webhook_command(fake_api, monkeypatch, capsys):
    api = await fake_api({"ok": True, "result": True, "description": "Webhook was set"})
    monkeypatch.setenv("GEHOOR_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("GEHOOR_TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("GEHOOR_TELEGRAM_API_URL", api.url)
    monkeypatch.setenv("GEHOOR_TELEGRAM_WEBHOOK_URL", "https://bot.example.nl/webhooks/telegram/webhook")
    channel = TelegramInput.from_credentials(None)
    await channel.set_webhook()
    assert api.requests == [{
        "method": "POST", "path": f"/bot{TOKEN}/setWebhook", "query": {}, "content_type": "application/json",
        "json": {
            "url": "https://bot.example.nl/webhooks/telegram/webhook",
            "secret_token": SECRET,
            "allowed_updates": ["message", "edited_message", "callback_query"],
            "drop_pending_updates": False,
        },
    }]


def test_set_webhook_cli_parses_and_reports_errors(monkeypatch, capsys):
    # Not configured: one clear line, exit 2, no traceback, no network.
    assert gehoor_main(["channels", "telegram", "set-webhook"]) == 2
    assert "Telegram is not configured" in capsys.readouterr().err
    monkeypatch.setenv("GEHOOR_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("GEHOOR_TELEGRAM_SECRET_TOKEN", SECRET)
    assert gehoor_main(["channels", "telegram", "set-webhook", "--url", "http://insecure.example"]) == 2
    assert "https://" in capsys.readouterr().err
    assert gehoor_main(["channels", "status"]) == 0
    assert "telegram" in capsys.readouterr().out
    assert channels_cli.ENV_BY_CHANNEL["telegram"] == ["GEHOOR_TELEGRAM_TOKEN", "GEHOOR_TELEGRAM_SECRET_TOKEN"]
