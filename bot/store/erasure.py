"""Erasure on request (AVG/GDPR) and retention.

    forget(conversation=None, contact=None, *, factory=None, tracker_url=None, outbox=None,
           actor="cli") -> ForgetReport
    purge(older_than, *, factory=None, tracker_url=None, now=None, actor="cli",
          include_tracker=True) -> PurgeReport
    parse_age("365d" | "12w" | "6m" | "1y") -> relativedelta

forget(conversation=ID): every story of that Rasa sender (all sessions), its messages, tags,
notes and aspects (cascade), the sender's events in Rasa's tracker store, and pending outbox
snapshots. forget(contact=E-MAIL OR PHONE): the stories whose stored contact is that address
or number (e-mail case-insensitive; phone numbers normalised to E.164, Dutch numbers
accepted as 06…), or whose customer text contains it, and then everything of their senders
as above. An audit entry records what was removed; its target is a keyed hash (HMAC-SHA256,
bot.store.keyed, key outside the database) of the conversation id or contact, never the value.
Earlier audit entries that hold one of the customer's identifiers (the sender id, the contact,
a phone number or e-mail address in a search query or an old erase target) are scrubbed: the
identifier is replaced by its keyed hash or a marker. ForgetReport.not_reached says what
erasure cannot reach (exports already written aside, logs): docs/review.md, "Erasure".

purge(older_than): stories that started before now − age (cascade), and tracker events
older than that (unless include_tracker=False); audited.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional

import phonenumbers
from dateutil.relativedelta import relativedelta
from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.orm import sessionmaker

from bot.store.audit import audit
from bot.store.keyed import keyed_hash
from bot.store.models import AuditEntry, Message, Story, utcnow

log = logging.getLogger(__name__)

_AGE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)


def parse_age(text: str) -> relativedelta:
    m = _AGE.match(str(text or ""))
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"not an age: {text!r} (use e.g. 365d, 12w, 6m or 1y; more than zero)")
    n, unit = int(m.group(1)), m.group(2).lower()
    return {"d": relativedelta(days=n), "w": relativedelta(weeks=n), "m": relativedelta(months=n),
            "y": relativedelta(years=n)}[unit]


def normalize_contact(text: str) -> tuple:
    """(kind, normalised value, [search variants]) for an e-mail address or phone number."""
    raw = (text or "").strip()
    if "@" in raw:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
            raise ValueError(f"not an e-mail address: {raw!r}")
        return "email", raw.lower(), [raw.lower()]
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        raise ValueError(f"not an e-mail address or phone number: {raw!r}") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a valid phone number: {raw!r}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "").replace("-", "")
    variants = sorted({e164, national, raw}, key=len, reverse=True)
    return "phone", e164, variants


def _tracker_delete(tracker_url: Optional[str], sender_ids: list = (), before_ts: Optional[float] = None) -> tuple:
    from bot.store.reconcile import events_table, tracker_engine

    engine = tracker_engine(tracker_url)
    try:
        table = events_table(engine)
        if table is None:
            return 0, "no Rasa events table found"
        deleted = 0
        with engine.begin() as conn:
            if before_ts is not None:
                deleted += conn.execute(delete(table).where(table.c.timestamp < before_ts)).rowcount or 0
            ids = list(sender_ids)
            for i in range(0, len(ids), 500):
                deleted += conn.execute(delete(table).where(table.c.sender_id.in_(ids[i:i + 500]))).rowcount or 0
        return deleted, None
    except Exception as exc:  # noqa: BLE001  reported, not swallowed
        return 0, f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    finally:
        engine.dispose()


@dataclass
class ForgetReport:
    stories: list = field(default_factory=list)  # references
    conversations: list = field(default_factory=list)
    messages: int = 0
    tracker_events: int = 0
    outbox_snapshots: int = 0
    tracker_error: Optional[str] = None
    audit_id: Optional[int] = None
    audit_scrubbed: int = 0  # earlier audit entries from which an identifier was removed
    not_reached: list = field(default_factory=list)  # what erasure cannot reach, in words


def _phone_e164(text: str) -> Optional[str]:
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_possible_number(number) else None


def _identifiers(conversations: list, contacts: list) -> tuple:
    """(exact strings, normalised e-mail addresses and E.164 numbers) that identify the customer:
    sender ids, their contacts, and the phone number inside a WhatsApp/SMS sender id."""
    exact = {c for c in conversations if c and len(c) >= 8}  # shorter ids: only as a whole target
    normalised = set()
    for value in list(conversations) + list(contacts):
        if not value:
            continue
        if "@" in value and "." in value:
            normalised.add(value.lower())
        tail = value.rsplit(":", 1)[-1]
        e164 = _phone_e164(tail) if sum(ch.isdigit() for ch in tail) >= 8 else None
        if e164:
            normalised.add(e164)
    return exact, normalised


def _mentions(text: str, exact: set, normalised: set) -> bool:
    from bot.store.redact import find_pii

    if any(x in text for x in exact):
        return True
    lowered = text.lower()
    if any(v in lowered for v in normalised if "@" in v):
        return True
    for span in find_pii(text):
        if span.kind == "phone" and _phone_e164(text[span.start:span.end]) in normalised:
            return True
    digits = "".join(ch if ch.isdigit() or ch == "+" else " " for ch in text).split()
    return any(_phone_e164(d) in normalised for d in digits if len(d) >= 9)


def _scrub(value, exact: set, normalised: set):
    from bot.store.redact import redact_text

    if isinstance(value, str):
        if not _mentions(value, exact, normalised):
            return value
        for x in sorted(exact, key=len, reverse=True):
            value = value.replace(x, "hmac:" + keyed_hash(x, "conversation"))
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v, exact, normalised) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, exact, normalised) for v in value]
    return value


def _scrub_audit(session, conversations: list, contacts: list) -> int:
    """Remove the customer's identifiers from earlier audit entries (targets and details)."""
    exact, normalised = _identifiers(conversations, contacts)
    a = AuditEntry.__table__
    scrubbed = 0
    short = [c for c in conversations if c and c not in exact]
    for i in range(0, len(short), 500):
        for row in session.execute(select(a.c.id, a.c.target).where(
                a.c.target.in_([f"conversation:{c}" for c in short[i:i + 500]]))).all():
            hashed = "conversation:hmac:" + keyed_hash(row.target.split(":", 1)[1], "conversation")
            session.execute(a.update().where(a.c.id == row.id).values(target=hashed))
            scrubbed += 1
    if not exact and not normalised:
        return scrubbed
    needles = set(exact) | {v for v in normalised if "@" in v} | {v[-4:] for v in normalised if "@" not in v}
    text_of = func.lower(func.coalesce(a.c.target, "") + " " + cast(a.c.detail, Text))
    needle_list = sorted(needles)
    for i in range(0, len(needle_list), 50):
        cond = or_(*[text_of.contains(n.lower(), autoescape=True) for n in needle_list[i:i + 50]])
        for row in session.execute(select(a.c.id, a.c.target, a.c.detail).where(cond)).all():
            target = _scrub(row.target, exact, normalised)
            detail = _scrub(row.detail, exact, normalised)
            if target != row.target or detail != row.detail:
                session.execute(a.update().where(a.c.id == row.id).values(target=target, detail=detail))
                scrubbed += 1
    return scrubbed


