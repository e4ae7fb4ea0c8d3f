"""Streaming exports of stories: JSON Lines and CSV (contract: docs/export.md).

    iter_records(session, stories=None, *, since=None, until=None, status=None,
                 redact=True, batch_size=500) -> Iterator[dict]
    jsonl_lines(records) -> Iterator[str]
    csv_chunks(records, delimiter=",", bom=True) -> Iterator[str]
    export_jsonl(session, out, stories=None, **filters) -> int      # number of stories written
    export_csv(session, out, stories=None, delimiter=",", bom=True, **filters) -> int
    story_record(row, transcript, tags, notes) -> dict              # one record (unredacted)
    parse_date(text) -> datetime                                    # "2026-11-01" / ISO datetime

`stories` selects what to export: None (all), an ORM Query or a Select on Story (the review
app's own filtered query; only its ids are used, as a subquery), or an iterable of story ids
(exported in the given order). since/until/status are applied on top.
Memory stays flat: stories are read in keyset-paginated batches ordered by (started_at, id)
(each batch a short query, on SQLite and PostgreSQL alike), with their messages, tags and
notes loaded per batch. Redaction (bot.store.redact) is on unless redact=False.
"""
from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Query, Session
from sqlalchemy.sql import Select

from bot.store.capture import DIMENSIONS
from bot.store.models import STATUSES, Message, Note, Story, StoryTag
from bot.store.redact import redact_record
from bot.store.textsafe import isolate

STORY_COLUMNS = (
    "id", "reference", "conversation_id", "channel", "channel_metadata", "language", "status",
    "end_reason", "started_at", "updated_at", "ended_at", "score", "answers", "summary",
    "summary_confirmed", "correction", "aspects", "sentiment", "sentiment_score", "emotions",
    "repeat_contact", "handoff_requested", "consent_to_contact", "contact", "contact_kind",
    "review_status", "assignee", "follow_up_state", "follow_up_note", "followed_up_at",
)
# Order of the keys in a JSON Lines record.
RECORD_FIELDS = (
    "id", "reference", "conversation_id", "channel", "channel_metadata", "language", "status",
    "end_reason", "started_at", "updated_at", "ended_at", "score", "answers", "summary",
    "summary_confirmed", "correction", "aspects", "sentiment", "sentiment_score", "emotions",
    "repeat_contact", "handoff_requested", "consent_to_contact", "contact", "contact_kind",
    "tags", "review_status", "assignee", "follow_up_state", "follow_up_note", "followed_up_at",
    "notes", "transcript",
)
CSV_COLUMNS = (
    "id", "reference", "conversation_id", "channel", "channel_metadata", "language", "status",
    "end_reason", "started_at", "updated_at", "ended_at", "score",
    *[f"answer_{d}" for d in DIMENSIONS],
    "summary", "summary_confirmed", "correction", "aspects", "sentiment", "emotions",
    "repeat_contact", "handoff_requested", "consent_to_contact", "contact", "contact_kind",
    "tags", "review_status", "assignee", "follow_up_state", "follow_up_note", "followed_up_at",
    "notes", "transcript",
)
# Excel's limit per cell; longer text is cut with CSV_TRUNCATED at the end (JSON Lines keeps it whole).
EXCEL_CELL_LIMIT = 32_767
CSV_TRUNCATED = " [… afgekapt / truncated]"
_CSV_TIMES = ("started_at", "updated_at", "ended_at", "followed_up_at")
# CSV text cells starting with one of these would be run as a formula by Excel: prefixed with '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CSV_TEXT = {"summary", "correction", "follow_up_note", "notes", "transcript", "channel_metadata",
             "conversation_id", "assignee", "contact", "tags", *[f"answer_{d}" for d in DIMENSIONS]}


def iso(dt: Optional[datetime]) -> Optional[str]:
    """Naive-UTC datetime → '2026-11-22T18:30:05Z'."""
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text: Any, *, end: bool = False) -> datetime:
    """'2026-11-01' (a day; with end=True the day after, for an inclusive 'until') or an ISO
    datetime ('2026-11-01T12:00:00Z', offsets converted to UTC) → naive UTC."""
    if isinstance(text, datetime):
        return text.astimezone(timezone.utc).replace(tzinfo=None) if text.tzinfo else text
    if isinstance(text, date):
        d = datetime(text.year, text.month, text.day)
        return d + timedelta(days=1) if end else d
    raw = str(text).strip()
    try:
        if len(raw) == 10:
            d = datetime.strptime(raw, "%Y-%m-%d")
            return d + timedelta(days=1) if end else d
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {raw!r} (use YYYY-MM-DD or an ISO 8601 date-time)") from None
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def _statuses(status: Any) -> Optional[list]:
    if status is None or status == "":
        return None
    items = [status] if isinstance(status, str) else list(status)
    items = [x.strip() for s in items for x in str(s).split(",") if x.strip()]
    bad = [x for x in items if x not in STATUSES]
    if bad:
        raise ValueError(f"unknown status {bad[0]!r} (one of: {', '.join(STATUSES)})")
    return items


