"""`make bench` prints one table: bench scripts record their headline numbers (bench/report.py)
and bench/summary.py lays them out with the machine's details."""
import json

from bench.report import record
from bench.summary import machine, table


def test_records_go_to_the_results_file_only_when_asked(tmp_path, monkeypatch):
    results = tmp_path / "results.jsonl"
    monkeypatch.delenv("GEHOOR_BENCH_RESULTS", raising=False)
    record("nothing", 1, "ms")
    assert not results.exists()
    monkeypatch.setenv("GEHOOR_BENCH_RESULTS", str(results))
    record("REST round trip p50 ratio", 1.4321, "x", "<= 1.3", False)
    record("story write per turn, median", 2.1, "ms", "<= 5", True)
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert rows[0] == {"measure": "REST round trip p50 ratio", "value": 1.43, "unit": "x", "target": "<= 1.3",
                       "met": False}
    out = table(rows)
    assert "1.43 x" in out and "MISSED" in out.splitlines()[2] and out.splitlines()[3].endswith("ok")


def test_machine_details_name_cores_and_load():
    details = machine()
    assert "cores" in details and "load average" in details and "Python 3." in details
