"""The real services some tests need, and the one rule for when they are missing:
skip with the reason, except under CI (env CI set), where the tests must run and so fail."""
from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest
from sqlalchemy import create_engine, text

from bot.ops.ports import free_port  # noqa: F401  (tests and bench/ import it from here)

PG_URL = os.environ.get("GEHOOR_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@functools.lru_cache(maxsize=None)
def pg_unavailable(url: str = PG_URL) -> Optional[str]:
    """None when PostgreSQL answers at `url`, else why not."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL not reachable at {url}: {str(exc).strip().splitlines()[0]}"


def require(reason: Optional[str], what: str) -> None:
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: {what} tests must run)")
        pytest.skip(reason)


def require_pg() -> None:
    require(pg_unavailable(), "PostgreSQL")


def require_prod_services() -> None:
    """PostgreSQL, Redis, RabbitMQ and nginx for the production-profile suites (tests/prod)."""
    from bot.ops.loadgen import services_unavailable

    reason = services_unavailable()
    require(f"production services unavailable: {reason}" if reason else None, "production")


@contextlib.contextmanager
def pg_schema_url(prefix: str) -> Iterator[str]:
    """A URL whose search_path is a fresh, private schema; the schema is dropped afterwards."""
    require_pg()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            # a test that leaked an open transaction must not hang the run
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until ``url`` answers; raises with the end of ``log`` when ``process`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} died (exit {process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} not up after {timeout} s:\n{log.read_text()[-3000:]}")
