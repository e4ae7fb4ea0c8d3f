"""No silent fallback: a message Rasa cannot handle because the tracker database or the Redis
lock store is down is answered 503 (the sender retries), never 200 with an empty list.

The real Rasa agent (the trained model in models/) behind Rasa's own REST channel, mounted
by Rasa's `register`; the stores are real ones pointed at closed ports on loopback:
GehoorSQLTrackerStore (the production type, wrapped in Rasa's FailSafeTrackerStore like
Rasa does) on PostgreSQL, and RedisLockStore.
"""
from __future__ import annotations

import uuid

import aiohttp
import pytest
from rasa.core.channels.channel import register
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

from bot.ops import metrics
from bot.ops.ports import free_port
from bot.rasa_patches import store_unavailable

from model_agent import RasaServer, loaded_agent


@pytest.fixture(scope="module")
def agent():
    store_unavailable.install()  # what bot.rasa_patches.install() does when Rasa starts
    return loaded_agent()


class RasaRest(RasaServer):
    """Rasa's REST channel registered the way `rasa run` does it."""

    def __init__(self, agent) -> None:
        super().__init__(agent, RestInput())

    async def post(self, text: str, sender: str):
        async with self.session.post(f"http://127.0.0.1:{self.port}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": text}) as answer:
            return answer.status, answer.headers.get("Retry-After"), await answer.text()

    async def get(self, path: str):
        async with self.session.get(f"http://127.0.0.1:{self.port}{path}") as answer:
            return answer.status, await answer.text()


def use_stores(agent, tracker_store, lock_store) -> None:
    agent.tracker_store = agent.processor.tracker_store = tracker_store
    agent.lock_store = agent.processor.lock_store = lock_store


def test_register_is_rasas_patched_one():
    store_unavailable.install()
    assert register is not None  # the test imports Rasa's module attribute at call time, not this name
    import rasa.core.channels.channel as rasa_channel

    assert getattr(rasa_channel.register, "gehoor_patch", False)


@pytest.mark.asyncio
async def test_lock_store_down_answers_503_and_readiness_fails(agent, caplog):
    use_stores(agent, InMemoryTrackerStore(agent.domain), RedisLockStore(host="127.0.0.1", port=free_port()))
    before = metrics.STORE_UNAVAILABLE.labels("lock")._value.get()
    async with RasaRest(agent) as rasa:
        status, retry_after, body = await rasa.post("hallo", f"rest:{uuid.uuid4().hex}")
        ready_status, ready_body = await rasa.get("/readyz")
        _, metrics_text = await rasa.get("/metrics")
    assert (status, retry_after) == (503, "5"), body  # stock Rasa: 200 and "[]"
    assert metrics.STORE_UNAVAILABLE.labels("lock")._value.get() == before + 1
    assert "gehoor_store_unavailable_total" in metrics_text
    assert ready_status == 503 and "lock store (Redis) unreachable" in ready_body
    assert any("refused (503" in r.getMessage() and "lock store unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_tracker_database_down_answers_503(agent, monkeypatch):
    monkeypatch.setenv("GEHOOR_TRACKER_WAIT_SECONDS", "0")
    closed = free_port()
    tracker_store = TrackerStore.create(
        EndpointConfig(type="bot.channels.tracker_store.GehoorSQLTrackerStore", dialect="postgresql",
                       url=f"postgresql://gehoor@127.0.0.1:{closed}/gone"), agent.domain)
    use_stores(agent, tracker_store, InMemoryLockStore())
    before = metrics.STORE_UNAVAILABLE.labels("tracker")._value.get()
    async with RasaRest(agent) as rasa:
        status, _, body = await rasa.post("hallo", f"rest:{uuid.uuid4().hex}")
        ready_status, ready_body = await rasa.get("/readyz")
    assert status == 503, body  # stock Rasa: 200 and "[]", the message lost
    assert metrics.STORE_UNAVAILABLE.labels("tracker")._value.get() == before + 1
    assert ready_status == 503 and "tracker store (SQL) unreachable" in ready_body


@pytest.mark.asyncio
async def test_with_the_stores_up_the_answer_and_readiness_are_unchanged(agent):
    use_stores(agent, InMemoryTrackerStore(agent.domain), InMemoryLockStore())
    async with RasaRest(agent) as rasa:
        status, _, body = await rasa.post("hallo", f"rest:{uuid.uuid4().hex}")
        # a keep-alive connection reused after a refusal is not refused again
        use_stores(agent, InMemoryTrackerStore(agent.domain), RedisLockStore(host="127.0.0.1", port=free_port()))
        refused, _, _ = await rasa.post("hallo", f"rest:{uuid.uuid4().hex}")
        use_stores(agent, InMemoryTrackerStore(agent.domain), InMemoryLockStore())
        again, _, again_body = await rasa.post("hallo", f"rest:{uuid.uuid4().hex}")
        ready_status, _ = await rasa.get("/readyz")
        async with rasa.session.get(f"http://127.0.0.1:{rasa.port}/metrics",
                                    headers={"X-Forwarded-For": "203.0.113.9"}) as proxied:
            proxied_status = proxied.status
    assert proxied_status == 404  # through the reverse proxy: not public
    # (no action server here: the answer is empty either way; the status is what changes)
    assert (status, body) == (200, "[]")
    assert refused == 503
    assert (again, again_body) == (200, "[]")
    assert ready_status == 200


@pytest.mark.asyncio
async def test_a_platform_webhook_gets_503_too_and_its_retry_is_handled(agent):
    """Telegram's channel lets the error through (Sanic would answer 500): 503 all the same,
    and the update is released, so Telegram's retry is handled once the store is back."""
    import json

    from bot.channels.telegram import TelegramInput

    use_stores(agent, InMemoryTrackerStore(agent.domain), RedisLockStore(host="127.0.0.1", port=free_port()))
    channel = TelegramInput.from_credentials({"access_token": "1:A", "secret_token": "s3cret",
                                              "api_url": "http://127.0.0.1:9"})
    update = json.dumps({"update_id": 9001, "message": {
        "message_id": 1, "from": {"id": 77, "is_bot": False, "first_name": "Sanne"},
        "chat": {"id": 77, "type": "private"}, "date": 1700000000, "text": "Hoi"}})
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    port = free_port()
    Sanic.test_mode = True
    app = Sanic(f"store_down_tg_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    import rasa.core.channels.channel as rasa_channel

    rasa_channel.register([channel], app, "/webhooks/")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.after_start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/webhooks/telegram/webhook"
            async with session.post(url, data=update, headers=headers) as answer:
                refused = answer.status
            use_stores(agent, InMemoryTrackerStore(agent.domain), InMemoryLockStore())
            async with session.post(url, data=update, headers=headers) as answer:
                retried = answer.status, await answer.text()
    finally:
        server.close()
        await server.wait_closed()
    assert refused == 503  # stock: 500
    assert retried == (200, '{"status":"ok"}')
    tracker = await agent.tracker_store.retrieve("telegram:77")
    assert [e.text for e in tracker.events if getattr(e, "text", None) == "Hoi" and e.type_name == "user"] == ["Hoi"]
