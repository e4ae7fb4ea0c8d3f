"""The export contract (docs/export.md): JSON Lines and CSV (Dutch Excel: ';' + BOM)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from sqlalchemy import select

from bot.store.capture import snapshot_from_events
from bot.store.export import CSV_COLUMNS, export_csv, export_jsonl, iter_records
from bot.store.models import Note, Story, StoryTag
from bot.store.search import fulltext_filter
from bot.store.seed import seed
from store_helpers import Conversation

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUIRED = ("id", "reference", "conversation_id", "channel", "channel_metadata", "language", "status",
            "started_at", "updated_at", "score", "answers", "summary", "summary_confirmed", "correction",
            "aspects", "sentiment", "emotions", "repeat_contact", "consent_to_contact", "contact", "tags",
            "review_status", "transcript")


def _typical(store, sender="exp-1", **conv_kwargs):
    conv = Conversation(sender, **conv_kwargs).typical()
    r = store.repo.save(snapshot_from_events(sender, conv.events))
    with store.session() as s:
        s.add(StoryTag(story_id=r.story_id, tag="urgent"))
        s.add(Note(story_id=r.story_id, author="anna", text="Gebeld op 06-12345678"))
        s.commit()
    return r


def _jsonl(store, **kw):
    out = io.StringIO()
    with store.session() as s:
        n = export_jsonl(s, out, **kw)
    lines = out.getvalue().splitlines()
    assert len(lines) == n
    return [json.loads(line) for line in lines]


def test_jsonl_contract(store):
    r = _typical(store)
    (rec,) = _jsonl(store, redact=False)
    for key in REQUIRED:
        assert key in rec, key
    assert rec["id"] == r.story_id and rec["reference"] == r.reference
    assert rec["conversation_id"] == "exp-1" and rec["channel"] == "socketio"
    assert rec["channel_metadata"] == {"page": "/bestelling"}
    assert rec["language"] == "nl" and rec["status"] == "complete" and rec["score"] == 4
    assert rec["answers"]["reason"].startswith("Ik moest weer drie keer bellen")
    assert set(rec["answers"]) <= {"reason", "situation", "expectation", "impact", "priority", "in_our_place", "blind_spot"}
    assert rec["summary_confirmed"] is True and rec["correction"] is None
    assert rec["consent_to_contact"] is True and rec["contact"] == "jan@example.com"
    assert rec["tags"] == ["urgent"] and rec["review_status"] == "new"
    assert isinstance(rec["aspects"], list) and isinstance(rec["emotions"], list)
    assert isinstance(rec["repeat_contact"], bool)
    for key in ("started_at", "updated_at"):
        assert ISO_Z.match(rec[key]), rec[key]
    assert rec["transcript"][0]["role"] == "bot" and rec["transcript"][1] == {
        "role": "customer", "text": "4", "at": rec["transcript"][1]["at"]}
    assert all(ISO_Z.match(m["at"]) and m["role"] in ("customer", "bot") for m in rec["transcript"])
    assert rec["notes"][0]["text"] == "Gebeld op 06-12345678"


def test_jsonl_redacted_by_default(store):
    _typical(store)
    (rec,) = _jsonl(store)
    assert rec["contact"] == "[e-mail]"
    assert "jan@example.com" not in json.dumps(rec)
    assert rec["notes"][0]["text"] == "Gebeld op [telefoon]"
    assert any(m["text"] == "ja, [e-mail]" for m in rec["transcript"])
    assert rec["score"] == 4 and "drie keer" in rec["answers"]["reason"]  # ordinary numbers kept


def test_csv_dutch_excel(store):
    _typical(store)
    out = io.StringIO(newline="")
    with store.session() as s:
        n = export_csv(s, out, delimiter=";", bom=True, redact=False)
    data = out.getvalue()
    assert n == 1
    assert data.startswith("\ufeffid;reference;conversation_id;")
    raw = data.encode("utf-8")
    assert raw[:3] == b"\xef\xbb\xbf"
    rows = list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"), newline=""), delimiter=";"))
    assert len(rows) == 1 and list(rows[0]) == list(CSV_COLUMNS)
    row = rows[0]
    assert row["score"] == "4" and row["status"] == "complete" and row["tags"] == "urgent"
    assert row["answer_reason"].startswith("Ik moest weer") and row["summary_confirmed"] == "ja"
    lines = row["transcript"].split("\n")
    assert len(lines) == 11 and re.match(r"^\[\d\d-\d\d-\d{4} \d\d:\d\d\] bot: Hoi!", lines[0])
    assert lines[1].endswith("customer: 4")
    assert json.loads(row["channel_metadata"]) == {"page": "/bestelling"}


def test_csv_default_comma_and_formula_injection(store):
    conv = Conversation("evil").session_start().bot("?").user('=HYPERLINK("http://x","klik")')
    conv.slot("answer_reason", "=1+1")
    store.repo.save(snapshot_from_events("evil", conv.events))
    out = io.StringIO(newline="")
    with store.session() as s:
        export_csv(s, out, bom=False)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0]["answer_reason"] == "'=1+1"
    assert "customer: =HYPERLINK" in rows[0]["transcript"]  # not at the start of the cell: unchanged


def test_filters_since_until_status(store):
    old = Conversation("old", t0=1_700_000_000.0).session_start().user("oud")  # 2023-11-14
    store.repo.save(snapshot_from_events("old", old.events))
    _typical(store, "new")  # 2026-11-18, complete
    ip = Conversation("ip").session_start().user("bezig")
    store.repo.save(snapshot_from_events("ip", ip.events))

    def ids(**kw):
        return sorted(r["conversation_id"] for r in _jsonl(store, redact=False, **kw))

    assert ids() == ["ip", "new", "old"]
    assert ids(since="2026-01-01") == ["ip", "new"]
    assert ids(until="2023-11-14") == ["old"]  # until is inclusive for a day
    assert ids(until="2023-11-13") == []
    assert ids(status="complete") == ["new"]
    assert ids(status=["in_progress", "complete"], since=datetime(2026, 1, 1)) == ["ip", "new"]
    assert ids(status="complete,in_progress", until="2026-11-17T23:00:00Z") == ["old"]


def test_export_takes_review_app_query_or_ids(store):
    for i, text in enumerate(["pakket kwijt", "factuur fout", "pakket kapot"]):
        store.repo.save(snapshot_from_events(f"q{i}", Conversation(f"q{i}", t0=1.795e9 + i * 100).session_start().user(text).events))
    with store.session() as s:
        query = fulltext_filter(s.query(Story).filter(Story.language == "nl"), "pakket", store.engine)
        got = [r["conversation_id"] for r in iter_records(s, query, redact=False)]
        assert got == ["q0", "q2"]
        stmt = fulltext_filter(select(Story).order_by(Story.id.desc()), "factuur", store.engine)
        assert [r["conversation_id"] for r in iter_records(s, stmt, redact=False)] == ["q1"]
        ids = [r[0] for r in s.execute(select(Story.id).order_by(Story.id.desc()))]
        assert [r["conversation_id"] for r in iter_records(s, ids, redact=False)] == ["q2", "q1", "q0"]  # given order
        assert [r["conversation_id"] for r in iter_records(s, [ids[0]], status="complete")] == []


def test_export_streams_in_batches(store):
    seed(120, store.factory, seed=7)
    with store.session() as s:
        recs = list(iter_records(s, batch_size=25))
    assert len(recs) == 120 and len({r["id"] for r in recs}) == 120
    starts = [r["started_at"] for r in recs]
    assert starts == sorted(starts)
    assert all(r["transcript"] for r in recs)


# ---------------------------------------------------------------------------- Dutch Excel
def test_csv_dates_local_yes_no_dutch_and_long_cells_cut(store, monkeypatch):
    from bot.store.export import EXCEL_CELL_LIMIT

    r = _typical(store)
    with store.session() as s:
        story = s.get(Story, r.story_id)
        story.started_at = datetime(2026, 7, 1, 22, 30, 5)  # summer: UTC+2 → 2 July 00:30
        story.summary = "x" * 40_000
        s.commit()
    out = io.StringIO(newline="")
    with store.session() as s:
        export_csv(s, out, delimiter=";", redact=False)
    (row,) = csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline=""), delimiter=";")
    assert row["started_at"] == "02-07-2026 00:30"
    assert re.match(r"^\[\d\d-\d\d-\d{4} \d\d:\d\d\] bot: Hoi!", row["transcript"])
    assert row["summary_confirmed"] == "ja" and row["repeat_contact"] in ("ja", "nee")
    assert len(row["summary"]) <= EXCEL_CELL_LIMIT and row["summary"].endswith("[… afgekapt / truncated]")
    monkeypatch.setenv("GEHOOR_CSV_YES_NO", "yes,no")
    out = io.StringIO(newline="")
    with store.session() as s:
        export_csv(s, out, delimiter=";", redact=False)
    (row,) = csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline=""), delimiter=";")
    assert row["summary_confirmed"] == "yes"
