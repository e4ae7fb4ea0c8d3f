"""Jinja filters and globals: Dutch-friendly formatting (dd-mm-jjjj, 24-hour clock, decimal
comma, Europe/Amsterdam time) for an English UI."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from flask import Flask, g, request, url_for
from markupsafe import Markup

from bot.review import settings
from bot.review.filters import band_of
from bot.store.models import utcnow
from bot.store.textsafe import isolate

MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def to_local(value: Optional[datetime]) -> Optional[datetime]:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(settings.display_timezone()))


def fmt_datetime(value: Optional[datetime]) -> str:
    local = to_local(value)
    return local.strftime("%d-%m-%Y %H:%M") if local else "—"


def fmt_date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d-%m-%Y")


def fmt_time(value: Optional[datetime]) -> str:
    local = to_local(value)
    return local.strftime("%H:%M") if local else ""


def fmt_age(value: Optional[datetime]) -> str:
    if value is None:
        return "—"
    seconds = max(0, (utcnow() - value).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    if seconds < 86400 * 45:
        return f"{int(seconds // 86400)} d"
    local = to_local(value)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def fmt_number(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"  # 12,345.6
    return text.replace(",", "\u2009").replace(".", ",")  # 12 345,6 (thin space)


def fmt_pct(part, whole, decimals: int = 0) -> str:
    if not whole:
        return "—"
    return fmt_number(100.0 * part / whole, decimals) + "%"


def fmt_nps(value) -> str:
    if value is None:
        return "—"
    rounded = round(value)
    return f"+{rounded}" if rounded > 0 else str(rounded)


def snippet(text: Optional[str], words: int = 28) -> str:
    if not text:
        return ""
    parts = text.split()
    out = " ".join(parts[:words])
    return out + (" …" if len(parts) > words else "")


def humanize(value: Optional[str]) -> str:
    return (value or "").replace("_", " ")


def isolate_output(value):
    """Jinja `finalize`: every {{ value }} holding bidi controls or right-to-left letters is
    isolated (FSI … PDI), in text and in attributes alike; markup we built ourselves (Markup, e.g.
    the highlighted transcript, which uses <bdi dir="auto">) is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return isolate(value)
    return value


def install(app: Flask) -> None:
    app.jinja_env.finalize = isolate_output
    app.jinja_env.filters.update(
        datetime=fmt_datetime, date=fmt_date, time=fmt_time, age=fmt_age, number=fmt_number,
        nps=fmt_nps, snippet=snippet, humanize=humanize, band=band_of,
    )
    app.jinja_env.globals.update(pct=fmt_pct)

    @app.context_processor
    def _ctx():
        from bot.review.app import has_role

        def url_with(endpoint: str, params: dict, **override):
            merged = {k: v for k, v in params.items()}
            for k, v in override.items():
                if v in (None, ""):
                    merged.pop(k, None)
                else:
                    merged[k] = v
            return url_for(endpoint, **merged)

        return {
            "current_user": g.get("user"),
            "can_review": has_role("reviewer"),
            "is_admin": has_role("admin"),
            "url_with": url_with,
            "nav": request.endpoint or "",
        }
