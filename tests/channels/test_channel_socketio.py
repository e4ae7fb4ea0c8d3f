"""The widget's socket.io channel (Rasa's SocketIOInput + Gehoor's input checks), driven
by a real python-socketio client against a real Sanic server on loopback."""
from __future__ import annotations

import asyncio
import contextlib
import logging

import jwt
import pytest
import socketio

from bot.channels.socketio import SocketIOInput, sanitize_metadata
from channel_testkit import Bot

SESSION = "0123456789abcdef0123456789abcdef"


def channel(**extra) -> SocketIOInput:
    return SocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData", **extra}
    )


async def connect(server, origin: str | None = None, auth=None, wait_timeout: float = 5) -> tuple[socketio.AsyncClient, list]:
    client = socketio.AsyncClient(reconnection=False)
    received: list = []
    client.on("bot_uttered", lambda data: received.append(("bot_uttered", data)))
    client.on("session_confirm", lambda data: received.append(("session_confirm", data)))
    headers = {"Origin": origin} if origin else {}
    await client.connect(server.base, headers=headers, auth=auth, transports=["polling"],
                         socketio_path="/socket.io", wait_timeout=wait_timeout)
    return client, received


async def until(predicate, timeout: float = 5) -> None:
    async def _wait():
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(_wait(), timeout)


async def test_session_message_metadata_and_buttons_round_trip(serve):
    bot = Bot(reply={"text": "Hoe waarschijnlijk...?", "buttons": [{"title": "Ja", "payload": "ja"}]})
    server = await serve(channel(), bot)
    client, received = await connect(server)
    try:
        await client.emit("session_request", {"session_id": SESSION})
        await until(lambda: ("session_confirm", SESSION) in received)
        await client.emit("user_uttered", {
            "session_id": SESSION, "message": "Hoi",
            "customData": {"page_url": "http://shop.example/bestelling", "touchpoint": "order_confirmation",
                           "order_ref": "A-1", "browser_language": "nl-NL", "nested": {"dropped": True}},
        })
        await until(lambda: any(kind == "bot_uttered" for kind, _ in received))
    finally:
        await client.disconnect()
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == ("Hoi", SESSION, "socketio")
    assert message.metadata == {"page_url": "http://shop.example/bestelling", "touchpoint": "order_confirmation",
                                "order_ref": "A-1", "browser_language": "nl-NL"}
    assert ("bot_uttered", {"text": "Hoe waarschijnlijk...?",
                            "quick_replies": [{"content_type": "text", "title": "Ja", "payload": "ja"}]}) in received


async def test_malformed_session_ids_and_messages_are_dropped(serve, caplog):
    bot = Bot(reply={"text": "x"})
    server = await serve(channel(), bot)
    client, received = await connect(server)
    try:
        await client.emit("session_request", {"session_id": "messenger:123"})
        await until(lambda: any(kind == "session_confirm" for kind, _ in received))
        confirmed = [data for kind, data in received if kind == "session_confirm"][0]
        assert confirmed != "messenger:123" and len(confirmed) == 32
        with caplog.at_level(logging.WARNING, logger="gehoor.channels"):
            for bad in (
                {"session_id": "messenger:123", "message": "Hoi"},
                {"message": "Hoi"},
                {"session_id": SESSION, "message": {"text": "Hoi"}},
                {"session_id": SESSION, "message": "x" * 5000},
                {"session_id": SESSION, "message": "Hoi", "customData": ["not", "an", "object"]},
                "just a string",
            ):
                await client.emit("user_uttered", bad)
            await client.emit("user_uttered", {"session_id": SESSION, "message": "ok"})
            await until(lambda: len(bot.messages) == 1)
    finally:
        await client.disconnect()
    assert [m.text for m in bot.messages] == ["ok"]
    assert sum("socketio: dropped" in r.message for r in caplog.records) == 6


async def test_origin_allow_list(serve):
    server = await serve(channel(allowed_origins="http://shop.example, http://127.0.0.1:8080"), Bot())
    client, _ = await connect(server, origin="http://shop.example")
    await client.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(server, origin="http://evil.example", wait_timeout=1)


async def test_signed_sessions_with_jwt(serve):
    server = await serve(channel(jwt_key="widget-secret-0123456789-abcdefghijkl", jwt_method="HS256"), Bot())
    token = jwt.encode({"user": {"username": "shop", "role": "guest"}}, "widget-secret-0123456789-abcdefghijkl", algorithm="HS256")
    client, _ = await connect(server, auth={"token": token})
    await client.disconnect()
    for auth in (None, {"token": jwt.encode({"x": 1}, "other-secret-0123456789-abcdefghijklm", algorithm="HS256")}):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(server, auth=auth, wait_timeout=1)


async def test_rate_limit(serve):
    bot = Bot()
    server = await serve(channel(max_messages_per_minute=3), bot)
    client, received = await connect(server)
    try:
        await client.emit("session_request", {"session_id": SESSION})
        await until(lambda: received)
        for i in range(5):
            await client.emit("user_uttered", {"session_id": SESSION, "message": str(i)})
        await asyncio.sleep(0.5)
    finally:
        await client.disconnect()
    assert [m.text for m in bot.messages] == ["0", "1", "2"]


def test_sanitize_metadata():
    assert sanitize_metadata('{"a": "b"}') == {"a": "b"}
    assert sanitize_metadata(None) == {}
    assert sanitize_metadata("not json") is None
    assert sanitize_metadata({"k": "v" * 900})["k"] == "v" * 500
    assert len(sanitize_metadata({f"k{i}": i for i in range(50)})) == 20


