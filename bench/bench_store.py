"""Story store benchmark.

    python bench/bench_store.py [--stories 100000] [--conversations 200] [--db-url URL] [--skip-export]

1. Story write per turn: the action server's `StoryRepository.save(snapshot)` after every turn
   of `--conversations` conversations of 8 turns (16 messages), on a fresh SQLite file (or
   --db-url). Prints median and p95 in ms; capture (`snapshot_from_events`, including
   bot.listening analysis) is reported separately.
2. Export: seeds `--stories` stories (bulk), then exports them as JSON Lines and as CSV
   (';' + BOM), each in a fresh child process, and prints time and that process's peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import record  # noqa: E402


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_writes(url: str, conversations: int) -> dict:
    from bot.store.capture import snapshot_from_events
    from bot.store.db import make_engine, migrate, session_factory
    from bot.store.repository import StoryRepository

    engine = make_engine(url)
    migrate(engine)
    repo = StoryRepository(session_factory(engine))
    t0 = 1_795_000_000.0
    capture_times, write_times = [], []
    replies = ["4", "Mijn pakket is wéér niet bezorgd, voor de derde keer deze maand.",
               "Ik had verwacht dat het gewoon de eerste keer goed zou gaan.",
               "Het kostte me een vrije dag, ik moest thuisblijven.",
               "Dat jullie één keer luisteren en het dan oplossen.",
               "Bel gewoon terug als je dat belooft.", "ja, klopt", "nee hoeft niet, dank je"]
    for c in range(conversations):
        t = t0 + c * 3600
        events = [{"event": "action", "name": "action_session_start", "timestamp": t},
                  {"event": "session_started", "timestamp": t + 0.001},
                  {"event": "bot", "text": "Hoi! Hoe waarschijnlijk is het dat je ons aanbeveelt?", "timestamp": t + 0.01}]
        for turn, reply in enumerate(replies):
            t += 20
            events.append({"event": "user", "text": reply, "timestamp": t, "input_channel": "socketio",
                           "metadata": {"page": "/bestelling"}, "parse_data": {"intent": {"name": "inform"}}})
            events.append({"event": "slot", "name": "score" if turn == 0 else "answer_reason", "value": 4.0 if turn == 0 else reply,
                           "timestamp": t + 0.1})
            events.append({"event": "bot", "text": f"Dank je. Vraag {turn + 1}?", "timestamp": t + 0.5})
            a = time.perf_counter()
            snap = snapshot_from_events(f"bench-{c}", events)
            b = time.perf_counter()
            repo.save(snap)
            e = time.perf_counter()
            capture_times.append((b - a) * 1000)
            write_times.append((e - b) * 1000)
    engine.dispose()
    return {
        "turns": len(write_times),
        "write_median_ms": round(statistics.median(write_times), 3),
        "write_p95_ms": round(_pct(write_times, 95), 3),
        "capture_median_ms": round(statistics.median(capture_times), 3),
        "capture_p95_ms": round(_pct(capture_times, 95), 3),
    }


def export_child(url: str, fmt: str, out: str) -> None:
    from bot.store.db import make_engine, session_factory
    from bot.store.export import export_csv, export_jsonl

    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as session, open(out, "w", encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            n = export_jsonl(session, fh)
        else:
            n = export_csv(session, fh, delimiter=";", bom=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"format": fmt, "stories": n, "seconds": round(seconds, 2),
                      "bytes": os.path.getsize(out),
                      "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from
    the parent (the seeding process), which would overstate the child's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--db-url", help="database for the write benchmark (default: a fresh SQLite file)")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--export-child", nargs=3, metavar=("URL", "FORMAT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="gehoor-bench-"))
    os.environ.setdefault("GEHOOR_VAR_DIR", str(tmp / "var"))
    url = args.db_url or f"sqlite:///{tmp / 'writes.db'}"
    w = bench_writes(url, args.conversations)
    print(f"story write per turn ({w['turns']} turns, {url.split(':')[0]}): "
          f"median {w['write_median_ms']} ms, p95 {w['write_p95_ms']} ms")
    print(f"capture per turn (snapshot_from_events incl. analysis): "
          f"median {w['capture_median_ms']} ms, p95 {w['capture_p95_ms']} ms")
    record("story write per turn, median", w["write_median_ms"], "ms", "<= 5", w["write_median_ms"] <= 5)
    record("story capture per turn (incl. analysis), median", w["capture_median_ms"], "ms")
    if args.skip_export:
        return 0

    from bot.store.db import make_engine, migrate, session_factory
    from bot.store.seed import seed

    export_url = f"sqlite:///{tmp / 'export.db'}"
    engine = make_engine(export_url)
    migrate(engine)
    started = time.perf_counter()
    seed(args.stories, session_factory(engine))
    print(f"seed {args.stories} stories: {time.perf_counter() - started:.1f} s")
    engine.dispose()
    for fmt in ("jsonl", "csv"):
        out = tmp / f"export.{fmt}"
        result = subprocess.run([sys.executable, __file__, "--export-child", export_url, fmt, str(out)],
                                capture_output=True, text=True, check=True)
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"export {r['format']}: {r['stories']} stories in {r['seconds']} s "
              f"({r['bytes'] / 1e6:.0f} MB), peak RSS {r['peak_rss_mb']} MB")
        record(f"export {r['stories']:,} stories, {r['format']}", r["seconds"], "s", "<= 60", r["seconds"] <= 60)
        out.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
