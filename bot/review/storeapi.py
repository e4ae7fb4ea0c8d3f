"""The review app's only door into bot/store (engine, migrations, search, export, redaction,
erasure). Everything the app needs from the store goes through here, so an interface change in
bot/store is adapted in one place.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from sqlalchemy import or_

from bot.store import db as store_db
from bot.store.models import Story

make_engine = store_db.make_engine
migrate = store_db.migrate
session_factory = store_db.session_factory

# ---------------------------------------------------------------------------- search
try:
    from bot.store import search as _search  # type: ignore
except ImportError:  # pragma: no cover
    _search = None


def search_clause(db, text: str):
    """A condition on Story for a full-text query (store's FTS helper; LIKE as a fallback)."""
    if _search is not None:
        return _search.search_clause(db, text)  # adapted below once the store module exists
    words = [w for w in re.split(r"\s+", text.strip()) if w][:8]
    return or_(*[Story.customer_text.ilike(f"%{w}%") for w in words]) if words else Story.id.isnot(None)


# ---------------------------------------------------------------------------- redaction
try:
    from bot.store import redact as _redact  # type: ignore
except ImportError:  # pragma: no cover
    _redact = None

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)(\+?\d[\d\s().-]{7,}\d)")


def redact_text(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    if _redact is not None:
        return _redact.redact_text(text)
    return _PHONE.sub("[telefoon]", _EMAIL.sub("[e-mail]", text))


# ---------------------------------------------------------------------------- export
try:
    from bot.store import export as _export  # type: ignore
except ImportError:  # pragma: no cover
    _export = None


def export_available() -> bool:
    return _export is not None


def export_stream(db, story_ids: Iterable[int], fmt: str, redact: bool) -> Iterable[str]:
    if _export is None:
        raise RuntimeError("bot.store.export is not available")
    raise NotImplementedError


# ---------------------------------------------------------------------------- erasure
try:
    from bot.store import erasure as _erasure  # type: ignore
except ImportError:  # pragma: no cover
    _erasure = None


def erasure_available() -> bool:
    return _erasure is not None


def erase_story(db, story_id: int, actor: str) -> Any:
    raise NotImplementedError


def forget_customer(db, contact: str, actor: str) -> Any:
    raise NotImplementedError
