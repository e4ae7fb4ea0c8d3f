"""`make bench`: run every benchmark script, then print one table of their headline numbers
with the machine's details (each script's own detailed output is printed first).

    .venv/bin/python bench/summary.py [--only roundtrip analysis ...]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
SCRIPTS = ["foundation", "analysis", "roundtrip", "store", "review", "load"]


def machine() -> str:
    m = report.machine()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{m['cpu']}, {m['nproc']} cores, {m['memory']}; Python {m['python']}; "
            f"{platform.system()} {platform.release()}; load average {load}")


def table(rows: list) -> str:
    lines = [f"{'measure':70} {'result':>12} {'target':>10}  ",
             f"{'-' * 70} {'-' * 12} {'-' * 10}  "]
    for r in rows:
        value = f"{r['value']:g} {r['unit']}".strip()
        verdict = "" if r["met"] is None else ("ok" if r["met"] else "MISSED")
        lines.append(f"{r['measure'][:70]:70} {value:>12} {(r['target'] or ''):>10}  {verdict}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these benchmarks")
    args = parser.parse_args()
    failed = []
    with tempfile.TemporaryDirectory(prefix="gehoor-bench-") as tmp:
        results = Path(tmp) / "results.jsonl"
        env = dict(os.environ, GEHOOR_BENCH_RESULTS=str(results))
        for name in args.only or SCRIPTS:
            print(f"== bench/bench_{name}.py", flush=True)
            if subprocess.run([sys.executable, str(ROOT / "bench" / f"bench_{name}.py")], env=env).returncode:
                failed.append(name)
        rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    print()
    print(f"machine: {machine()}")
    print(table(rows))
    if failed:
        print(f"benchmark scripts that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
