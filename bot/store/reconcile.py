"""Rebuild or complete stories from Rasa's SQL tracker store (the source of truth for what
was said), e.g. after the store database was unreachable and the outbox was lost, or to
import conversations held before Gehoor's store existed.

    tracker_db_url() -> str            # GEHOOR_TRACKER_DB_URL, default sqlite:///<GEHOOR_TRACKER_DB>
    iter_sender_events(tracker_engine, sender_ids=None) -> Iterator[(sender_id, [event dict])]
    reconcile(factory=None, tracker_url=None, *, sender_ids=None) -> ReconcileReport

Rasa's `events` table (id, sender_id, type_name, timestamp, intent_name, action_name, data)
is read in id order, sender by sender (never all senders at once), and every session (split
at `session_started`) is saved through the idempotent `StoryRepository.save`, so running it
any number of times is safe: it adds what is missing and never duplicates.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Iterator, Optional

from pathlib import Path

from sqlalchemy import MetaData, Table, create_engine, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import sessionmaker

from bot import config
from bot.store.capture import snapshot_from_events, split_sessions
from bot.store.repository import StoryRepository

log = logging.getLogger(__name__)


def tracker_db_url() -> str:
    return os.environ.get("GEHOOR_TRACKER_DB_URL") or f"sqlite:///{config.tracker_db_path()}"


def tracker_engine(url: Optional[str] = None) -> Engine:
    """An engine on Rasa's tracker database. Plain settings: we do not change Rasa's journal
    mode, and a missing SQLite file is not created (it is opened read-only until it exists)."""
    url = url or tracker_db_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_engine(url, future=True, connect_args={"timeout": 30, "check_same_thread": False})
    return create_engine(url, future=True, pool_pre_ping=True)


def _sqlite_file_missing(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return False
    db = engine.url.database
    return bool(db) and db != ":memory:" and not Path(db).exists()


def events_table(engine: Engine) -> Optional[Table]:
    if _sqlite_file_missing(engine) or not inspect(engine).has_table("events"):
        return None
    return Table("events", MetaData(), autoload_with=engine)


def iter_sender_events(engine: Engine, sender_ids: Optional[list] = None, batch: int = 2000) -> Iterator[tuple]:
    table = events_table(engine)
    if table is None:
        return
    with engine.connect() as conn:
        if sender_ids is None:
            senders = [r[0] for r in conn.execute(select(table.c.sender_id).distinct().order_by(table.c.sender_id))]
        else:
            senders = list(sender_ids)
        for sender in senders:
            events = []
            last_id = None
            while True:
                stmt = select(table.c.id, table.c.data).where(table.c.sender_id == sender)
                if last_id is not None:
                    stmt = stmt.where(table.c.id > last_id)
                rows = conn.execute(stmt.order_by(table.c.id).limit(batch)).all()
                for row_id, data in rows:
                    try:
                        ev = json.loads(data) if isinstance(data, str) else data
                    except (TypeError, ValueError):
                        log.warning("reconcile: unreadable event %s of %s skipped", row_id, sender)
                        continue
                    if isinstance(ev, dict):
                        events.append(ev)
                if len(rows) < batch:
                    break
                last_id = rows[-1][0]
            yield sender, events


@dataclass
class ReconcileReport:
    senders: int = 0
    sessions: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    messages_added: int = 0
    empty_sessions: int = 0
    tracker_found: bool = True
    references: list = field(default_factory=list)


def reconcile(
    factory: Optional[sessionmaker] = None,
    tracker_url: Optional[str] = None,
    *,
    sender_ids: Optional[list] = None,
) -> ReconcileReport:
    repo = StoryRepository(factory)
    engine = tracker_engine(tracker_url)
    report = ReconcileReport()
    try:
        if events_table(engine) is None:
            report.tracker_found = False
            return report
        for sender, events in iter_sender_events(engine, sender_ids):
            report.senders += 1
            for session_events in split_sessions(events):
                report.sessions += 1
                snap = snapshot_from_events(sender, session_events)
                if snap is None:
                    report.empty_sessions += 1
                    continue
                result = repo.save(snap)
                report.messages_added += result.messages_added
                if result.created:
                    report.created += 1
                    report.references.append(result.reference)
                elif result.messages_added:
                    report.updated += 1
                else:
                    report.unchanged += 1
    finally:
        engine.dispose()
    return report
