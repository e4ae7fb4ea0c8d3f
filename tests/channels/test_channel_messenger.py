"""Messenger channel: real webhook payloads in, exact Send API requests out."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest

from bot.channels.messenger import MessengerInput
from channel_testkit import Bot

pytestmark = pytest.mark.asyncio

SECRET = "app-secret-123"
PSID = "6789012345678901"
PAGE = "1122334455"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(messaging: dict) -> bytes:
    now = int(time.time() * 1000)
    item = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": now, **messaging}
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": now, "messaging": [item]}]}).encode()


def text_event(text: str, mid: str = "m_1") -> bytes:
    return event({"message": {"mid": mid, "text": text}})


def channel(api_url: str) -> MessengerInput:
    return MessengerInput.from_credentials(
        {"verify_token": "verify-me", "app_secret": SECRET, "page_access_token": "PAGE_TOKEN", "graph_api_url": api_url}
    )


async def post(server, body: bytes, signature: str | None = "auto", **headers):
    if signature == "auto":
        signature = sign(body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    headers.setdefault("Content-Type", "application/json")
    return await server.request("POST", "/webhook", data=body, headers=headers)


async def test_verify_token_handshake(serve, fake_api):
    api = await fake_api({})
    server = await serve(channel(api.url))
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert await server.request("GET", "/webhook", params=params) == (200, "1158201444")
    params["hub.verify_token"] = "wrong"
    status, _ = await server.request("GET", "/webhook", params=params)
    assert status == 403


async def test_text_message_is_handled_and_answered_with_quick_replies(serve, fake_api):
    api = await fake_api({"recipient_id": PSID, "message_id": "m_out"})
    bot = Bot(reply={"text": "Hoe waarschijnlijk...?", "buttons": [{"title": str(i), "payload": str(i)} for i in range(11)]})
    server = await serve(channel(api.url), bot)

    assert await post(server, text_event("Hoi")) == (200, "EVENT_RECEIVED")

    [message] = bot.messages
    assert message.text == "Hoi"
    assert message.sender_id == f"messenger:{PSID}"
    assert message.input_channel == "messenger"
    assert message.metadata == {"page_id": PAGE, "message_id": "m_1"}
    assert api.requests == [
        {
            "method": "POST",
            "path": "/me/messages",
            "query": {"access_token": "PAGE_TOKEN"},
            "content_type": "application/json",
            "json": {
                "recipient": {"id": PSID},
                "messaging_type": "RESPONSE",
                "message": {
                    "text": "Hoe waarschijnlijk...?",
                    "quick_replies": [{"content_type": "text", "title": str(i), "payload": str(i)} for i in range(11)],
                },
            },
        }
    ]


async def test_plain_text_reply(serve, fake_api):
    api = await fake_api({"recipient_id": PSID, "message_id": "m_out"})
    server = await serve(channel(api.url), Bot(reply={"text": "Dank je."}))
    await post(server, text_event("8"))
    assert [r["json"] for r in api.requests] == [
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Dank je."}}
    ]


async def test_quick_reply_and_postback_send_their_payload(serve, fake_api):
    api = await fake_api({})
    bot = Bot()
    server = await serve(channel(api.url), bot)
    body = event({"message": {"mid": "m_qr", "text": "Ja", "quick_reply": {"payload": "ja"}}})
    assert (await post(server, body))[0] == 200
    body = event({"postback": {"mid": "m_pb", "title": "Start", "payload": "hallo"}})
    assert (await post(server, body))[0] == 200
    assert [m.text for m in bot.messages] == ["ja", "hallo"]


@pytest.mark.parametrize(
    "messaging",
    [
        {"message": {"mid": "m_echo", "text": "bot text", "is_echo": True, "app_id": 1}},
        {"delivery": {"mids": ["m_1"], "watermark": 1}},
        {"read": {"watermark": 1}},
    ],
    ids=["echo", "delivery", "read"],
)
async def test_echoes_deliveries_and_reads_are_acknowledged_and_ignored(serve, fake_api, messaging):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    assert (await post(server, event(messaging)))[0] == 200
    assert bot.messages == [] and api.requests == []


@pytest.mark.parametrize(
    "signature, reason",
    [(None, "missing"), ("sha256=" + "0" * 64, "invalid"), (sign(b"other body"), "invalid"), ("sha1=abc", "invalid")],
    ids=["unsigned", "zeros", "other-body", "wrong-scheme"],
)
async def test_unsigned_or_wrongly_signed_requests_are_rejected(serve, fake_api, caplog, signature, reason):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        status, _ = await post(server, text_event("Hoi"), signature=signature)
    assert status == 403
    assert bot.messages == [] and api.requests == []
    assert any("channel messenger rejected" in r.message and reason in r.message for r in caplog.records)


async def test_handover_standby_entries_are_acknowledged_and_ignored(serve, fake_api):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    body = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": 1, "standby": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1, "message": {"mid": "m_sb", "text": "hi"}}]}]}).encode()
    assert (await post(server, body))[0] == 200
    assert bot.messages == [] and api.requests == []


async def test_signed_with_another_secret_is_rejected(serve, fake_api):
    api = await fake_api({})
    bot = Bot()
    server = await serve(channel(api.url), bot)
    body = text_event("Hoi")
    assert (await post(server, body, signature=sign(body, "not-the-secret")))[0] == 403
    assert bot.messages == []


async def test_replayed_message_is_acknowledged_and_not_handled_again(serve, fake_api, caplog):
    api = await fake_api({})
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(channel(api.url), bot)
    body = text_event("Hoi", mid="m_replay")
    assert (await post(server, body))[0] == 200
    with caplog.at_level(logging.INFO, logger="gehoor.channels"):
        assert (await post(server, body))[0] == 200  # 2xx: Meta stops retrying
    assert len(bot.messages) == 1 and len(api.requests) == 1
    assert any("already handled" in r.message for r in caplog.records)


async def test_event_outside_the_replay_window_is_rejected(serve, fake_api):
    api = await fake_api({})
    bot = Bot()
    server = await serve(channel(api.url), bot)
    old = int((time.time() - 3600) * 1000)
    body = json.dumps(
        {"object": "page", "entry": [{"id": PAGE, "time": old, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": old, "message": {"mid": "m_old", "text": "Hoi"}}
        ]}]}
    ).encode()
    assert (await post(server, body))[0] == 403
    assert bot.messages == []


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"object": "instagram", "entry": []}).encode(), 400),
        (event({"something_new": {"x": 1}}), 400),
        (json.dumps({"object": "page", "entry": ["x"]}).encode(), 400),
    ],
    ids=["malformed-json", "not-an-object", "unknown-object", "unknown-event", "malformed-entry"],
)
async def test_bad_input_is_a_4xx_and_nothing_is_stored(serve, fake_api, caplog, body, status):
    api = await fake_api({})
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(api.url), bot)
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        assert (await post(server, body))[0] == status
    assert bot.messages == [] and api.requests == []
    assert any("channel messenger rejected" in r.message for r in caplog.records)


async def test_oversized_body_is_413(serve, fake_api):
    api = await fake_api({})
    bot = Bot()
    server = await serve(channel(api.url), bot)
    body = text_event("x" * 70_000)
    assert (await post(server, body))[0] == 413
    assert bot.messages == []


async def test_send_api_error_is_logged_not_raised(serve, fake_api, caplog):
    api = await fake_api({"error": {"message": "Invalid OAuth access token."}}, status=400)
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(channel(api.url), bot)
    with caplog.at_level(logging.ERROR, logger="gehoor.channels.messenger"):
        assert (await post(server, text_event("Hoi")))[0] == 200
    assert len(bot.messages) == 1
    assert any("Send API answered 400" in r.message for r in caplog.records)


async def test_unconfigured_channel_is_disabled(serve):
    server = await serve(MessengerInput.from_credentials(None))
    assert (await server.request("GET", "/"))[1] == (
        '{"status":"disabled","missing":"GEHOOR_MESSENGER_VERIFY_TOKEN, GEHOOR_MESSENGER_APP_SECRET, '
        'GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN"}'
    )
    assert (await post(server, text_event("Hoi")))[0] == 404


async def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GEHOOR_MESSENGER_VERIFY_TOKEN", "v")
    monkeypatch.setenv("GEHOOR_MESSENGER_APP_SECRET", "s")
    monkeypatch.setenv("GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN", "p")
    channel = MessengerInput.from_credentials(None)
    assert channel.missing == []
    assert channel.graph_api_url == "https://graph.facebook.com/v18.0"
