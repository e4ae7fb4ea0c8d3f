"""Retries never double a message.

* A REST client's resend of a message (same ``message_id``) after a timeout or a Rasa
  restart is handled once: one customer message in the tracker, and the resend gets the
  first answer. Per process always; across two Rasa instances through Redis.
* Platform retries (Telegram ``update_id`` here, the same ``SeenCache`` for Slack event ids,
  Messenger ``mid``s, Twilio ``MessageSid``s and widget message ids) are recognised by another
  Rasa instance when Redis is configured (``SET NX`` with a TTL), per process otherwise.

Redis tests skip without Redis on 127.0.0.1:6379 (GEHOOR_TEST_REDIS_URL), and fail under CI.
"""
from __future__ import annotations

import json
import os
import uuid

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import UserUttered

from bot.channels import common
from bot.channels.rest_dev import DevRestInput
from bot.channels.telegram import TelegramInput
from bot.ops.ports import free_port
from bot.rasa_patches import message_dedupe, store_unavailable
from channel_testkit import Bot
from model_agent import RasaServer, loaded_agent
from services import require

REDIS_URL = os.environ.get("GEHOOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_unavailable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"Redis not reachable at {REDIS_URL}: {exc}"


@pytest.fixture
def no_redis(monkeypatch):
    for name in ("GEHOOR_REDIS_URL", "GEHOOR_REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_redis(monkeypatch):
    """Redis configured as in the production profile, under a key prefix of this test only."""
    require(redis_unavailable(), "Redis")
    import redis

    prefix = f"gehoor-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("GEHOOR_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("GEHOOR_REDIS_KEY_PREFIX", prefix)
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


class RasaInstance(RasaServer):
    """A Rasa server's HTTP side (Rasa's register) around the shared agent."""

    def __init__(self, agent) -> None:
        super().__init__(agent, DevRestInput(enabled=True))

    async def post(self, sender: str, text: str, message_id: str):
        async with self.session.post(f"http://127.0.0.1:{self.port}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": text, "message_id": message_id}) as answer:
            return answer.status, await answer.json()


class ActionServer:
    """A stand-in action server: every action answers one bot message, numbered, so two
    handlings of one message would give two different answers."""

    def __init__(self) -> None:
        import http.server
        import itertools
        import threading

        counter = itertools.count(1)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"events": [], "responses": [{"text": f"antwoord {next(counter)}"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"


@pytest.fixture(scope="module")
def agent():
    from rasa.utils.endpoints import EndpointConfig

    store_unavailable.install()
    message_dedupe.install()
    agent = loaded_agent()
    actions = ActionServer()
    agent.tracker_store = agent.processor.tracker_store = InMemoryTrackerStore(agent.domain)
    agent.lock_store = agent.processor.lock_store = InMemoryLockStore()
    agent.action_endpoint = agent.processor.action_endpoint = EndpointConfig(actions.url)
    yield agent
    actions.server.shutdown()


async def customer_texts(agent, sender: str) -> list:
    tracker = await agent.tracker_store.retrieve(sender)
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


@pytest.mark.asyncio
async def test_a_rest_resend_is_handled_once_per_process(agent, no_redis):
    sender = f"rest:{uuid.uuid4().hex}"
    async with RasaInstance(agent) as rasa:
        first = await rasa.post(sender, "Hallo", "m-1")
        again = await rasa.post(sender, "Hallo", "m-1")
        other = await rasa.post(sender, "Hallo", "m-2")  # a new message with the same text is a new message
    assert first[0] == again[0] == other[0] == 200
    assert first[1] and again[1] == first[1] and other[1] != first[1]
    assert await customer_texts(agent, sender) == ["Hallo", "Hallo"]


@pytest.mark.asyncio
async def test_a_rest_resend_to_another_instance_is_handled_once(agent, shared_redis):
    sender = f"rest:{uuid.uuid4().hex}"
    async with RasaInstance(agent) as one, RasaInstance(agent) as two:
        first = await one.post(sender, "Hallo", "m-1")
        message_dedupe.MESSAGES.answers.clear()  # nothing of the first instance's memory helps
        message_dedupe.MESSAGES.local._items.clear()
        again = await two.post(sender, "Hallo", "m-1")
    assert (first[0], again[0]) == (200, 200) and first[1] and again[1] == first[1]
    assert await customer_texts(agent, sender) == ["Hallo"]


@pytest.mark.asyncio
async def test_a_failed_message_is_released_for_its_resend(agent, no_redis):
    from rasa.core.lock_store import RedisLockStore

    sender = f"rest:{uuid.uuid4().hex}"
    async with RasaInstance(agent) as rasa:
        agent.lock_store = agent.processor.lock_store = RedisLockStore(host="127.0.0.1", port=free_port())
        try:
            refused = await rasa.session.post(f"http://127.0.0.1:{rasa.port}/webhooks/rest/webhook",
                                              json={"sender": sender, "message": "Hallo", "message_id": "m-1"})
        finally:
            agent.lock_store = agent.processor.lock_store = InMemoryLockStore()
        retried = await rasa.post(sender, "Hallo", "m-1")
    assert refused.status == 503 and retried[0] == 200
    assert await customer_texts(agent, sender) == ["Hallo"]


def telegram_update(update_id: int) -> bytes:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": 11, "from": {"id": 42, "is_bot": False, "first_name": "Sanne"},
        "chat": {"id": 42, "type": "private"}, "date": 1700000000, "text": "Hoi"}}).encode()


