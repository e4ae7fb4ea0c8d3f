"""Settings from environment variables, with documented defaults (see README, "Configuration").

Every setting is read at call time so tests can override them with monkeypatch.setenv.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def var_dir() -> Path:
    """Runtime state (SQLite files, logs, outbox, screenshots). Created on demand."""
    path = Path(os.environ.get("GEHOOR_VAR_DIR", ROOT / "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_url() -> str:
    """The story store's SQLAlchemy URL; default a SQLite file under var/."""
    return os.environ.get("GEHOOR_DB_URL") or f"sqlite:///{var_dir() / 'gehoor.db'}"


def tracker_db_path() -> Path:
    """Rasa's SQL tracker store file in the default (SQLite) profile."""
    return Path(os.environ.get("GEHOOR_TRACKER_DB", var_dir() / "tracker.db"))


def max_followups() -> int:
    return max(0, _int("GEHOOR_MAX_FOLLOWUPS", 3))


def story_write_delay_ms() -> int:
    """How long the action server waits for a conversation's next turn before writing its
    story (later turns replace the pending snapshot; one write instead of several)."""
    return max(0, _int("GEHOOR_STORY_WRITE_DELAY_MS", 300))


def idle_minutes() -> int:
    return max(1, _int("GEHOOR_IDLE_MINUTES", 30))


def follow_up_sla_hours(score, handoff: bool) -> int:
    """Hours until an opened follow-up is due: the tightest SLA that applies. Detractors
    (0-6) and hand-offs default to 24 h, passives (7-8), promoters (9-10) and stories
    without a score to 72 h (GEHOOR_FOLLOW_UP_HOURS_{DETRACTOR,HANDOFF,PASSIVE,PROMOTER,UNSCORED})."""
    if score is None:
        band, default = "UNSCORED", 72
    elif score <= 6:
        band, default = "DETRACTOR", 24
    elif score <= 8:
        band, default = "PASSIVE", 72
    else:
        band, default = "PROMOTER", 72
    hours = max(1, _int(f"GEHOOR_FOLLOW_UP_HOURS_{band}", default))
    if handoff:
        hours = min(hours, max(1, _int("GEHOOR_FOLLOW_UP_HOURS_HANDOFF", 24)))
    return hours


def company_name() -> str:
    return os.environ.get("GEHOOR_COMPANY", "Acme")


def default_language() -> str:
    return os.environ.get("GEHOOR_DEFAULT_LANGUAGE", "nl")


def rasa_port() -> int:
    return _int("GEHOOR_RASA_PORT", 5005)


def action_port() -> int:
    return _int("GEHOOR_ACTION_PORT", 5055)


def review_port() -> int:
    return _int("GEHOOR_REVIEW_PORT", 8000)


def web_port() -> int:
    return _int("GEHOOR_WEB_PORT", 8080)


def cors_origins() -> list:
    """GEHOOR_CORS_ORIGINS (comma-separated): the websites allowed to call Rasa from a browser
    (Rasa's --cors) and, unless GEHOOR_WIDGET_ORIGINS says otherwise, to open the widget.
    Unset: the demo page's origins only."""
    raw = os.environ.get("GEHOOR_CORS_ORIGINS")
    if raw and raw.strip():
        return [o.strip() for o in raw.split(",") if o.strip()]
    port = web_port()
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def _switch(name: str, default: bool, says: str) -> bool:
    """An on/off setting: unset or blank is `default`; a value that is neither on nor off
    stops start-up with the variable's name rather than guessing."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "on", "true", "yes"):
        return True
    if raw in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{name} must be {says}, got {raw!r}")


def rasa_patches_enabled() -> bool:
    """GEHOOR_RASA_PATCHES: `on` (default) installs Gehoor's Rasa patches when the Rasa server
    starts (bot/rasa_patches/); `off` runs stock Rasa."""
    return _switch("GEHOOR_RASA_PATCHES", True, "on or off")


def rest_dev_enabled() -> bool:
    """GEHOOR_REST_DEV: `1` turns on the unauthenticated plain REST channel
    (/webhooks/rest/webhook, bot/channels/rest_dev.py) for development, tests and
    benchmarks. Off by default: anyone reaching it could write into any conversation."""
    return _switch("GEHOOR_REST_DEV", False, "1 or 0")


def alerts_file():
    """GEHOOR_ALERTS_FILE: the YAML file with the notification rules (docs/notifications.md).
    Unset or empty: no alerts are enqueued or sent."""
    raw = os.environ.get("GEHOOR_ALERTS_FILE", "").strip()
    return Path(raw) if raw else None


def review_url() -> str:
    """GEHOOR_REVIEW_URL: the review app's address as staff open it; alerts link to
    <review_url>/stories/<id>. Default http://127.0.0.1:<GEHOOR_REVIEW_PORT>."""
    raw = os.environ.get("GEHOOR_REVIEW_URL", "").strip()
    return (raw or f"http://127.0.0.1:{review_port()}").rstrip("/")


