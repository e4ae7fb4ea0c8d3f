"""credentials.yml and the shared channel helpers."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from rasa.core.run import create_http_input_channels

from bot.channels import common

ROOT = Path(__file__).resolve().parents[2]


def test_credentials_yml_runs_offline_with_only_the_widget_and_rest():
    channels = {c.name(): c for c in create_http_input_channels(None, str(ROOT / "credentials.yml"))}
    # rasa_patches: not a channel, the hook that installs bot/rasa_patches at start-up (credentials.yml)
    assert set(channels) == {"rasa_patches", "rest", "socketio", "rest_token", "messenger", "telegram", "slack", "twilio"}
    socketio = channels["socketio"]
    assert socketio.session_persistence is True
    assert socketio.metadata_key == "customData"
    assert socketio.jwt_key is None
    from bot import config  # the widget's origins default to the CORS origins (the demo page's)
    assert socketio.allowed_origins == config.cors_origins()
    assert channels["rest"].enabled is False, "plain REST needs GEHOOR_REST_DEV=1"
    for name in ("rest_token", "messenger", "telegram", "slack", "twilio"):
        assert channels[name].missing, name


def test_credentials_yml_enables_channels_from_the_environment(monkeypatch):
    env = {
        "GEHOOR_REST_TOKEN": "t", "GEHOOR_MESSENGER_VERIFY_TOKEN": "v", "GEHOOR_MESSENGER_APP_SECRET": "s",
        "GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN": "p", "GEHOOR_TELEGRAM_TOKEN": "1:a", "GEHOOR_TELEGRAM_SECRET_TOKEN": "x",
        "GEHOOR_SLACK_TOKEN": "xoxb-1", "GEHOOR_SLACK_SIGNING_SECRET": "s", "GEHOOR_TWILIO_ACCOUNT_SID": "AC1",
        "GEHOOR_TWILIO_AUTH_TOKEN": "t", "GEHOOR_TWILIO_NUMBER": "+3197000000000",
        "GEHOOR_WIDGET_ORIGINS": "https://www.acme.nl, https://acme.nl/", "GEHOOR_WIDGET_JWT_KEY": "k" * 32,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    channels = {c.name(): c for c in create_http_input_channels(None, str(ROOT / "credentials.yml"))}
    for name in ("rest_token", "messenger", "telegram", "slack", "twilio"):
        assert channels[name].missing == [], name
    assert channels["socketio"].allowed_origins == ["https://www.acme.nl", "https://acme.nl"]
    assert channels["socketio"].jwt_key == "k" * 32


def test_constant_time_equals():
    assert common.constant_time_equals("abc", "abc")
    assert not common.constant_time_equals("abc", "abd")
    assert not common.constant_time_equals("", "")
    assert not common.constant_time_equals(None, "x")
    assert not common.constant_time_equals("x", None)


def test_seen_cache_expires_and_is_bounded(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = common.SeenCache(ttl_seconds=10, max_items=3)
    assert not cache.seen("a")
    assert cache.seen("a")
    now[0] += 11
    assert not cache.seen("a")  # expired, seen anew
    for key in "bcd":
        cache.seen(key)
    assert "a" not in cache  # the oldest went when the cache was full
    assert "d" in cache


def test_split_text():
    assert common.split_text("kort", 10) == ["kort"]
    assert common.split_text("", 10) == []
    parts = common.split_text("een twee drie vier vijf zes zeven", 12)
    assert all(len(p) <= 12 for p in parts) and " ".join(parts) == "een twee drie vier vijf zes zeven"


def test_settings(monkeypatch):
    assert common.setting({"k": "from-yml"}, "k", "GEHOOR_X_TEST") == "from-yml"
    monkeypatch.setenv("GEHOOR_X_TEST", "from-env")
    assert common.setting({"k": ""}, "k", "GEHOOR_X_TEST") == "from-env"
    monkeypatch.setenv("GEHOOR_CHANNEL_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValueError, match="GEHOOR_CHANNEL_MAX_BODY_BYTES"):
        common.max_body_bytes()
