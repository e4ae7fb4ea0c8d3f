"""Export of the inbox's current filter: CSV for a Dutch Excel and JSON Lines, streamed,
redacted for viewers, audited."""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from bot.store.models import AuditEntry, Story
from review_helpers import USERS


def test_csv_export_for_dutch_excel(client_for, factory):
    r = client_for("reviewer").get("/export?format=csv&band=detractor&language=nl")
    assert r.status_code == 200 and r.is_streamed
    assert r.mimetype == "text/csv"
    assert 'attachment; filename="gehoor-stories-' in r.headers["Content-Disposition"]
    body = r.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body[1:]), delimiter=";"))
    with factory() as s:
        want = set(s.execute(select(Story.reference).where(Story.score <= 6, Story.language == "nl")).scalars())
    assert {row["reference"] for row in rows} == want
    assert all(int(row["score"]) <= 6 and row["language"] == "nl" for row in rows)
    assert "transcript" in rows[0] and "answer_reason" in rows[0]


def test_jsonl_export_with_search(client_for, ids):
    r = client_for("reviewer").get("/export?format=jsonl&q=zeppelinhangar")
    assert r.mimetype == "application/x-ndjson"
    lines = [json.loads(x) for x in r.data.decode().splitlines()]
    assert [x["reference"] for x in lines] == ["GH-PII0-0002"]
    rec = lines[0]
    assert rec["contact"] == "+31612345678"
    assert any("piet.jansen@example.org" in m["text"] for m in rec["transcript"])


def test_viewer_export_is_redacted(client_for):
    rec = json.loads(client_for("viewer").get("/export?format=jsonl&q=zeppelinhangar").data.decode())
    text = json.dumps(rec)
    assert "piet.jansen@example.org" not in text and "+31612345678" not in text and "06-12345678" not in text
    body = client_for("viewer").get("/export?format=csv&q=zeppelinhangar").data.decode()
    assert "piet.jansen@example.org" not in body and "+31612345678" not in body


def test_export_all_and_audit(client_for, factory):
    body = client_for("admin").get("/export?format=jsonl").data.decode()
    with factory() as s:
        total = s.execute(select(func.count(Story.id))).scalar()
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "export")).scalars().all()
    assert len(body.splitlines()) == total
    assert entries[-1].actor == USERS["admin"]
    assert entries[-1].detail == {"format": "jsonl", "filters": {}, "redacted": False}


def test_export_records_the_filter(client_for, factory):
    client_for("viewer").get("/export?format=csv&aspect=delivery&repeat=yes")
    with factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "export")).scalars().all()[-1]
    assert entry.detail == {"format": "csv", "filters": {"aspect": "delivery", "repeat": "yes"}, "redacted": True}


def test_csv_cells_cannot_become_formulas(client_for, factory, ids):
    client_for("reviewer").post(f"/stories/{ids['plain']}/follow-up", data={"note": "=HYPERLINK(\"http://x\")"})
    body = client_for("reviewer").get("/export?format=csv&q=crasht").data.decode()
    assert "'=HYPERLINK" in body


def test_unknown_format(client_for):
    assert client_for("viewer").get("/export?format=xlsx").status_code == 400
