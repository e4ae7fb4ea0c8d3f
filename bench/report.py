"""One results table for all benchmarks (`make bench` → bench/summary.py).

Every bench script prints its own details and also calls `record(...)` for its headline
numbers; when GEHOOR_BENCH_RESULTS names a file, each record is appended to it as a JSON
line, which bench/summary.py turns into one table with the machine's details.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Optional


def machine() -> dict:
    """CPU model, cores, memory, Python and the load average right now."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return {"nproc": os.cpu_count(), "memory": mem, "cpu": cpu, "python": platform.python_version(),
            "load_before": os.getloadavg()[0]}


def record(measure: str, value: float, unit: str, target: Optional[str] = None,
           met: Optional[bool] = None) -> None:
    path = os.environ.get("GEHOOR_BENCH_RESULTS")
    if not path:
        return
    row = {"measure": measure, "value": round(float(value), 2), "unit": unit, "target": target, "met": met}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
