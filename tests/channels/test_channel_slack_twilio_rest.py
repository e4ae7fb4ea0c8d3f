"""Slack (Rasa's connector), Twilio (Rasa's connector + signature) and token REST."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.rest_token import TokenRestInput
from bot.channels.slack import SlackInput
from bot.channels.twilio import TwilioInput, TwilioOutput
from channel_testkit import Bot

# ---------------------------------------------------------------- Slack

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def slack_event(text: str = "Hoi", event_id: str = "Ev0PV52K21") -> dict:
    return {
        "token": "ignored",
        "team_id": "T061EG9R6",
        "api_app_id": "A0PNCHHK2",
        "event": {"type": "message", "channel": "D024BE91L", "user": "U2147483697", "text": text,
                  "ts": "1355517523.000005", "channel_type": "im"},
        "type": "event_callback",
        "authed_users": ["U0BOTUSER"],
        "event_id": event_id,
        "event_time": 1355517523,
    }


def slack_headers(body: bytes, secret: str = SLACK_SECRET, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": f"v0={digest}"}


def slack_channel() -> SlackInput:
    return SlackInput.from_credentials({"slack_token": "xoxb-test", "slack_signing_secret": SLACK_SECRET})


async def test_slack_signed_message_reaches_the_bot_namespaced(serve):
    bot = Bot()
    server = await serve(slack_channel(), bot)
    body = json.dumps(slack_event()).encode()
    status, _ = await server.request("POST", "/webhook", data=body, headers=slack_headers(body))
    assert status == 200
    await bot.wait()
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == ("Hoi", "slack:U2147483697", "slack")
    assert message.metadata["out_channel"] == "D024BE91L"


@pytest.mark.parametrize("case", ["wrong-secret", "unsigned", "stale-timestamp", "tampered-body"])
async def test_slack_bad_signature_is_rejected(serve, caplog, case):
    bot = Bot()
    server = await serve(slack_channel(), bot)
    body = json.dumps(slack_event()).encode()
    headers = {
        "wrong-secret": slack_headers(body, secret="not-the-secret"),
        "unsigned": {"Content-Type": "application/json"},
        "stale-timestamp": slack_headers(body, timestamp=int(time.time()) - 600),
        "tampered-body": slack_headers(json.dumps(slack_event("ander")).encode()),
    }[case]
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        status, _ = await server.request("POST", "/webhook", data=body, headers=headers)
    assert status == 403
    assert bot.messages == []
    assert any("channel slack rejected" in r.message for r in caplog.records)


async def test_slack_replayed_event_and_bad_input(serve):
    bot = Bot()
    server = await serve(slack_channel(), bot)
    body = json.dumps(slack_event(event_id="EvREPLAY")).encode()
    assert (await server.request("POST", "/webhook", data=body, headers=slack_headers(body)))[0] == 200
    assert (await server.request("POST", "/webhook", data=body, headers=slack_headers(body)))[0] == 409
    for bad in (b"{nope", json.dumps({"type": "app_rate_limited"}).encode()):
        assert (await server.request("POST", "/webhook", data=bad, headers=slack_headers(bad)))[0] == 400
    big = json.dumps(slack_event("x" * 70_000, event_id="EvBIG")).encode()
    assert (await server.request("POST", "/webhook", data=big, headers=slack_headers(big)))[0] == 413
    await bot.wait()
    assert len(bot.messages) == 1


async def test_slack_url_verification_challenge(serve):
    server = await serve(slack_channel(), Bot())
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    status, text = await server.request("POST", "/webhook", data=body, headers=slack_headers(body))
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in text


def test_slack_token_without_signing_secret_refuses_to_start():
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException):
        SlackInput.from_credentials({"slack_token": "xoxb-test"})
    assert SlackInput.from_credentials(None).missing == ["GEHOOR_SLACK_TOKEN", "GEHOOR_SLACK_SIGNING_SECRET"]


# ---------------------------------------------------------------- Twilio

TWILIO_TOKEN = "12345678901234567890123456789012"
PUBLIC_URL = "https://bot.example.nl/webhooks/twilio/webhook"


def twilio_form(body: str = "Hoi", sid: str = "SM1234567890abcdef1234567890abcdef") -> dict:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC123", "From": "whatsapp:+31612345678",
            "To": "whatsapp:+14155238886", "Body": body, "NumMedia": "0"}


def twilio_sign(form: dict, url: str = PUBLIC_URL, token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


@pytest.fixture
def twilio_sent(monkeypatch):
    sent = []

    async def fake_send(self, message_data):
        sent.append(dict(message_data))

    monkeypatch.setattr(TwilioOutput, "_send_message", fake_send)
    return sent


def twilio_channel() -> TwilioInput:
    return TwilioInput.from_credentials({"account_sid": "AC123", "auth_token": TWILIO_TOKEN,
                                         "twilio_number": "whatsapp:+14155238886", "webhook_url": PUBLIC_URL})


async def twilio_post(server, form, signature):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await server.request("POST", "/webhook", data=urlencode(form), headers=headers)


async def test_twilio_signed_message_is_handled_and_answered(serve, twilio_sent):
    bot = Bot(reply={"text": "Hoe waarschijnlijk...?", "buttons": [{"title": "Ja", "payload": "ja"},
                                                                   {"title": "Nee", "payload": "nee"}]})
    server = await serve(twilio_channel(), bot)
    form = twilio_form()
    assert (await twilio_post(server, form, twilio_sign(form)))[0] == 204
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == ("Hoi", "twilio:whatsapp:+31612345678", "twilio")
    assert twilio_sent == [{"to": "whatsapp:+31612345678", "from_": "whatsapp:+14155238886",
                            "body": "Hoe waarschijnlijk...?\n(Ja / Nee)"}]


@pytest.mark.parametrize("case", ["unsigned", "wrong-token", "other-url", "tampered"])
async def test_twilio_bad_signature_is_403(serve, twilio_sent, caplog, case):
    bot = Bot(reply={"text": "x"})
    server = await serve(twilio_channel(), bot)
    form = twilio_form()
    signature = {
        "unsigned": None,
        "wrong-token": twilio_sign(form, token="0" * 32),
        "other-url": twilio_sign(form, url="https://evil.example/webhooks/twilio/webhook"),
        "tampered": twilio_sign(twilio_form("iets anders")),
    }[case]
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        assert (await twilio_post(server, form, signature))[0] == 403
    assert bot.messages == [] and twilio_sent == []
    assert any("channel twilio rejected" in r.message for r in caplog.records)


async def test_twilio_replay_bad_input_and_size(serve, twilio_sent):
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(twilio_channel(), bot)
    form = twilio_form(sid="SMreplay")
    assert (await twilio_post(server, form, twilio_sign(form)))[0] == 204
    assert (await twilio_post(server, form, twilio_sign(form)))[0] == 409
    not_a_message = {"AccountSid": "AC123", "CallStatus": "ringing"}
    assert (await twilio_post(server, not_a_message, twilio_sign(not_a_message)))[0] == 400
    big = twilio_form("x" * 70_000, sid="SMbig")
    assert (await twilio_post(server, big, twilio_sign(big)))[0] == 413
    assert len(bot.messages) == 1 and len(twilio_sent) == 1


# ---------------------------------------------------------------- REST with a token


async def test_rest_token_requires_the_bearer_token(serve, caplog):
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(TokenRestInput.from_credentials({"token": "t0ken"}), bot)
    body = json.dumps({"sender": "klant-42", "message": "8", "metadata": {"touchpoint": "app"},
                       "input_channel": "messenger"})
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dDBrZW4="},
                        {"Authorization": "Bearer"}):
            assert (await server.request("POST", "/webhook", data=body, headers=headers))[0] == 401
    assert bot.messages == []
    assert any("channel rest_token rejected" in r.message for r in caplog.records)

    status, text = await server.request("POST", "/webhook", data=body, headers={"Authorization": "Bearer t0ken"})
    assert status == 200
    assert json.loads(text) == [{"recipient_id": "rest_token:klant-42", "text": "Dank je."}]
    [message] = bot.messages
    assert (message.sender_id, message.input_channel, message.metadata) == (
        "rest_token:klant-42", "rest_token", {"touchpoint": "app"})


@pytest.mark.parametrize(
    "body, status",
    [("{nope", 400), ('["x"]', 400), ('{"sender": 5, "message": "x"}', 400), ('{"sender": "a", "message": 5}', 400),
     ('{"sender": "a", "message": "x", "metadata": "y"}', 400),
     (json.dumps({"sender": "a", "message": "x" * 70_000}), 413)],
    ids=["malformed", "array", "sender-type", "message-type", "metadata-type", "oversized"],
)
async def test_rest_token_bad_input(serve, body, status):
    bot = Bot()
    server = await serve(TokenRestInput.from_credentials({"token": "t0ken"}), bot)
    assert (await server.request("POST", "/webhook", data=body, headers={"Authorization": "Bearer t0ken"}))[0] == status
    assert bot.messages == []


async def test_rest_token_disabled_without_token(serve):
    server = await serve(TokenRestInput.from_credentials(None))
    assert (await server.request("POST", "/webhook", data="{}", headers={"Authorization": "Bearer "}))[0] == 404


async def test_same_customer_on_two_channels_gets_two_conversations(serve, fake_api, twilio_sent):
    from bot.channels.messenger import MessengerInput
    from bot.channels.telegram import TelegramInput

    same_id = "31612345678"
    api = await fake_api({"ok": True})
    bot = Bot()
    messenger = await serve(MessengerInput.from_credentials(
        {"verify_token": "v", "app_secret": "s", "page_access_token": "p", "graph_api_url": api.url}), bot)
    telegram = await serve(TelegramInput.from_credentials(
        {"access_token": "1:a", "secret_token": "x", "api_url": api.url}), bot)
    body = json.dumps({"object": "page", "entry": [{"id": "1", "messaging": [
        {"sender": {"id": same_id}, "recipient": {"id": "1"}, "timestamp": int(time.time() * 1000),
         "message": {"mid": "m", "text": "Hoi"}}]}]}).encode()
    signature = "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    await messenger.request("POST", "/webhook", data=body, headers={"X-Hub-Signature-256": signature})
    update = {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": int(same_id), "type": "private"},
                                          "text": "Hoi"}}
    await telegram.request("POST", "/webhook", data=json.dumps(update), headers={"X-Telegram-Bot-Api-Secret-Token": "x"})
    assert [m.sender_id for m in bot.messages] == [f"messenger:{same_id}", f"telegram:{same_id}"]
