"""Twilio webhooks exactly as Twilio posts them (tests/channels/payloads/twilio_messaging_webhook_*.txt,
following https://www.twilio.com/docs/messaging/guides/webhook-request): every documented
parameter, blank ones included (``FromCity=``, ``Body=`` on a caption-less image), signed the
way Twilio signs (https://www.twilio.com/docs/usage/webhooks/webhooks-security)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.channels.twilio import TwilioInput, TwilioOutput
from channel_testkit import Bot

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "12345678901234567890123456789012"
PUBLIC_URL = "https://bot.example.nl/webhooks/twilio/webhook"


def twilio_signature(url: str, raw_body: str, token: str = TOKEN) -> str:
    """Twilio's algorithm, written out: the URL, then every POST parameter (blank ones too)
    sorted by name, name and value concatenated; HMAC-SHA1 with the auth token; base64."""
    signed = url + "".join(name + value for name, value in sorted(parse_qsl(raw_body, keep_blank_values=True)))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def payload(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


@pytest.fixture
def sent(monkeypatch):
    messages = []

    async def fake_send(self, message_data):
        messages.append(dict(message_data))

    monkeypatch.setattr(TwilioOutput, "_send_message", fake_send)
    return messages


def channel(number: str = "whatsapp:+14155238886") -> TwilioInput:
    return TwilioInput.from_credentials(
        {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": TOKEN,
         "twilio_number": number, "webhook_url": PUBLIC_URL})


async def post(server, raw_body: str, signature: str):
    return await server.request("POST", "/webhook", data=raw_body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def test_fixtures_carry_blank_parameters():
    """The measuring stick: without blank values the signature would differ."""
    for name in ("twilio_messaging_webhook_sms.txt", "twilio_messaging_webhook_whatsapp_image.txt"):
        raw = payload(name)
        blanks = [k for k, v in parse_qsl(raw, keep_blank_values=True) if v == ""]
        assert blanks, name
        without_blanks = urlencode(parse_qsl(raw))
        assert twilio_signature(PUBLIC_URL, raw) != twilio_signature(PUBLIC_URL, without_blanks)


async def test_real_inbound_sms_with_blank_geo_fields_is_answered(serve, sent):
    bot = Bot(reply={"text": "Dank je wel."})
    server = await serve(channel("+3197010250000"), bot)
    raw = payload("twilio_messaging_webhook_sms.txt")
    status, _ = await post(server, raw, twilio_signature(PUBLIC_URL, raw))
    assert status == 204
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == ("8", "twilio:+31612345678", "twilio")
    assert message.metadata["message_sid"] == "SM5f3a3c1e0b9d4e8fa1b2c3d4e5f60718"
    assert sent == [{"to": "+31612345678", "from_": "+3197010250000", "body": "Dank je wel."}]


async def test_whatsapp_text(serve, sent):
    bot = Bot(reply={"text": "Dank je wel."})
    server = await serve(channel(), bot)
    raw = payload("twilio_messaging_webhook_whatsapp_text.txt")
    assert (await post(server, raw, twilio_signature(PUBLIC_URL, raw)))[0] == 204
    [message] = bot.messages
    assert (message.text, message.sender_id) == ("De levering was te laat", "twilio:whatsapp:+31612345678")
    assert sent and sent[0]["to"] == "whatsapp:+31612345678"


async def test_captionless_whatsapp_image_is_answered_and_recorded(serve, sent):
    bot = Bot(reply={"text": "Sorry, ik lees alleen tekst."})
    server = await serve(channel(), bot)
    raw = payload("twilio_messaging_webhook_whatsapp_image.txt")
    assert (await post(server, raw, twilio_signature(PUBLIC_URL, raw)))[0] == 204
    [message] = bot.messages
    # Not an answer to the open question (the bot asks again), and the transcript says what came in.
    assert message.text.startswith("/nlu_fallback")
    assert "image/jpeg" in message.text and "MM9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f" in message.text
    assert message.metadata["media"] == [{"content_type": "image/jpeg"}]
    assert message.metadata["message_sid"] == "MM9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f"
    assert len(sent) == 1, "the customer gets an answer"


async def test_image_with_caption_uses_the_caption(serve, sent):
    bot = Bot(reply={"text": "ok"})
    server = await serve(channel(), bot)
    raw = payload("twilio_messaging_webhook_whatsapp_image.txt").replace("Body=&", "Body=Kapotte+doos&")
    assert (await post(server, raw, twilio_signature(PUBLIC_URL, raw)))[0] == 204
    [message] = bot.messages
    assert message.text == "Kapotte doos"
    assert message.metadata["media"] == [{"content_type": "image/jpeg"}]


async def test_blank_values_are_signed_too(serve, sent):
    """A signature computed without the blank parameters (what the old check verified) is refused."""
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(), bot)
    raw = payload("twilio_messaging_webhook_sms.txt")
    without_blanks = urlencode(parse_qsl(raw))
    assert (await post(server, raw, twilio_signature(PUBLIC_URL, without_blanks)))[0] == 403
    assert bot.messages == [] and sent == []


@pytest.mark.integration
def test_the_real_bot_answers_a_captionless_photo_and_the_transcript_shows_it(gehoor_stack):
    """What the channel hands Rasa for the caption-less image, through the real bot and store."""
    import uuid
    from urllib.parse import parse_qs

    from sanic.request import RequestParameters

    from bot.channels.twilio import inbound_message

    form = RequestParameters(parse_qs(payload("twilio_messaging_webhook_whatsapp_image.txt"), keep_blank_values=True))
    photo = inbound_message(form).text
    sender = f"twilio-photo-{uuid.uuid4().hex[:8]}"
    gehoor_stack.say(sender, "Hoi")
    answer = gehoor_stack.say(sender, photo)
    assert answer.strip(), "the customer gets an answer"
    story = gehoor_stack.story(sender)
    customer = [text for role, text in story.transcript if role == "customer"]
    assert customer[-1] == photo and "image/jpeg" in photo and "MM9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f" in photo
    assert story.score is None, "a photo is never a score"
    assert gehoor_stack.say(sender, "8").strip(), "the conversation goes on"


async def test_a_message_the_bot_could_not_handle_is_503_and_twilios_retry_is_handled(serve, sent):
    class FailingOnce(Bot):
        failures = 1

        async def __call__(self, message):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("lock store unavailable")
            await super().__call__(message)

    bot = FailingOnce(reply={"text": "Dank je wel."})
    server = await serve(channel("+3197010250000"), bot)
    raw = payload("twilio_messaging_webhook_sms.txt")
    assert (await post(server, raw, twilio_signature(PUBLIC_URL, raw)))[0] == 503  # Twilio retries on 5xx
    assert (await post(server, raw, twilio_signature(PUBLIC_URL, raw)))[0] == 204
    assert [m.text for m in bot.messages] == ["8"] and len(sent) == 1