def notify_worker() -> str:
    """GEHOOR_NOTIFY_WORKER: `action-server` (default) sends alerts from a thread of the action
    server; `off` leaves them to a separate `gehoor notify work` process."""
    raw = os.environ.get("GEHOOR_NOTIFY_WORKER", "").strip().lower() or "action-server"
    if raw not in ("action-server", "off"):
        raise ValueError(f"GEHOOR_NOTIFY_WORKER must be action-server or off, got {raw!r}")
    return raw


# Channels where a customer answers when it suits them (hours later): their conversation
# keeps its Rasa session, and so its story, for GEHOOR_SESSION_HOURS.
ASYNC_CHANNELS = ("messenger", "telegram", "twilio", "slack")


def _positive_float(name: str) -> "float | None":
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, got {raw!r}")
    return value


def session_window_minutes(channel: "str | None", domain_minutes: float) -> float:
    """How long a conversation may pause before the customer's next message starts a new Rasa
    session (a new story with empty slots). Asynchronous channels (ASYNC_CHANNELS):
    GEHOOR_SESSION_HOURS_<CHANNEL> (e.g. GEHOOR_SESSION_HOURS_TWILIO), else GEHOOR_SESSION_HOURS,
    default 24 (WhatsApp's customer-service window). The widget, REST and any other channel:
    GEHOOR_SESSION_MINUTES, else domain.yml's session_expiration_time (60)."""
    if channel in ASYNC_CHANNELS:
        hours = _positive_float(f"GEHOOR_SESSION_HOURS_{channel.upper()}") or _positive_float("GEHOOR_SESSION_HOURS")
        return (hours or 24.0) * 60
    return _positive_float("GEHOOR_SESSION_MINUTES") or float(domain_minutes)


def redis_url() -> "str | None":
    """The Redis that Rasa instances share for deduplicating resent messages: GEHOOR_REDIS_URL,
    else the lock store's GEHOOR_REDIS_HOST/_PORT/_DB/_PASSWORD (endpoints.prod.yml, set by
    `gehoor run-prod` and deploy/k8s). None in the default profile: per-process caches."""
    url = os.environ.get("GEHOOR_REDIS_URL", "").strip()
    if url:
        return url
    host = os.environ.get("GEHOOR_REDIS_HOST", "").strip()
    if not host:
        return None
    from urllib.parse import quote

    password = os.environ.get("GEHOOR_REDIS_PASSWORD", "")
    auth = f":{quote(password, safe='')}@" if password else ""
    port = os.environ.get("GEHOOR_REDIS_PORT", "").strip() or "6379"
    db = os.environ.get("GEHOOR_REDIS_DB", "").strip() or "0"
    return f"redis://{auth}{host}:{port}/{db}"


def redis_key_prefix() -> str:
    return os.environ.get("GEHOOR_REDIS_KEY_PREFIX", "").strip() or "gehoor"
