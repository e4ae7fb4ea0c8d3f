"""Review-app settings read from the environment at call time (documented in docs/review.md).

Shared settings (ports, DB URL, var dir) come from bot.config; the ones below only concern the
review app. TODO(lead): move them into bot/config.py when convenient.
"""
from __future__ import annotations

import os

from bot import config
from bot.store import keyed


def _flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def force_secure_cookies() -> bool:
    """GEHOOR_REVIEW_TLS=1: the app is only reached over HTTPS; always mark cookies Secure."""
    return _flag("GEHOOR_REVIEW_TLS")


def trust_proxy() -> int:
    """GEHOOR_REVIEW_TRUST_PROXY=N: number of reverse proxies in front of the app whose
    X-Forwarded-For / X-Forwarded-Proto headers are trusted (0 = none, the default)."""
    return max(0, _int("GEHOOR_REVIEW_TRUST_PROXY", 0))


def display_timezone() -> str:
    return os.environ.get("GEHOOR_TIMEZONE", "Europe/Amsterdam")


def session_hours() -> int:
    """GEHOOR_REVIEW_SESSION_HOURS: absolute lifetime of a login session (default 12)."""
    return max(1, _int("GEHOOR_REVIEW_SESSION_HOURS", 12))


def session_idle_minutes() -> int:
    """GEHOOR_REVIEW_SESSION_IDLE_MINUTES: a session unused this long ends (default 60)."""
    return max(1, _int("GEHOOR_REVIEW_SESSION_IDLE_MINUTES", 60))


def lockout_failures() -> int:
    return max(1, _int("GEHOOR_LOGIN_MAX_FAILURES", 5))


def lockout_ip_failures() -> int:
    return max(1, _int("GEHOOR_LOGIN_MAX_IP_FAILURES", 20))


def lockout_account_failures() -> int:
    """Failures for one account over all sources before only known devices may log in."""
    return max(1, _int("GEHOOR_LOGIN_MAX_ACCOUNT_FAILURES", 50))


def admin_totp_required() -> bool:
    """GEHOOR_REVIEW_ADMIN_TOTP=1: admins must use TOTP two-factor authentication."""
    return _flag("GEHOOR_REVIEW_ADMIN_TOTP")


def lockout_minutes() -> int:
    return max(1, _int("GEHOOR_LOGIN_LOCK_MINUTES", 15))


def dashboard_cache_seconds() -> int:
    """GEHOOR_REVIEW_DASHBOARD_CACHE: seconds the dashboard's aggregates are reused for the same
    filters (default 30; 0 = always live). Changes made in the app clear it at once."""
    return max(0, _int("GEHOOR_REVIEW_DASHBOARD_CACHE", 30))


def review_threads() -> int:
    return max(1, _int("GEHOOR_REVIEW_THREADS", 8))


def review_host() -> str:
    return os.environ.get("GEHOOR_REVIEW_HOST") or os.environ.get("GEHOOR_BIND") or "127.0.0.1"


def secret_key() -> str:
    """GEHOOR_SECRET_KEY, or a random key generated once and kept in var/review-secret.key (0600)."""
    env = os.environ.get("GEHOOR_SECRET_KEY", "").strip()
    if env:
        return env
    return keyed.key_file(config.var_dir() / "review-secret.key")
