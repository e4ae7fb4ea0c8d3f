"""The review app's CSV download for Dutch Excel: one charset in the header, local dates."""
from __future__ import annotations

import csv
import io
import re


def test_csv_download_headers_and_cells(client_for):
    r = client_for("reviewer").get("/export?format=csv&q=zeppelinhangar")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = r.data.decode("utf-8")
    assert body.startswith("\ufeff") and body.count("\ufeff") == 1
    (row,) = csv.DictReader(io.StringIO(body.lstrip("\ufeff"), newline=""), delimiter=";")
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d", row["started_at"])
    assert row["summary_confirmed"] in ("ja", "nee", "")
    r = client_for("reviewer").get("/export?format=jsonl&q=zeppelinhangar")
    assert r.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
