"""Precision and recall of bot.store.redact on a labelled message set.

    .venv/bin/python scripts/redaction_eval.py [tests/store/redaction_set.yml]

Recall per kind: a labelled value counts as found when the spans find_pii returns (of any
kind: what matters is that it is masked) cover every visible character of it. Precision per
kind: a span counts as right when it overlaps a labelled value. Used by
tests/store/test_store_redaction_set.py, which asserts the targets.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store.redact import find_pii  # noqa: E402

DEFAULT_SET = ROOT / "tests" / "store" / "redaction_set.yml"
INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", " "}


def evaluate(items: list) -> dict:
    """{kind: {"tp", "fn", "fp", "recall", "precision", "missed": [...], "wrong": [...]}}"""
    stats: dict = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0, "right": 0, "missed": [], "wrong": []})
    for item in items:
        text = item["t"]
        spans = find_pii(text)
        covered = set()
        for s in spans:
            covered.update(range(s.start, s.end))
        labels = []
        for kind, value in item.get("p") or []:
            start = text.index(value)
            labels.append((start, start + len(value)))
            visible = [i for i in range(start, start + len(value)) if text[i] not in INVISIBLE]
            if all(i in covered for i in visible):
                stats[kind]["tp"] += 1
            else:
                stats[kind]["fn"] += 1
                stats[kind]["missed"].append(text)
        for s in spans:
            if any(s.start < end and start < s.end for start, end in labels):
                stats[s.kind]["right"] += 1
            else:
                stats[s.kind]["fp"] += 1
                stats[s.kind]["wrong"].append(f"{text[s.start:s.end]!r} in {text!r}")
    for st in stats.values():
        found = st["tp"] + st["fn"]
        st["recall"] = st["tp"] / found if found else None
        flagged = st["right"] + st["fp"]
        st["precision"] = st["right"] / flagged if flagged else None
    return dict(stats)


def load(path: Path = DEFAULT_SET) -> list:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def main(argv: list) -> int:
    items = load(Path(argv[0]) if argv else DEFAULT_SET)
    stats = evaluate(items)
    print(f"{len(items)} messages, {sum(len(i.get('p') or []) for i in items)} labelled values")
    print(f"{'kind':10} {'recall':>8} {'precision':>10} {'found':>6} {'missed':>7} {'false+':>7}")
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    for kind in sorted(stats):
        st = stats[kind]
        print(f"{kind:10} {pct(st['recall']):>8} {pct(st['precision']):>10} {st['tp']:>6} {st['fn']:>7} {st['fp']:>7}")
    for kind in sorted(stats):
        for text in stats[kind]["missed"]:
            print(f"missed {kind}: {text!r}")
        for text in stats[kind]["wrong"]:
            print(f"false {kind}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
