"""Durable local outbox for story snapshots that could not be written to the database.

    box = Outbox(path=None)            # default <GEHOOR_VAR_DIR>/story-outbox.sqlite3
    box.append(snapshot) -> int        # durable (fsync'd: SQLite synchronous=FULL) before it returns
    box.depth() -> int
    box.flush(save) -> FlushReport     # oldest first; stops at the first failure that looks temporary
    box.remove_conversations(ids) -> int   # erasure: forget pending snapshots too

An append-only SQLite file separate from the store database (so a locked or unreachable
store does not block it). Snapshots are full-state upserts, so replaying them in order is
safe and idempotent. A snapshot that fails for a *permanent* reason (e.g. a constraint
violation) is moved to the `dead` table (kept, logged) so it cannot block the queue.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, TimeoutError as PoolTimeout

from bot import config
from bot.store.capture import StorySnapshot
from bot.store.models import utcnow

log = logging.getLogger(__name__)

TEMPORARY_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, ConnectionError, OSError)


def is_temporary(exc: BaseException) -> bool:
    """True when the database looks unreachable/locked/busy (retry later), False for bad data."""
    if isinstance(exc, TEMPORARY_ERRORS):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return False


def default_path() -> Path:
    return config.var_dir() / "story-outbox.sqlite3"


@dataclass
class FlushReport:
    flushed: int = 0
    dead: int = 0
    remaining: int = 0
    error: Optional[str] = None
    stories: list = field(default_factory=list)


class Outbox:
    def __init__(self, path: Optional[Path] = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "created_at TEXT NOT NULL, conversation_id TEXT NOT NULL, payload TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS dead (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, "
                "conversation_id TEXT NOT NULL, payload TEXT NOT NULL, error TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA synchronous=FULL")  # every append is on disk before we return
        return _Closing(conn)

    def append(self, snapshot: StorySnapshot) -> int:
        payload = json.dumps(snapshot.to_dict(), ensure_ascii=True)
        with self._lock, self._connect() as conn:
            conn.execute(
                "INSERT INTO outbox (created_at, conversation_id, payload) VALUES (?, ?, ?)",
                (utcnow().isoformat(), snapshot.conversation_id, payload),
            )
            depth = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        log.warning("story store unavailable: snapshot of %s queued in the outbox (depth %d)",
                    snapshot.conversation_id, depth)
        return depth

    def depth(self) -> int:
        with self._lock, self._connect() as conn:
            return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def dead_count(self) -> int:
        with self._lock, self._connect() as conn:
            return conn.execute("SELECT count(*) FROM dead").fetchone()[0]

    def pending(self) -> list:
        with self._lock, self._connect() as conn:
            rows = conn.execute("SELECT payload FROM outbox ORDER BY id").fetchall()
        return [StorySnapshot.from_dict(json.loads(p)) for (p,) in rows]

    def flush(self, save: Callable[[StorySnapshot], object], limit: Optional[int] = None) -> FlushReport:
        """Save queued snapshots oldest first; each is deleted only after `save` succeeded."""
        report = FlushReport()
        with self._lock:
            with self._connect() as conn:
                rows = conn.execute(
                    "SELECT id, created_at, conversation_id, payload FROM outbox ORDER BY id"
                    + (f" LIMIT {int(limit)}" if limit else "")
                ).fetchall()
            for row_id, created_at, conv, payload in rows:
                try:
                    snap = StorySnapshot.from_dict(json.loads(payload))
                    result = save(snap)
                except Exception as exc:  # noqa: BLE001
                    if is_temporary(exc):
                        report.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                        break
                    log.error("outbox: snapshot of %s failed permanently, moved to dead letters: %s", conv, exc)
                    with self._connect() as conn:
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute(
                            "INSERT INTO dead (id, created_at, conversation_id, payload, error) VALUES (?, ?, ?, ?, ?)",
                            (row_id, created_at, conv, payload, repr(exc)[:2000]),
                        )
                        conn.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                        conn.execute("COMMIT")
                    report.dead += 1
                    continue
                with self._connect() as conn:
                    conn.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                report.flushed += 1
                report.stories.append(getattr(result, "reference", None))
            report.remaining = self.depth()
        if report.flushed or report.dead:
            log.warning("outbox flushed %d snapshot(s) (%d dead); depth now %d",
                        report.flushed, report.dead, report.remaining)
        return report

    def remove_conversations(self, conversation_ids: Iterable[str]) -> int:
        ids = list(conversation_ids)
        if not ids or not self.path.exists():
            return 0
        removed = 0
        with self._lock, self._connect() as conn:
            for table in ("outbox", "dead"):
                for i in range(0, len(ids), 500):
                    chunk = ids[i:i + 500]
                    marks = ",".join("?" * len(chunk))
                    removed += conn.execute(
                        f"DELETE FROM {table} WHERE conversation_id IN ({marks})", chunk
                    ).rowcount
        return removed


class _Closing:
    """sqlite3.Connection as a context manager that closes (the stdlib one only commits)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()
