"""Full-text search over what customers wrote (`stories.customer_text`).

    fulltext_condition(text, dialect) -> SQL condition on Story (or None for a blank query)
    fulltext_filter(query_or_select, text, dialect=None) -> the same query, filtered

`dialect` is a name ("sqlite", "postgresql"), an Engine/Connection/Session, or None (taken
from the ORM Query's session). Combine freely with other filters, e.g.

    stmt = select(Story).where(Story.status == "complete")
    stmt = fulltext_filter(stmt, "pakket weer", "sqlite")
    # or, in the review app's filter builder:  clauses.append(fulltext_condition(q, dialect))

Semantics (both databases): every word must occur (AND), each word also matches as a prefix
("bezorg" finds "bezorgd"), case-insensitive, punctuation ignored.
- SQLite: FTS5 table `stories_fts` (unicode61 tokenizer, diacritics removed: "weer" finds
  "wéér"), kept in sync by triggers (migration 0001).
- PostgreSQL: `to_tsvector('simple', customer_text) @@ to_tsquery('simple', 'w1:* & w2:*')`,
  served by the GIN expression index ix_stories_customer_text_tsv. The 'simple' configuration
  does not stem, so Dutch and English behave the same (accents are significant here).
- Other databases: case-insensitive LIKE per word (no index).

Searching without personal data (`personal=False`, the review app's viewers): a query that
holds personal data (`personal_terms`: an e-mail address, phone number, IBAN, BSN or postcode
as bot.store.redact finds them, a number of 4 or more digits, or a fragment of an address or
domain such as "piet.jansen" / "example.org") matches nothing, so a viewer cannot find out
which story mentions a given address or number. Ordinary words are searched as usual; what a
viewer then sees of a story is redacted. Names are not detected in queries (see docs/review.md).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from sqlalchemy import and_, false, literal_column, select, text as sql_text
from sqlalchemy.sql import func

from bot.store.models import Story

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16


def words(text: str) -> list:
    return [w.lower() for w in _WORD.findall(text or "")][:MAX_WORDS]


def dialect_name(dialect: Any) -> Optional[str]:
    if dialect is None:
        return None
    if isinstance(dialect, str):
        return dialect
    for attr in ("dialect", "bind", "engine"):
        inner = getattr(dialect, attr, None)
        if inner is not None and inner is not dialect:
            name = dialect_name(inner)
            if name:
                return name
    if hasattr(dialect, "get_bind"):
        return dialect_name(dialect.get_bind())
    return getattr(dialect, "name", None)


def sqlite_match_expression(text: str) -> Optional[str]:
    toks = words(text)
    if not toks:
        return None
    return " ".join('"' + t.replace('"', '""') + '"*' for t in toks)


def pg_tsquery_expression(text: str) -> Optional[str]:
    toks = [t.replace("'", "") for t in words(text)]
    toks = [t for t in toks if t]
    if not toks:
        return None
    return " & ".join(f"'{t}':*" for t in toks)


_MANY_DIGITS = re.compile(r"\d{4,}")
_JOINED = re.compile(r"[^\s@.]+[@.][^\s]*[^\s@.,;:!?)]")  # piet.jansen, example.org, a@b


def personal_terms(text: str) -> list:
    """The parts of a search query that are personal data (see the module docstring)."""
    from bot.store.redact import find_pii

    text = text or ""
    found = [text[s.start:s.end] for s in find_pii(text)]
    for chunk in text.split():
        if _MANY_DIGITS.search(chunk.replace("-", "").replace(".", "")) or _JOINED.fullmatch(chunk.strip("\"'()")):
            found.append(chunk)
    return list(dict.fromkeys(found))


def fulltext_condition(text: str, dialect: Any, personal: bool = True):
    """A condition on Story that is true for stories whose customer text matches `text`;
    with personal=False a query holding personal data matches nothing."""
    if not personal and personal_terms(text):
        return false()
    name = dialect_name(dialect)
    if name == "sqlite":
        expr = sqlite_match_expression(text)
        if expr is None:
            return None
        fts = select(literal_column("rowid")).select_from(sql_text("stories_fts")).where(
            literal_column("stories_fts").op("MATCH")(expr)
        )
        return Story.id.in_(fts)
    if name == "postgresql":
        expr = pg_tsquery_expression(text)
        if expr is None:
            return None
        config = literal_column("'simple'::regconfig")
        return func.to_tsvector(config, Story.customer_text).op("@@")(func.to_tsquery(config, expr))
    toks = words(text)
    if not toks:
        return None
    return and_(*[Story.customer_text.ilike(f"%{t}%") for t in toks])


def fulltext_filter(query: Any, text: str, dialect: Any = None):
    """`query` (ORM Query or Core/ORM Select on Story) restricted to matching stories."""
    if dialect is None:
        dialect = getattr(query, "session", None)
    if dialect_name(dialect) is None:
        raise ValueError("fulltext_filter needs the dialect (name, engine or session)")
    condition = fulltext_condition(text, dialect)
    if condition is None:
        return query
    return query.filter(condition)
