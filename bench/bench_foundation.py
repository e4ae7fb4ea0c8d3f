"""Foundation benchmark: set-up time on a warm package cache, `rasa train` from scratch, and
start-up time to the first answer. Prints a table; the figures go into docs/benchmarks.md.

    .venv/bin/python bench/bench_foundation.py [--skip-setup]

Targets (2 cores): training from scratch < 3 min, start-up to first answer < 60 s.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.report import record  # noqa: E402

from bench.servers import rasa_servers  # noqa: E402


def timed(argv, **kwargs) -> float:
    started = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.monotonic() - started


def setup_time(workdir: Path) -> float:
    """A fresh venv with every pinned package, from the local pip cache (no .venv touched)."""
    python = Path(os.path.realpath(BIN / "python"))
    venv = workdir / "venv"
    started = time.monotonic()
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(ROOT / "requirements.txt"),
                    "-c", str(ROOT / "constraints.txt")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def train_from_scratch(workdir: Path, env: dict) -> tuple[float, Path]:
    out = workdir / "models"
    cache = workdir / "rasa-cache"  # empty cache: nothing restored
    seconds = timed([str(BIN / "rasa"), "train", "--force", "--skip-validation", "--out", str(out)],
                    cwd=ROOT, env=dict(env, RASA_CACHE_DIRECTORY=str(cache)))
    return seconds, next(out.glob("*.tar.gz"))


def startup_to_first_answer(model: Path, workdir: Path) -> float:
    started = time.monotonic()
    with rasa_servers(model, workdir):
        return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-setup", action="store_true", help="skip the fresh-venv install")
    args = parser.parse_args()
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    rows = []
    with tempfile.TemporaryDirectory(prefix="gehoor-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_setup:
            rows.append(("set-up, fresh venv, warm package cache", setup_time(workdir), None))
            shutil.rmtree(workdir / "venv", ignore_errors=True)
        train_seconds, model = train_from_scratch(workdir, env)
        rows.append(("rasa train from scratch (empty cache)", train_seconds, 180))
        rows.append(("start-up to first answer (action server + Rasa)", startup_to_first_answer(model, workdir), 60))
    load = os.getloadavg()[0]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.1f}, Python {platform.python_version()}")
    print(f"{'measure':52} {'seconds':>8} {'target':>8}")
    for name, seconds, target in rows:
        verdict = "" if target is None else ("ok" if seconds <= target else "MISSED")
        print(f"{name:52} {seconds:8.1f} {('< ' + str(target)) if target else '':>8} {verdict}")
        record(name, seconds, "s", f"< {target}" if target else None, None if target is None else seconds <= target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
