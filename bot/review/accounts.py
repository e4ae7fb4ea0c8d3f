"""Staff accounts: argon2 password hashing, account management, login with throttling.

Throttling is kept in the audit log (action ``login_failed``), so it survives restarts and is
shared by every process that uses the same database:

- per account: ``GEHOOR_LOGIN_MAX_FAILURES`` (5) failed logins within ``GEHOOR_LOGIN_LOCK_MINUTES``
  (15) lock the account for logins until the oldest of those failures is 15 minutes old; a
  successful login resets the count;
- per client IP: ``GEHOOR_LOGIN_MAX_IP_FAILURES`` (20) failures within the same window, over any
  accounts, block further logins from that IP.

While locked, even the right password is refused (and the attempt is not counted again).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.review import sessions, settings
from bot.store.models import ROLES, AuditEntry, StaffUser, utcnow

HASHER = PasswordHasher()  # argon2id with argon2-cffi's defaults; tests may swap in a cheaper one
MIN_PASSWORD_LENGTH = 10
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A real hash of a random password: unknown accounts still cost one verify (no timing oracle).
_DUMMY_HASH: Optional[str] = None


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 255:
        raise ValueError(f"not a valid e-mail address: {email!r}")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, ~120 bits


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def session_counts(db: Session) -> dict:
    """user id -> number of open sessions (for the Staff page)."""
    return sessions.active_counts(db)


def end_sessions(db: Session, email: str, actor: str = "cli") -> int:
    """An admin ends every session of a staff member (e.g. a lost laptop); returns how many."""
    user = get_staff(db, email)
    if user is None:
        raise ValueError(f"no staff account {email}")
    n = sessions.end_all(db, user.id, "admin")
    audit(db, actor, "sessions_end", f"staff:{user.email}", sessions=n)
    return n


def audit(db: Session, actor: str, action: str, target: Optional[str] = None, **detail) -> None:
    db.add(AuditEntry(actor=(actor or "?")[:255], action=action[:32], target=target, detail=detail))


# ---------------------------------------------------------------------------- management
def add_staff(db: Session, email: str, role: str, password: str, actor: str = "cli") -> StaffUser:
    email = normalise_email(email)
    check_role(role)
    check_password(password)
    if db.execute(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise ValueError(f"staff account {email} already exists")
    user = StaffUser(email=email, role=role, password_hash=hash_password(password))
    db.add(user)
    audit(db, actor, "staff_add", f"staff:{email}", role=role)
    db.flush()
    return user


def get_staff(db: Session, email: str) -> Optional[StaffUser]:
    email = (email or "").strip().lower()
    return db.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()


def list_staff(db: Session) -> list[StaffUser]:
    return list(db.execute(select(StaffUser).order_by(StaffUser.email)).scalars())


def remove_staff(db: Session, email: str, actor: str = "cli") -> None:
    user = get_staff(db, email)
    if user is None:
        raise ValueError(f"no staff account {email}")
    sessions.end_all(db, user.id, "removed")
    db.delete(user)
    audit(db, actor, "staff_remove", f"staff:{user.email}")


def set_role(db: Session, email: str, role: str, actor: str = "cli") -> StaffUser:
    check_role(role)
    user = get_staff(db, email)
    if user is None:
        raise ValueError(f"no staff account {email}")
    old, user.role = user.role, role
    if old != role:  # a session started under the old role ends
        sessions.end_all(db, user.id, "role")
    audit(db, actor, "staff_role", f"staff:{user.email}", old=old, new=role)
    return user


def set_disabled(db: Session, email: str, disabled: bool, actor: str = "cli") -> StaffUser:
    user = get_staff(db, email)
    if user is None:
        raise ValueError(f"no staff account {email}")
    user.disabled = bool(disabled)
    if disabled:
        sessions.end_all(db, user.id, "disabled")
    audit(db, actor, "staff_disable" if disabled else "staff_enable", f"staff:{user.email}")
    return user


def set_password(db: Session, email: str, password: str, actor: str = "cli",
                 keep_token: Optional[str] = None) -> StaffUser:
    """New password; every session of the account ends (but `keep_token`'s: the user's own,
    when they change their password themselves)."""
    check_password(password)
    user = get_staff(db, email)
    if user is None:
        raise ValueError(f"no staff account {email}")
    user.password_hash = hash_password(password)
    sessions.end_all(db, user.id, "password", keep_token=keep_token)
    audit(db, actor, "staff_password", f"staff:{user.email}")
    return user


# ---------------------------------------------------------------------------- login
@dataclass
class LoginResult:
    user: Optional[StaffUser]
    locked: bool = False
    locked_until: Optional[datetime] = None


def _failures_since(db: Session, since: datetime, *, actor: str | None = None, ip: str | None = None):
    q = select(func.count(AuditEntry.id), func.min(AuditEntry.at)).where(
        AuditEntry.action == "login_failed", AuditEntry.at >= since
    )
    if actor is not None:
        q = q.where(AuditEntry.actor == actor)
    if ip is not None:
        q = q.where(AuditEntry.target == f"ip:{ip}")
    count, oldest = db.execute(q).one()
    return count or 0, oldest


def _oldest_of_last(db: Session, since: datetime, n: int, **where) -> Optional[datetime]:
    q = select(AuditEntry.at).where(AuditEntry.action == "login_failed", AuditEntry.at >= since)
    if "actor" in where:
        q = q.where(AuditEntry.actor == where["actor"])
    if "ip" in where:
        q = q.where(AuditEntry.target == f"ip:{where['ip']}")
    rows = db.execute(q.order_by(AuditEntry.at.desc()).limit(n)).scalars().all()
    return rows[-1] if len(rows) >= n else None


def lock_state(db: Session, email: str, ip: str, now: Optional[datetime] = None) -> Optional[datetime]:
    """The time until which logins for (email, ip) are refused, or None when not locked."""
    now = now or utcnow()
    window = timedelta(minutes=settings.lockout_minutes())
    since = now - window
    # a successful login of this account resets its own counter
    last_ok = db.execute(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.at >= since, AuditEntry.action == "login", AuditEntry.actor == email)
    ).scalar()
    acct_since = max(since, last_ok) if last_ok else since
    until = None
    count, _ = _failures_since(db, acct_since, actor=email)
    if count >= settings.lockout_failures():
        oldest = _oldest_of_last(db, acct_since, settings.lockout_failures(), actor=email)
        if oldest:
            until = oldest + window
    count, _ = _failures_since(db, since, ip=ip)
    if count >= settings.lockout_ip_failures():
        oldest = _oldest_of_last(db, since, settings.lockout_ip_failures(), ip=ip)
        if oldest and (until is None or oldest + window > until):
            until = oldest + window
    return until


def authenticate(db: Session, email: str, password: str, ip: str) -> LoginResult:
    """Check a login attempt; writes login / login_failed / login_locked audit entries."""
    global _DUMMY_HASH
    email = (email or "").strip().lower()[:255] or "?"
    ip = (ip or "?")[:64]
    until = lock_state(db, email, ip)
    if until is not None:
        audit(db, email, "login_locked", f"ip:{ip}")
        db.commit()
        return LoginResult(None, locked=True, locked_until=until)
    user = get_staff(db, email)
    ok = False
    if user is not None and not user.disabled:
        try:
            ok = HASHER.verify(user.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    else:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = HASHER.hash(secrets.token_hex(16))
        try:
            HASHER.verify(_DUMMY_HASH, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
    if not ok:
        audit(db, email, "login_failed", f"ip:{ip}")
        db.commit()
        return LoginResult(None)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    audit(db, email, "login", f"ip:{ip}")
    db.commit()
    return LoginResult(user)
