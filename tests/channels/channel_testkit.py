"""Test kit for the channel tests: a real Sanic server on loopback running one Rasa
``InputChannel`` blueprint (mounted the way ``rasa.core.channels.channel.register``
mounts it), a fake ``on_new_message`` that records the ``UserMessage``s and answers
through the channel's output, a stand-in for Rasa's agent at ``app.ctx.agent`` (messages
recorded without an answer, e.g. edits, go to its ``log_message`` under Rasa's real
in-memory lock store), and fake platform APIs (aiohttp servers on loopback) that record
every request they get.
"""
from __future__ import annotations

import os

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from sanic import Sanic

from bot.ops.ports import free_port  # noqa: F401  (also imported from here by channel tests)


@dataclass
class Bot:
    """A stand-in for Rasa's agent: records messages, optionally replies through the channel."""

    reply: Optional[Dict[str, Any]] = None
    messages: List[UserMessage] = field(default_factory=list)
    logged: List[UserMessage] = field(default_factory=list)  # recorded without an answer
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.reply is not None and message.output_channel is not None:
            await message.output_channel.send_response(message.sender_id, dict(self.reply))
        self.done.set()

    async def wait(self, count: int = 1, timeout: float = 5) -> None:
        async def _wait() -> None:
            while len(self.messages) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(_wait(), timeout)


class RecordingAgent:
    """What a channel uses of Rasa's ``Agent`` to record a message without an answer."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.lock_store = InMemoryLockStore()

    def is_ready(self) -> bool:
        return True

    async def log_message(self, message: UserMessage) -> None:
        self.bot.logged.append(message)


class ChannelServer:
    def __init__(self, channel: InputChannel, bot: Bot) -> None:
        self.channel = channel
        self.bot = bot
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/webhooks/{channel.url_prefix()}"
        self._server: Any = None
        self.session: Optional[aiohttp.ClientSession] = None

    async def start(self) -> "ChannelServer":
        Sanic.test_mode = True
        app = Sanic(f"gehoor_channel_test_{uuid.uuid4().hex}")
        app.config.ACCESS_LOG = False
        app.ctx.agent = RecordingAgent(self.bot)
        app.blueprint(self.channel.blueprint(self.bot), url_prefix=f"/webhooks/{self.channel.url_prefix()}")
        self._server = await app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self.session:
            await self.session.close()
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
        assert self.session is not None
        async with self.session.request(method, self.url + path, **kwargs) as resp:
            return resp.status, await resp.text()


class FakeApi:
    """A fake platform API on loopback that records requests and answers ``answer``."""

    def __init__(self, answer: Dict[str, Any], status: int = 200) -> None:
        self.answer = answer
        self.status = status
        self.requests: List[Dict[str, Any]] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1", port=free_port())

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "content_type": request.content_type,
                "json": await request.json() if body and request.content_type == "application/json" else None,
            }
        )
        return web.json_response(self.answer, status=self.status)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> "FakeApi":
        await self.server.start_server()
        return self

    async def stop(self) -> None:
        await self.server.close()