def _not_reached(session, since: Optional[datetime]) -> list:
    notes = ["files written aside (downloads and `gehoor stories export --output`) cannot be reached: "
             "see the audit log's export entries",
             "alerts already delivered (webhooks, Slack, e-mail) stay with their receivers; queued ones are removed",
             "log files and database backups are not touched"]
    if since is not None:
        a = AuditEntry.__table__
        rows = session.execute(select(a.c.detail).where(a.c.action == "export", a.c.at >= since)).all()
        unredacted = sum(1 for (d,) in rows if isinstance(d, dict) and d.get("redacted") is False)
        if unredacted:
            notes.insert(0, f"{unredacted} unredacted export(s) were made since this customer's first story "
                            f"({since:%Y-%m-%d}); their files may still hold the customer's data")
    return notes


def _delete_stories(session, story_ids: list) -> int:
    s, m = Story.__table__, Message.__table__
    messages = 0
    for i in range(0, len(story_ids), 500):
        chunk = story_ids[i:i + 500]
        messages += session.execute(select(func.count()).select_from(m).where(m.c.story_id.in_(chunk))).scalar() or 0
        # children go by ON DELETE CASCADE (SQLite: PRAGMA foreign_keys=ON in make_engine); deleted
        # explicitly as well so a connection without the pragma cannot leave orphans behind.
        tables = Story.metadata.tables
        if "notification_attempts" in tables:  # alerts about these stories carry their text and contact
            jobs, attempts = tables["notification_jobs"], tables["notification_attempts"]
            session.execute(delete(attempts).where(attempts.c.job_id.in_(
                select(jobs.c.id).where(jobs.c.story_id.in_(chunk)))))
        for child in ("messages", "story_tags", "notes", "story_aspects", "notification_jobs"):
            if child not in tables:
                continue
            table = tables[child]
            session.execute(delete(table).where(table.c.story_id.in_(chunk)))
        session.execute(delete(s).where(s.c.id.in_(chunk)))
    return messages


