"""Staff accounts: argon2 password hashing, account management, login with throttling, TOTP.

Throttling is kept in the audit log (action ``login_failed``, actor = account, target = source
IP), so it survives restarts and is shared by every process that uses the same database. It is
built so that an attacker cannot lock a staff member out:

- per account AND source: ``GEHOOR_LOGIN_MAX_FAILURES`` (5) failed logins for one account from
  one IP within ``GEHOOR_LOGIN_LOCK_MINUTES`` (15) block that account from that IP until the
  oldest of those failures is 15 minutes old; the same account from elsewhere is not affected;
- per source: ``GEHOOR_LOGIN_MAX_IP_FAILURES`` (20) failures over any accounts block the IP;
- per account over all sources: ``GEHOOR_LOGIN_MAX_ACCOUNT_FAILURES`` (50) failures block the
  account from every source except a known device (a browser that logged in to this account
  before: signed ``gehoor_device`` cookie), so a distributed guess cannot lock the owner out.

A successful login or an admin's unlock (``login_unlock``) resets an account's counters. Each
time a limit is reached a ``login_alert`` audit entry and a warning in the log are written.
While blocked, even the right password is refused (and not counted again).
"""
from __future__ import annotations

import logging
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

log = logging.getLogger("gehoor.review")

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
def record_failure(db: Session, email: str, ip: str, **detail) -> None:
    audit(db, email, "login_failed", f"ip:{ip}", **detail)
    db.flush()
    _alert_if_limit_reached(db, email, ip)
    db.commit()


@dataclass
class LoginResult:
    user: Optional[StaffUser]
    locked: bool = False
    locked_until: Optional[datetime] = None


def _failures(db: Session, since: datetime, *, actor: str | None = None, ip: str | None = None) -> list:
    """Times of login failures since `since`, newest first (for this account and/or source)."""
    q = select(AuditEntry.at).where(AuditEntry.action == "login_failed", AuditEntry.at >= since)
    if actor is not None:
        q = q.where(AuditEntry.actor == actor)
    if ip is not None:
        q = q.where(AuditEntry.target == f"ip:{ip}")
    return list(db.execute(q.order_by(AuditEntry.at.desc()).limit(500)).scalars())


def _account_reset(db: Session, email: str, since: datetime) -> datetime:
    """The last successful login or admin unlock of this account (or `since`)."""
    last = db.execute(select(func.max(AuditEntry.at)).where(
        AuditEntry.at >= since,
        ((AuditEntry.action == "login") & (AuditEntry.actor == email))
        | ((AuditEntry.action == "login_unlock") & (AuditEntry.target == f"staff:{email}")),
    )).scalar()
    return max(since, last) if last else since


def _limits(db: Session, email: str, ip: str, now: datetime) -> list:
    """[(scope, failures, limit)] for the three throttles (see the module docstring)."""
    since = now - timedelta(minutes=settings.lockout_minutes())
    acct_since = _account_reset(db, email, since)
    return [
        ("account+source", _failures(db, acct_since, actor=email, ip=ip), settings.lockout_failures()),
        ("source", _failures(db, since, ip=ip), settings.lockout_ip_failures()),
        ("account", _failures(db, acct_since, actor=email), settings.lockout_account_failures()),
    ]


def lock_state(db: Session, email: str, ip: str, now: Optional[datetime] = None,
               known_device: bool = False) -> Optional[datetime]:
    """The time until which logins for (email, ip) are refused, or None when not locked. A known
    device of the account is only held by the account+source limit."""
    now = now or utcnow()
    window = timedelta(minutes=settings.lockout_minutes())
    until = None
    for scope, times, limit in _limits(db, email, ip, now):
        if known_device and scope != "account+source":
            continue
        if len(times) >= limit:
            candidate = times[limit - 1] + window
            until = candidate if until is None or candidate > until else until
    return until


def _alert_if_limit_reached(db: Session, email: str, ip: str) -> None:
    for scope, times, limit in _limits(db, email, ip, utcnow()):
        if len(times) == limit:
            log.warning("login alert: %s failed logins (%s) for %s from %s", limit, scope, email, ip)
            audit(db, email, "login_alert", f"ip:{ip}", scope=scope, failures=limit)


def unlock(db: Session, email: str, actor: str = "cli") -> None:
    """An admin lifts the account's login throttles (account and account+source)."""
    user = get_staff(db, email)
    if user is None:
        raise ValueError(f"no staff account {email}")
    audit(db, actor, "login_unlock", f"staff:{user.email}")


def authenticate(db: Session, email: str, password: str, ip: str, known_device: bool = False) -> LoginResult:
    """Check a login attempt; writes login / login_failed / login_locked / login_alert entries."""
    global _DUMMY_HASH
    email = (email or "").strip().lower()[:255] or "?"
    ip = (ip or "?")[:64]
    until = lock_state(db, email, ip, known_device=known_device)
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
        record_failure(db, email, ip)
        return LoginResult(None)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    # with TOTP the login is complete only after the code (bot/review/twofactor.py): the password
    # step alone does not reset the failure counters
    audit(db, email, "login_password" if user.totp_secret else "login", f"ip:{ip}")
    db.commit()
    return LoginResult(user)
