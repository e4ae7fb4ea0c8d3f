"""Audit trail helper: `audit(session, actor, action, target=None, **detail) -> AuditEntry`."""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bot.store.models import AuditEntry, utcnow


def audit(session: Session, actor: str, action: str, target: Optional[str] = None, **detail) -> AuditEntry:
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    session.flush()
    return entry
