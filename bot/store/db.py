"""Engines, sessions and migrations for the story store.

    make_engine(url=None) -> Engine          # default bot.config.db_url()
    migrate(engine_or_url=None) -> str       # Alembic `upgrade head`; returns the head revision
    session_factory(engine=None) -> sessionmaker
    session_scope(factory_or_engine=None)    # context manager: commit on success, rollback on error
    get_engine() -> Engine                   # process-wide engine for bot.config.db_url()

SQLite: WAL journal, foreign keys ON (so ON DELETE CASCADE works), busy_timeout 5 s,
synchronous NORMAL, check_same_thread False. PostgreSQL: pool_pre_ping. A schema can be
selected with the libpq `options` URL parameter, e.g.
`postgresql://u@h/db?options=-csearch_path%3Dmy_schema` (the tests do this).

The action server and the review app both call `migrate()` on start-up; concurrent calls
are serialised (a file lock next to the SQLite file, a PostgreSQL advisory lock).
"""
from __future__ import annotations

import contextlib
import fcntl
import threading
from pathlib import Path
from typing import Iterator, Optional, Union

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from bot import config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
_PG_MIGRATE_LOCK_KEY = 0x6765686F  # "geho"

_engines: dict = {}
_engines_lock = threading.Lock()


def make_engine(url: Optional[str] = None, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs) -> Engine:
    """A new Engine for `url` (default: `bot.config.db_url()`), tuned for the dialect."""
    url = url or config.db_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:") or "mode=memory" in str(url)
        if not memory:
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        connect_args.update(kwargs.pop("connect_args", {}))
        if memory:
            kwargs.setdefault("poolclass", StaticPool)
        else:
            # SQLAlchemy 1.4 defaults to NullPool for SQLite files: closing a WAL connection
            # checkpoints, which costs milliseconds per write. Keep connections open instead.
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("pool_size", 5)
            kwargs.setdefault("max_overflow", 10)
        engine = create_engine(url, connect_args=connect_args, future=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, future=True, **kwargs)


def get_engine() -> Engine:
    """The process-wide engine for the configured URL (created once per URL)."""
    url = config.db_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def session_factory(engine: Optional[Engine] = None) -> sessionmaker:
    return sessionmaker(bind=engine or get_engine(), future=True, expire_on_commit=False)


@contextlib.contextmanager
def session_scope(factory_or_engine: Union[sessionmaker, Engine, None] = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    if factory_or_engine is None or isinstance(factory_or_engine, Engine):
        factory = session_factory(factory_or_engine)
    else:
        factory = factory_or_engine
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: Optional[str] = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextlib.contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATE_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATE_LOCK_KEY})
            conn.commit()
        return
    database = conn.engine.url.database if conn.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).expanduser().resolve().with_name(Path(database).name + ".migrate.lock")
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine_or_url: Union[Engine, str, None] = None) -> str:
    """Bring the store's schema to the newest revision (Alembic `upgrade head`).

    Safe to call on every start-up and from several processes at once. Returns the
    revision the database is at afterwards.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    owned = not isinstance(engine_or_url, Engine)
    engine = make_engine(engine_or_url) if owned else engine_or_url
    try:
        with engine.connect() as conn:
            with _migration_lock(conn):
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
                return MigrationContext.configure(conn).get_current_revision() or ""
    finally:
        if owned:
            engine.dispose()


def current_revision(engine: Engine) -> Optional[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