def forget(
    conversation: Optional[str] = None,
    contact: Optional[str] = None,
    *,
    factory: Optional[sessionmaker] = None,
    tracker_url: Optional[str] = None,
    outbox=None,
    actor: str = "cli",
) -> ForgetReport:
    if bool(conversation) == bool(contact):
        raise ValueError("give exactly one of conversation or contact")
    from bot.store.db import session_factory
    from bot.store.outbox import Outbox

    factory = factory or session_factory()
    s = Story.__table__
    report = ForgetReport()
    with factory() as session:
        if conversation:
            conversations = {conversation}
            target = "conversation:hmac:" + keyed_hash(conversation, "conversation")
        else:
            kind, value, variants = normalize_contact(contact)
            cond = [func.lower(s.c.contact) == value] if kind == "email" else [s.c.contact.in_(variants)]
            cond += [func.lower(s.c.customer_text).contains(v.lower(), autoescape=True) for v in variants if len(v) >= 6]
            conversations = {r[0] for r in session.execute(select(s.c.conversation_id).where(or_(*cond)))}
            target = "contact:hmac:" + keyed_hash(value, "contact")
        conv_list = sorted(conversations)
        rows = []
        for i in range(0, len(conv_list), 500):
            rows += session.execute(
                select(s.c.id, s.c.reference, s.c.contact, s.c.started_at)
                .where(s.c.conversation_id.in_(conv_list[i:i + 500])).order_by(s.c.id)
            ).all()
        contacts = sorted({r.contact for r in rows if r.contact} | ({value} if contact else set()))
        first_started = min((r.started_at for r in rows), default=None)
        report.stories = [r.reference for r in rows]
        report.conversations = conv_list
        report.messages = _delete_stories(session, [r.id for r in rows])
        session.commit()

    report.tracker_events, report.tracker_error = _tracker_delete(tracker_url, conv_list) if conv_list else (0, None)
    try:
        report.outbox_snapshots = (outbox or Outbox()).remove_conversations(conv_list)
    except Exception as exc:  # noqa: BLE001
        log.error("forget: could not clean the outbox: %s", exc)
    with factory() as session:
        entry = audit(
            session, actor, "erase", target,
            stories=report.stories, conversations=len(conv_list), messages=report.messages,
            tracker_events=report.tracker_events, outbox_snapshots=report.outbox_snapshots,
            tracker_error=report.tracker_error,
        )
        report.audit_scrubbed = _scrub_audit(session, conv_list, contacts)
        report.not_reached = _not_reached(session, first_started)
        session.commit()
        report.audit_id = entry.id
    return report


@dataclass
class PurgeReport:
    cutoff: datetime
    stories: int = 0
    messages: int = 0
    tracker_events: int = 0
    tracker_error: Optional[str] = None
    audit_id: Optional[int] = None


def purge(
    older_than,
    *,
    factory: Optional[sessionmaker] = None,
    tracker_url: Optional[str] = None,
    now: Optional[datetime] = None,
    actor: str = "cli",
    include_tracker: bool = True,
    batch: int = 1000,
) -> PurgeReport:
    from bot.store.db import session_factory

    age = older_than if isinstance(older_than, relativedelta) else parse_age(older_than)
    now = now or utcnow()
    cutoff = now - age
    factory = factory or session_factory()
    s = Story.__table__
    report = PurgeReport(cutoff=cutoff)
    while True:  # in batches, each its own transaction: no long lock on a big store
        with factory() as session:
            ids = [r[0] for r in session.execute(select(s.c.id).where(s.c.started_at < cutoff).order_by(s.c.id).limit(batch))]
            if not ids:
                break
            report.messages += _delete_stories(session, ids)
            report.stories += len(ids)
            session.commit()
    if include_tracker:
        ts = cutoff.replace(tzinfo=timezone.utc).timestamp()
        report.tracker_events, report.tracker_error = _tracker_delete(tracker_url, before_ts=ts)
    with factory() as session:
        entry = audit(session, actor, "purge", None, older_than=str(older_than), cutoff=cutoff.isoformat(),
                      stories=report.stories, messages=report.messages,
                      tracker_events=report.tracker_events, tracker_error=report.tracker_error)
        session.commit()
        report.audit_id = entry.id
    return report