async def post_telegram(server, update_id: int):
    return await server.request("POST", "/webhook", data=telegram_update(update_id),
                                headers={"Content-Type": "application/json",
                                         "X-Telegram-Bot-Api-Secret-Token": "s3cret"})


def telegram() -> TelegramInput:
    return TelegramInput.from_credentials({"access_token": "1:A", "secret_token": "s3cret",
                                           "api_url": "http://127.0.0.1:9"})


@pytest.mark.asyncio
async def test_a_platform_retry_reaching_another_instance_is_not_handled_again(serve, shared_redis):
    bot = Bot()
    one, two = await serve(telegram(), bot), await serve(telegram(), bot)
    assert (await post_telegram(one, 7001))[0] == 200
    assert await post_telegram(two, 7001) == (200, '{"status":"duplicate"}')
    assert len(bot.messages) == 1


@pytest.mark.asyncio
async def test_without_redis_each_instance_keeps_its_own_cache(serve, no_redis):
    bot = Bot()
    one = await serve(telegram(), bot)
    assert (await post_telegram(one, 7002))[0] == 200
    assert await post_telegram(one, 7002) == (200, '{"status":"duplicate"}')
    assert len(bot.messages) == 1


def test_seen_cache_uses_redis_with_a_ttl(shared_redis):
    import redis

    one, two = common.SeenCache(60), common.SeenCache(60)
    assert not one.seen("sid:SM1") and two.seen("sid:SM1") and "sid:SM1" in two
    ttl = redis.Redis.from_url(REDIS_URL).ttl(f"{shared_redis}:seen:sid:SM1")
    assert 0 < ttl <= 60
    two.forget("sid:SM1")
    assert "sid:SM1" not in one and not one.seen("sid:SM1")


def test_redis_down_falls_back_to_the_process_cache(monkeypatch, caplog):
    monkeypatch.setenv("GEHOOR_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    cache = common.SeenCache(60)
    assert not cache.seen("update:1") and cache.seen("update:1")
    assert any("Redis unreachable for message deduplication" in r.getMessage() for r in caplog.records)


def test_client_message_ids_are_checked():
    assert common.client_message_id({"message_id": "abc-1"}) == "abc-1"
    assert common.client_message_id({"metadata": {"message_id": "abc-2"}}) == "abc-2"
    assert common.client_message_id({"message_id": "x" * 129}) is None
    assert common.client_message_id({"message_id": "a\nb"}) is None
    assert common.client_message_id({"message_id": 5}) is None


@pytest.mark.asyncio
async def test_a_rest_resend_after_a_restart_without_redis_is_found_in_the_conversation(agent, no_redis):
    sender = f"rest:{uuid.uuid4().hex}"
    async with RasaInstance(agent) as rasa:
        first = await rasa.post(sender, "Hallo", "m-1")
    message_dedupe.MESSAGES.answers.clear()  # a restart: the process's memory is gone
    message_dedupe.MESSAGES.local._items.clear()
    async with RasaInstance(agent) as restarted:
        again = await restarted.post(sender, "Hallo", "m-1")
    assert again == first and first[1]
    assert await customer_texts(agent, sender) == ["Hallo"]
