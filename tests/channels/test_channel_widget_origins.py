"""Which websites may open the widget's socket.io connection: GEHOOR_WIDGET_ORIGINS, else the
same origins as GEHOOR_CORS_ORIGINS (else the demo page's) — never "any website" by default."""
from __future__ import annotations

import logging

import pytest
import socketio

from bot.channels.socketio import SocketIOInput
from channel_testkit import Bot


def channel(**extra) -> SocketIOInput:
    return SocketIOInput.from_credentials({"session_persistence": True, **extra})


async def connect(server, origin: str | None):
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.base, headers={"Origin": origin} if origin else {}, transports=["polling"],
                         socketio_path="/socket.io", wait_timeout=2)
    await client.disconnect()


async def test_widget_origins_default_to_the_cors_origins(serve, monkeypatch, caplog):
    monkeypatch.setenv("GEHOOR_CORS_ORIGINS", "https://www.acme.nl, https://acme.nl/")
    server = await serve(channel(), Bot())
    assert server.channel.allowed_origins == ["https://www.acme.nl", "https://acme.nl"]
    await connect(server, "https://acme.nl")
    with caplog.at_level(logging.WARNING, logger="gehoor.channels"), pytest.raises(socketio.exceptions.ConnectionError):
        await connect(server, "https://evil.example")
    [line] = [r.getMessage() for r in caplog.records if "refused a connection from origin" in r.getMessage()]
    assert "https://evil.example" in line and "GEHOOR_WIDGET_ORIGINS" in line


async def test_without_any_setting_only_the_demo_page_may_connect(serve, monkeypatch):
    monkeypatch.delenv("GEHOOR_CORS_ORIGINS", raising=False)
    monkeypatch.setenv("GEHOOR_WEB_PORT", "8089")
    server = await serve(channel(), Bot())
    assert server.channel.allowed_origins == ["http://127.0.0.1:8089", "http://localhost:8089"]
    await connect(server, "http://localhost:8089")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(server, "https://evil.example")


async def test_widget_origins_win_over_cors_and_star_allows_any(serve, monkeypatch):
    monkeypatch.setenv("GEHOOR_CORS_ORIGINS", "https://www.acme.nl")
    monkeypatch.setenv("GEHOOR_WIDGET_ORIGINS", "https://shop.acme.nl")
    server = await serve(channel(), Bot())
    await connect(server, "https://shop.acme.nl")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(server, "https://www.acme.nl")
    anywhere = await serve(channel(allowed_origins="*"), Bot())
    await connect(anywhere, "https://evil.example")


async def test_a_client_without_origin_header_is_not_a_website(serve, monkeypatch):
    """Browsers always send Origin cross-site; none means a same-origin page or a non-browser client."""
    monkeypatch.setenv("GEHOOR_CORS_ORIGINS", "https://www.acme.nl")
    server = await serve(channel(), Bot())
    await connect(server, None)
