"""Audit trail helpers.

    audit(session, actor, action, target=None, **detail) -> AuditEntry
    query_detail(query, key="query") -> dict   # a search query as the audit log may keep it

The audit log never holds a customer's identifier in clear: a search query with personal data
in it (bot.store.search.personal_terms) is kept redacted, plus an HMAC of the whole query
(bot.store.keyed) so an investigator holding the query can still find the entry.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bot.store.models import AuditEntry, utcnow


def audit(session: Session, actor: str, action: str, target: Optional[str] = None, **detail) -> AuditEntry:
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def query_detail(query: str, key: str = "query") -> dict:
    """{key: query} for an ordinary query; {key: redacted query, key_hmac: keyed hash} when it
    holds personal data."""
    from bot.store.keyed import keyed_hash
    from bot.store.redact import redact_text
    from bot.store.search import personal_terms

    query = (query or "").strip()
    terms = personal_terms(query)
    if not terms:
        return {key: query}
    shown = redact_text(query)
    for term in sorted(terms, key=len, reverse=True):
        shown = shown.replace(term, "[…]")
    return {key: shown[:200], f"{key}_hmac": keyed_hash(" ".join(query.lower().split()), "search")}
