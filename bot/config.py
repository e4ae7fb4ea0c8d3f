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
