"""Recall and precision of the redaction on the labelled set tests/store/redaction_set.yml
(scripts/redaction_eval.py prints the table)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("redaction_eval", ROOT / "scripts" / "redaction_eval.py")
redaction_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(redaction_eval)

RECALL_TARGETS = {"email": 0.95, "phone": 0.95, "iban": 0.95, "bsn": 0.95, "postcode": 0.95, "address": 0.95,
                  "name": 0.85, "dob": 0.85, "ip": 0.95}


@pytest.fixture(scope="module")
def stats():
    items = redaction_eval.load()
    assert len(items) >= 200 and sum(1 for i in items if not i.get("p")) >= 100  # enough to measure precision
    return redaction_eval.evaluate(items)


@pytest.mark.parametrize("kind", sorted(RECALL_TARGETS))
def test_recall(stats, kind):
    st = stats[kind]
    assert st["tp"] + st["fn"] >= 4, f"too few labelled {kind} values to measure"
    assert st["recall"] >= RECALL_TARGETS[kind], f"{kind}: recall {st['recall']:.2f}, missed {st['missed']}"


def test_precision(stats):
    right = sum(st["right"] for st in stats.values())
    wrong = sum(st["fp"] for st in stats.values())
    assert right / (right + wrong) >= 0.95, [w for st in stats.values() for w in st["wrong"]]
