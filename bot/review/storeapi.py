"""The review app's only door into bot/store: engine and migrations, full-text search, export,
redaction and erasure. An interface change in bot/store is adapted here, in one place."""
from __future__ import annotations

from typing import Any, Iterator, Optional

from sqlalchemy import true
from sqlalchemy.orm import Session, sessionmaker

from bot.store import audit as store_audit
from bot.store import db as store_db
from bot.store import erasure as store_erasure
from bot.store import export as store_export
from bot.store import redact as store_redact
from bot.store import search as store_search

make_engine = store_db.make_engine
migrate = store_db.migrate
session_factory = store_db.session_factory


def _may_see_personal_data() -> bool:
    from flask import has_request_context

    if not has_request_context():
        return True
    from bot.review.app import has_role

    return has_role("reviewer")


def search_clause(db: Session, text: str, personal: Optional[bool] = None):
    """Condition on Story: the customer text matches `text` (FTS5 on SQLite, tsvector on PostgreSQL).
    personal=None: decided by the logged-in user's role; a viewer's query holding personal data
    matches nothing (bot.store.search.personal_terms)."""
    if personal is None:
        personal = _may_see_personal_data()
    cond = store_search.fulltext_condition(text, db, personal=personal)
    return true() if cond is None else cond


personal_terms = store_search.personal_terms


def search_audit(query: str) -> dict:
    """Audit detail of a search: the query, redacted + keyed hash when it holds personal data."""
    return store_audit.query_detail(query)


def audit_filters(params: dict) -> dict:
    """Filter parameters for the audit log, the search query made safe as in search_audit."""
    out = dict(params)
    if out.get("q"):
        del out["q"]
        out.update(store_audit.query_detail(params["q"], key="q"))
    return out


def redact_text(text: Optional[str], language: str = "nl") -> Optional[str]:
    return store_redact.redact_text(text, language) if text else text


def redact_metadata(meta, language: str = "nl"):
    """Channel metadata as a viewer may see it: only touchpoint keys keep their value."""
    return store_redact.redact_metadata(meta, language)


def redact_contact(contact: Optional[str], kind: Optional[str] = None, language: str = "nl") -> Optional[str]:
    return store_redact.redact_contact(contact, kind, language)


CSV_DELIMITER = ";"  # Dutch Excel reads ';'-separated CSV (with a UTF-8 BOM) correctly


def export_stream(db: Session, stories_query: Any, fmt: str, redact: bool) -> Iterator[str]:
    """Stream CSV (';' + BOM) or JSON Lines for the stories selected by `stories_query`
    (a Select on Story), through bot.store.export; redacted when `redact`."""
    records = store_export.iter_records(db, stories_query, redact=redact)
    if fmt == "csv":
        return store_export.csv_chunks(records, delimiter=CSV_DELIMITER, bom=True)
    return store_export.jsonl_lines(records)


def forget_conversation(factory: sessionmaker, conversation_id: str, actor: str):
    """Erase every story of one Rasa conversation (sender), its tracker events and outbox
    snapshots (bot.store.erasure.forget). The store writes the audit entry."""
    return store_erasure.forget(conversation=conversation_id, factory=factory, actor=actor)


def forget_customer(factory: sessionmaker, contact: str, actor: str):
    """Erase everything of the customer with this e-mail address or phone number."""
    return store_erasure.forget(contact=contact, factory=factory, actor=actor)
