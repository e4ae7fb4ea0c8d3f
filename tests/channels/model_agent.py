"""The trained Rasa model (newest in models/) loaded once per test process, for the tests that
need Rasa's real processor (store outages, session windows, resent messages), and a Rasa
server's HTTP side around it. Skips when no model is trained."""
from __future__ import annotations

import asyncio
import functools
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic import Sanic

from bot.ops.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def _load(model: str):
    from rasa.core.agent import load_agent

    return asyncio.run(load_agent(model_path=model))


def loaded_agent():
    models = sorted((ROOT / "models").glob("*.tar.gz"))
    if not models:
        pytest.skip("no trained model in models/ (run `gehoor train`)")
    return _load(str(models[-1]))


class RasaServer:
    """A Sanic app with one input channel registered the way `rasa run` does it (Rasa's own
    `register`), around a loaded agent, on a free port; `session` is an aiohttp client."""

    def __init__(self, agent: Any, channel: Any) -> None:
        self.agent, self.channel, self.port = agent, channel, free_port()

    async def __aenter__(self) -> Any:
        import rasa.core.channels.channel as rasa_channel

        Sanic.test_mode = True
        app = Sanic(f"rasa_{uuid.uuid4().hex}")
        app.ctx.agent = self.agent
        rasa_channel.register([self.channel], app, "/webhooks/")
        self.server = await app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True,
                                              access_log=False)
        await self.server.startup()
        await self.server.after_start()
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.session.close()
        self.server.close()
        await self.server.wait_closed()
