"""Keyed hashes (HMAC-SHA256) of personal identifiers: pseudonyms for viewers, audit targets
after erasure, hashed search queries.

    keyed_hash(value, purpose) -> "64 hex characters"
    pseudonym(value, purpose) -> "anon-<16 hex>"   # short, stable, not reversible without the key

The key is kept outside the database, so a copy of the database alone cannot be used to test
guesses (a Dutch mobile number has ~10^8 possibilities: an unkeyed SHA-256 falls in seconds):
`GEHOOR_HASH_KEY` (hex or any text), or else a random key generated once in
`var/hash-secret.key` (mode 0600), like the review app's secret key. Losing the key only
means old hashes can no longer be matched to a given identifier; nothing else depends on it.
`purpose` separates uses ("conversation", "contact", "search"): the same value hashes
differently per purpose.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot import config

KEY_FILE = "hash-secret.key"


def key_file(path: Path) -> str:
    """The random key kept in ``path`` (mode 0600), generated there the first time; shared by
    this module and the review app's session key (bot/review/settings.py)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if key:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return key
        path.unlink()
        return key_file(path)
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def secret_key() -> bytes:
    env = os.environ.get("GEHOOR_HASH_KEY", "").strip()
    if env:
        return env.encode()
    return _cached_file_key(str(config.var_dir() / KEY_FILE))


@functools.lru_cache(maxsize=8)  # an export hashes every record's sender id: read the file once
def _cached_file_key(path: str) -> bytes:
    return key_file(Path(path)).encode()


def keyed_hash(value: str, purpose: str) -> str:
    msg = f"{purpose}\x00{value}".encode("utf-8", "surrogatepass")
    return hmac.new(secret_key(), msg, hashlib.sha256).hexdigest()


def pseudonym(value: str, purpose: str = "conversation") -> str:
    return "anon-" + keyed_hash(value, purpose)[:16]