async def send_twice(server, message_id: str, around_first=None) -> tuple:
    """Open a session and send the same message twice, as the widget resends; both acks."""
    client, received = await connect(server)
    try:
        await client.emit("session_request", {"session_id": SESSION})
        await until(lambda: received)
        message = {"session_id": SESSION, "message": "8", "message_id": message_id, "customData": {}}
        with around_first or contextlib.nullcontext():
            first = await client.call("user_uttered", message, timeout=5)
        again = await client.call("user_uttered", message, timeout=5)
    finally:
        await client.disconnect()
    return first, again


async def test_resent_message_id_is_processed_once_and_acknowledged(serve):
    bot = Bot(reply={"text": "Dank je."})
    first, again = await send_twice(await serve(channel(), bot), "m-1")
    assert first == {"ok": True} and again is None  # both acknowledged; the second not processed
    assert [m.text for m in bot.messages] == ["8"]


class FailingOnceBot(Bot):
    """Rasa's agent when its lock store or tracker store is briefly down: the first message raises."""

    failures: int = 1

    async def __call__(self, message):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("lock store unavailable")
        await super().__call__(message)


async def test_a_message_the_bot_could_not_handle_is_acknowledged_as_failed_and_the_resend_is_processed(serve, caplog):
    bot = FailingOnceBot(reply={"text": "Dank je."})
    first, again = await send_twice(await serve(channel(), bot), "m-2",  # the resend: what the widget does next
                                    around_first=caplog.at_level(logging.ERROR, logger="gehoor.channels"))
    assert first == {"ok": False} and again == {"ok": True}
    assert [m.text for m in bot.messages] == ["8"], "processed exactly once, by the resend"
    assert any("could not be handled" in r.message for r in caplog.records)


# ------------------------------------------------- refused messages are told, never silently dropped


async def test_refused_messages_get_an_error_ack_the_widget_can_show(serve):
    """The Gehoor widget sends a message_id and waits for the acknowledgement: a refusal says why."""
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(channel(max_messages_per_minute=2, max_message_chars=100), bot)
    client, received = await connect(server)
    try:
        await client.emit("session_request", {"session_id": SESSION})
        await until(lambda: received)
        too_long = await client.call("user_uttered", {"session_id": SESSION, "message": "x" * 101,
                                                      "message_id": "long-1"}, timeout=5)
        acks = [await client.call("user_uttered", {"session_id": SESSION, "message": str(i), "message_id": f"m{i}"},
                                  timeout=5) for i in range(3)]
        await asyncio.sleep(0.2)
    finally:
        await client.disconnect()
    assert too_long == {"ok": False, "error": "too_long", "max_chars": 100, "retry": False}
    assert acks[:2] == [{"ok": True}, {"ok": True}]
    assert acks[2]["ok"] is False and acks[2]["error"] == "rate_limited" and acks[2]["retry"] is True
    assert 0 < acks[2]["retry_after"] <= 60
    assert [m.text for m in bot.messages] == ["0", "1"]
    # The widget shows the acknowledgement; it gets no extra bot message for it.
    assert [d for k, d in received if k == "bot_uttered"] == [{"text": "Dank je."}, {"text": "Dank je."}]


async def test_rasa_webchat_style_clients_get_a_bot_message_when_a_message_is_refused(serve):
    """rasa-webchat sends {message, customData, session_id} without message_id and ignores acks."""
    bot = Bot()
    server = await serve(channel(max_messages_per_minute=1, max_message_chars=100), bot)
    client, received = await connect(server)
    try:
        await client.emit("session_request", {"session_id": SESSION})
        await until(lambda: received)
        await client.emit("user_uttered", {"session_id": SESSION, "message": "x" * 101,
                                           "customData": {"language": "en"}})
        await until(lambda: any(k == "bot_uttered" for k, _ in received))
        await client.emit("user_uttered", {"session_id": SESSION, "message": "1", "customData": {}})
        await client.emit("user_uttered", {"session_id": SESSION, "message": "2", "customData": {}})
        await until(lambda: sum(k == "bot_uttered" for k, _ in received) == 2)
    finally:
        await client.disconnect()
    too_long, rate_limited = [d["text"] for k, d in received if k == "bot_uttered"]
    assert "too long" in too_long and "100" in too_long
    assert "opnieuw" in rate_limited  # the default language (nl) when the client says none
    assert [m.text for m in bot.messages] == ["1"]


async def test_a_websocket_client_holds_a_conversation(serve):
    """python-socketio's websocket transport (python-engineio's client needs an aiohttp that has
    ClientWSTimeout from 4.13 on; Rasa pins aiohttp < 3.10, so python-engineio is pinned to 4.12.3)."""
    bot = Bot(reply={"text": "Dank je."})
    server = await serve(channel(), bot)
    client = socketio.AsyncClient(reconnection=False)
    received: list = []
    client.on("bot_uttered", lambda data: received.append(data))
    client.on("session_confirm", lambda data: received.append(("session_confirm", data)))
    await client.connect(server.base, transports=["websocket"], socketio_path="/socket.io", wait_timeout=5)
    try:
        assert client.transport() == "websocket"
        await client.emit("session_request", {"session_id": SESSION})
        await until(lambda: ("session_confirm", SESSION) in received)
        ack = await client.call("user_uttered", {"session_id": SESSION, "message": "8", "message_id": "ws-1"}, timeout=5)
        await until(lambda: {"text": "Dank je."} in received)
    finally:
        await client.disconnect()
    assert ack == {"ok": True}
    assert [(m.text, m.sender_id) for m in bot.messages] == [("8", SESSION)]