def _ids_subquery(stories: Any):
    if isinstance(stories, Query):
        return stories.with_entities(Story.id).subquery()
    if isinstance(stories, Select):
        return stories.with_only_columns(Story.id).subquery()
    raise TypeError("stories must be None, a Query/Select on Story, or an iterable of ids")


def story_record(row: Any, transcript: list, tags: list, notes: list) -> dict:
    """One export record (unredacted) from a stories row and its children."""
    r = row._mapping if hasattr(row, "_mapping") else row
    rec = {
        "id": r["id"],
        "reference": r["reference"],
        "conversation_id": r["conversation_id"],
        "channel": r["channel"],
        "channel_metadata": r["channel_metadata"] or {},
        "language": r["language"],
        "status": r["status"],
        "end_reason": r["end_reason"],
        "started_at": iso(r["started_at"]),
        "updated_at": iso(r["updated_at"]),
        "ended_at": iso(r["ended_at"]),
        "score": r["score"],
        "answers": r["answers"] or {},
        "summary": r["summary"],
        "summary_confirmed": r["summary_confirmed"],
        "correction": r["correction"],
        "aspects": list(r["aspects"] or []),
        "sentiment": r["sentiment"],
        "sentiment_score": r["sentiment_score"],
        "emotions": list(r["emotions"] or []),
        "repeat_contact": bool(r["repeat_contact"]),
        "handoff_requested": bool(r["handoff_requested"]),
        "consent_to_contact": r["consent_to_contact"],
        "contact": r["contact"],
        "contact_kind": r["contact_kind"],
        "tags": sorted(tags),
        "review_status": r["review_status"],
        "assignee": r["assignee"],
        "follow_up_state": r["follow_up_state"],
        "follow_up_note": r["follow_up_note"],
        "followed_up_at": iso(r["followed_up_at"]),
        "notes": notes,
        "transcript": transcript,
    }
    return rec


def _children(session: Session, ids: list) -> tuple:
    m, t, n = Message.__table__, StoryTag.__table__, Note.__table__
    transcripts: dict = {i: [] for i in ids}
    for sid, role, text, at in session.execute(
        select(m.c.story_id, m.c.role, m.c.text, m.c.at).where(m.c.story_id.in_(ids)).order_by(m.c.story_id, m.c.seq)
    ):
        transcripts[sid].append({"role": role, "text": text, "at": iso(at)})
    tags: dict = {i: [] for i in ids}
    for sid, tag in session.execute(select(t.c.story_id, t.c.tag).where(t.c.story_id.in_(ids))):
        tags[sid].append(tag)
    notes: dict = {i: [] for i in ids}
    for sid, author, text, at in session.execute(
        select(n.c.story_id, n.c.author, n.c.text, n.c.created_at).where(n.c.story_id.in_(ids)).order_by(n.c.created_at, n.c.id)
    ):
        notes[sid].append({"author": author, "text": text, "at": iso(at)})
    return transcripts, tags, notes


def iter_records(
    session: Session,
    stories: Any = None,
    *,
    since: Any = None,
    until: Any = None,
    status: Any = None,
    redact: bool = True,
    batch_size: int = 500,
) -> Iterator[dict]:
    s = Story.__table__
    cols = [s.c[name] for name in STORY_COLUMNS]
    conditions = []
    if since is not None and since != "":
        conditions.append(s.c.started_at >= parse_date(since))
    if until is not None and until != "":
        conditions.append(s.c.started_at < parse_date(until, end=True))
    statuses = _statuses(status)
    if statuses:
        conditions.append(s.c.status.in_(statuses))

    def emit(rows: list) -> Iterator[dict]:
        ids = [r.id for r in rows]
        transcripts, tags, notes = _children(session, ids)
        for r in rows:
            rec = story_record(r, transcripts[r.id], tags[r.id], notes[r.id])
            yield redact_record(rec) if redact else rec

    if stories is not None and not isinstance(stories, (Query, Select)):
        ids = list(stories)
        for i in range(0, len(ids), batch_size):
            chunk = [int(x) for x in ids[i:i + batch_size]]
            rows = {r.id: r for r in session.execute(select(*cols).where(s.c.id.in_(chunk), *conditions))}
            yield from emit([rows[x] for x in chunk if x in rows])
        return

    if stories is not None:
        conditions.append(s.c.id.in_(select(_ids_subquery(stories).c.id)))
    last = None
    while True:
        stmt = select(*cols).where(*conditions)
        if last is not None:
            stmt = stmt.where(tuple_(s.c.started_at, s.c.id) > tuple_(*last))
        rows = session.execute(stmt.order_by(s.c.started_at, s.c.id).limit(batch_size)).all()
        if not rows:
            return
        last = (rows[-1].started_at, rows[-1].id)
        yield from emit(rows)
        if len(rows) < batch_size:
            return


