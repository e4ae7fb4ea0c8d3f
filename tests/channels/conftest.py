"""Fixtures for the channel tests (helpers in channel_testkit.py)."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import pytest
import pytest_asyncio
from rasa.core.channels.channel import InputChannel

from channel_testkit import Bot, ChannelServer, FakeApi


@pytest_asyncio.fixture
async def serve():
    """``await serve(channel, bot)`` → a started ChannelServer; all stopped at the end."""
    servers: List[ChannelServer] = []

    async def _serve(channel: InputChannel, bot: Optional[Bot] = None) -> ChannelServer:
        server = await ChannelServer(channel, bot or Bot()).start()
        servers.append(server)
        return server

    yield _serve
    for server in servers:
        await server.stop()


@pytest_asyncio.fixture
async def fake_api():
    apis: List[FakeApi] = []

    async def _fake(answer: Dict[str, Any], status: int = 200) -> FakeApi:
        api = await FakeApi(answer, status).start()
        apis.append(api)
        return api

    yield _fake
    for api in apis:
        await api.stop()


@pytest.fixture(autouse=True)
def _no_channel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Channel settings come only from what each test passes."""
    for name in list(os.environ):
        if name.startswith(("GEHOOR_MESSENGER_", "GEHOOR_TELEGRAM_", "GEHOOR_SLACK_", "GEHOOR_TWILIO_", "GEHOOR_REST_", "GEHOOR_WIDGET_", "GEHOOR_CHANNEL_")):
            monkeypatch.delenv(name, raising=False)
