"""The unauthenticated plain REST channel (/webhooks/rest/webhook): off unless GEHOOR_REST_DEV=1,
and never a door into another channel's conversations."""
from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from bot import config
from bot.channels.rest_dev import DevRestInput, foreign_namespace
from channel_testkit import Bot, ChannelServer

CREDENTIALS = Path(__file__).resolve().parents[2] / "credentials.yml"


class CredentialsServer(ChannelServer):
    """Every channel of credentials.yml, mounted the way `rasa run` mounts them."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(DevRestInput(), bot)
        self.url = f"{self.base}/webhooks/rest"

    async def start(self) -> "CredentialsServer":
        Sanic.test_mode = True
        app = Sanic(f"gehoor_credentials_test_{uuid.uuid4().hex}")
        app.ctx.agent = SimpleNamespace(handle_message=self.bot)
        register(create_http_input_channels(None, str(CREDENTIALS)), app, route="/webhooks/")
        self._server = await app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True,
                                               access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.session = aiohttp.ClientSession()
        return self


@pytest.fixture
def messenger_configured(monkeypatch):
    monkeypatch.setenv("GEHOOR_MESSENGER_VERIFY_TOKEN", "v")
    monkeypatch.setenv("GEHOOR_MESSENGER_APP_SECRET", "s")
    monkeypatch.setenv("GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN", "p")


@pytest.fixture
async def stack():
    servers = []

    async def _start(bot: Bot) -> CredentialsServer:
        server = await CredentialsServer(bot).start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        await server.stop()


async def test_without_the_dev_switch_plain_rest_is_off(stack, messenger_configured, caplog):
    bot = Bot(reply={"text": "Dank je."})
    server = await stack(bot)
    body = json.dumps({"sender": "messenger:6654321", "message": "Mijn score is 0"})
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        status, _ = await server.request("POST", "/webhook", data=body)
    assert status in (403, 404)
    assert bot.messages == []
    assert any("channel rest rejected" in r.message for r in caplog.records)
    status, text = await server.request("GET", "/")
    assert status == 200 and json.loads(text)["status"] == "disabled"


@pytest.mark.parametrize("sender", [
    "messenger:6654321", "telegram:123456789", "twilio:whatsapp:+31612345678", "slack:U2147483697",
    "rest_token:klant-42", "socketio:0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef",
])
async def test_with_the_dev_switch_another_channels_sender_is_refused(stack, messenger_configured, monkeypatch,
                                                                      caplog, sender):
    monkeypatch.setenv("GEHOOR_REST_DEV", "1")
    bot = Bot(reply={"text": "Dank je."})
    server = await stack(bot)
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
        status, text = await server.request("POST", "/webhook", data=json.dumps({"sender": sender, "message": "0"}))
    assert status == 403 and "belongs to the" in text
    assert bot.messages == []
    assert any("channel rest rejected" in r.message for r in caplog.records)


async def test_with_the_dev_switch_a_plain_sender_is_answered_on_channel_rest(stack, monkeypatch):
    monkeypatch.setenv("GEHOOR_REST_DEV", "1")
    bot = Bot(reply={"text": "Dank je."})
    server = await stack(bot)
    body = json.dumps({"sender": "dev-klant-1", "message": "8", "input_channel": "messenger"})
    status, text = await server.request("POST", "/webhook", data=body)
    assert status == 200 and json.loads(text) == [{"recipient_id": "dev-klant-1", "text": "Dank je."}]
    [message] = bot.messages
    assert (message.sender_id, message.input_channel) == ("dev-klant-1", "rest")


@pytest.mark.parametrize("body", [b"[]", b'"hoi"', b"null", b"{nope", b'{"sender": 5, "message": "x"}',
                                  b'{"sender": "a", "message": {"t": 1}}'])
async def test_with_the_dev_switch_malformed_bodies_are_400(serve, body):
    bot = Bot()
    server = await serve(DevRestInput(enabled=True), bot)
    assert (await server.request("POST", "/webhook", data=body))[0] == 400
    assert bot.messages == []


def test_foreign_namespace():
    assert foreign_namespace("load-1-abc") is None
    assert foreign_namespace("messenger:1") == "messenger"
    assert foreign_namespace("0123456789ABCDEF0123456789ABCDEF") is None  # widget ids are lowercase


@pytest.mark.parametrize("raw, expected", [("", False), ("0", False), ("off", False), ("1", True), ("yes", True)])
def test_rest_dev_setting(monkeypatch, raw, expected):
    monkeypatch.setenv("GEHOOR_REST_DEV", raw)
    assert config.rest_dev_enabled() is expected


def test_rest_dev_setting_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("GEHOOR_REST_DEV", "maybe")
    with pytest.raises(ValueError):
        config.rest_dev_enabled()