# ---------------------------------------------------------------------------- JSON Lines


def jsonl_lines(records: Iterable[dict]) -> Iterator[str]:
    for rec in records:
        yield json.dumps({k: rec.get(k) for k in RECORD_FIELDS}, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_jsonl(session: Session, out, stories: Any = None, **filters) -> int:
    count = 0
    for line in jsonl_lines(iter_records(session, stories, **filters)):
        out.write(line)
        count += 1
    return count


# ---------------------------------------------------------------------------- CSV


def _flat_lines(items: list, fmt) -> str:
    return "\n".join(fmt(x) for x in items)


def csv_yes_no() -> tuple:
    """GEHOOR_CSV_YES_NO ("ja,nee" by default; e.g. "true,false" or "yes,no"): booleans in CSV."""
    raw = os.environ.get("GEHOOR_CSV_YES_NO", "").strip() or "ja,nee"
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"GEHOOR_CSV_YES_NO must be two words separated by a comma, got {raw!r}")
    return parts[0], parts[1]


def csv_timezone() -> ZoneInfo:
    """GEHOOR_TIMEZONE (default Europe/Amsterdam): CSV times are local, as Excel users read them."""
    return ZoneInfo(os.environ.get("GEHOOR_TIMEZONE", "").strip() or "Europe/Amsterdam")


def local_time(value: Optional[str], tz: ZoneInfo) -> str:
    """'2026-07-01T22:30:05Z' → '02-07-2026 00:30' (dd-mm-jjjj uu:mm in `tz`)."""
    if not value:
        return ""
    dt = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return dt.astimezone(tz).strftime("%d-%m-%Y %H:%M")


def _fit_cell(value: str) -> str:
    if len(value) <= EXCEL_CELL_LIMIT:
        return value
    return value[: EXCEL_CELL_LIMIT - len(CSV_TRUNCATED)] + CSV_TRUNCATED


def csv_row(rec: dict, yes_no: Optional[tuple] = None, tz: Optional[ZoneInfo] = None) -> dict:
    """A record flattened to CSV cells (one row per story): local times (dd-mm-jjjj uu:mm),
    booleans as yes_no (default csv_yes_no()), cells cut at Excel's 32,767 characters."""
    yes, no = yes_no or csv_yes_no()
    tz = tz or csv_timezone()
    row = {}
    for col in CSV_COLUMNS:
        if col.startswith("answer_"):
            value = (rec.get("answers") or {}).get(col[len("answer_"):])
        elif col == "transcript":
            value = _flat_lines(rec.get("transcript") or [],
                                lambda m: f"[{local_time(m['at'], tz)}] {m['role']}: {isolate(m['text'])}")
        elif col == "notes":
            value = _flat_lines(rec.get("notes") or [],
                                lambda n: f"[{local_time(n['at'], tz)}] {n['author']}: {isolate(n['text'])}")
        elif col == "channel_metadata":
            meta = rec.get("channel_metadata") or {}
            value = json.dumps(meta, ensure_ascii=False, sort_keys=True) if meta else ""
        elif col in ("aspects", "emotions", "tags"):
            value = ", ".join(rec.get(col) or [])
        elif col in _CSV_TIMES:
            value = local_time(rec.get(col), tz)
        else:
            value = rec.get(col)
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = yes if value else no
        elif col in _CSV_TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
            value = "'" + value
        if col in _CSV_TEXT and col not in ("transcript", "notes") and isinstance(value, str):
            value = isolate(value)  # bidi controls / RTL text cannot reorder the cell (isolated per message above)
        row[col] = _fit_cell(value) if isinstance(value, str) else value
    return row


def csv_chunks(records: Iterable[dict], delimiter: str = ",", bom: bool = True) -> Iterator[str]:
    """CSV text (header first), one chunk per story; with bom=True it starts with U+FEFF so
    Excel reads UTF-8. Use delimiter=';' for a Dutch Excel."""
    if delimiter not in (",", ";", "\t", "|"):
        raise ValueError(f"unsupported CSV delimiter {delimiter!r} (use ',', ';', '|' or a tab)")
    yes_no, tz = csv_yes_no(), csv_timezone()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writeheader()
    yield ("\ufeff" if bom else "") + buf.getvalue()
    for rec in records:
        buf.seek(0)
        buf.truncate()
        writer.writerow(csv_row(rec, yes_no, tz))
        yield buf.getvalue()


def export_csv(session: Session, out, stories: Any = None, delimiter: str = ",", bom: bool = True, **filters) -> int:
    count = -1
    for chunk in csv_chunks(iter_records(session, stories, **filters), delimiter=delimiter, bom=bom):
        out.write(chunk)
        count += 1
    return count
