"""Server-side staff sessions (table staff_sessions, migration 0004).

The signed session cookie holds only a random token (256 bits); the table holds its SHA-256,
the user, when it started, when it was last used and whether (and why) it was revoked. A
session ends:

- at logout, when the user's password, role or disabled flag changes, when the account is
  removed, and when an admin ends the user's sessions (Staff page, `gehoor staff logout`);
- after GEHOOR_REVIEW_SESSION_IDLE_MINUTES (default 60) without a request (idle timeout);
- GEHOOR_REVIEW_SESSION_HOURS (default 12) after login, however active (absolute lifetime).

Revoked and expired rows are kept for 30 days (who was logged in when), then deleted at the
next login.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Optional

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.review import settings
from bot.store.models import StaffSession, StaffUser, utcnow

TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often per session
KEEP_ENDED = timedelta(days=30)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start(db: Session, user: StaffUser, ip: Optional[str] = None) -> str:
    """A new session for `user`; returns the token to put in the cookie (not committed)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.execute(delete(StaffSession).where(StaffSession.created_at < now - KEEP_ENDED))
    db.add(StaffSession(id=digest(token), user_id=user.id, created_at=now, last_seen_at=now, ip=(ip or "")[:64] or None))
    return token


def check(db: Session, token: Optional[str]) -> Optional[StaffUser]:
    """The active user of this session token, or None (revoking it when it has just expired)."""
    if not token or not isinstance(token, str):
        return None
    row = db.get(StaffSession, digest(token))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    reason = None
    if now - row.created_at >= timedelta(hours=settings.session_hours()):
        reason = "expired"
    elif now - row.last_seen_at >= timedelta(minutes=settings.session_idle_minutes()):
        reason = "idle"
    user = db.get(StaffUser, row.user_id)
    if user is None or user.disabled:
        reason = reason or "disabled"
    if reason:
        row.revoked_at, row.revoked_reason = now, reason
        db.commit()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.commit()
    return user


def end(db: Session, token: Optional[str], reason: str = "logout") -> None:
    if token and isinstance(token, str):
        db.execute(update(StaffSession).where(StaffSession.id == digest(token), StaffSession.revoked_at.is_(None))
                   .values(revoked_at=utcnow(), revoked_reason=reason))


def end_all(db: Session, user_id: int, reason: str, keep_token: Optional[str] = None) -> int:
    """Revoke every active session of a user (but `keep_token`'s); returns how many."""
    q = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
    if keep_token:
        q = q.where(StaffSession.id != digest(keep_token))
    return db.execute(q.values(revoked_at=utcnow(), revoked_reason=reason)).rowcount or 0


def active_counts(db: Session) -> dict:
    """user_id -> number of sessions not revoked (expired ones are counted until next used)."""
    rows = db.execute(select(StaffSession.user_id, func.count()).where(StaffSession.revoked_at.is_(None))
                      .group_by(StaffSession.user_id)).all()
    return {uid: n for uid, n in rows}
