"""Benchmark of the staff review app on a big store.

Seeds N stories (default 100,000) with the store's seed into a temporary, migrated SQLite
database, logs in through the Flask test client, and measures the p50/p95 response time of
the inbox (with filters), full-text search, the dashboard and the story page.

    .venv/bin/python bench/bench_review.py [--stories N] [--runs R] [--db-url URL] [--keep]

Targets: inbox p95 <= 150 ms, search p95 <= 300 ms, dashboard p95 <= 500 ms, story page p95 <= 100 ms.
Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import record  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TARGETS_MS = {"inbox": 150, "search": 300, "dashboard": 500, "story": 100}

INBOX = [
    "/inbox",
    "/inbox?band=detractor",
    "/inbox?band=promoter&language=en",
    "/inbox?aspect=delivery",
    "/inbox?aspect=delivery&band=detractor&repeat=yes",
    "/inbox?review=new&channel=telegram",
    "/inbox?consent=yes&followup=open",
    "/inbox?handoff=yes&assignee=none",
    "/inbox?tag=urgent",
    "/inbox?sentiment=mixed&status=complete",
    "/inbox?from={month_ago}&to={today}",
    "/inbox?from={month_ago}&to={today}&band=passive&aspect=communication",
    "/inbox?score=0",
    "/inbox?band=none&language=nl",
]
SEARCH = [
    "/inbox?q=pakket",
    "/inbox?q=bezorger+weer",
    "/inbox?q=factuur",
    "/inbox?q=app+inloggen",
    "/inbox?q=called+back",
    "/inbox?q=wacht&band=detractor",
    "/inbox?q=zeppelinhangar",
    "/inbox?q=delivery+late&language=en",
]
DASHBOARD = [
    "/dashboard",
    "/dashboard?per=week",
    "/dashboard?channel=socketio",
    "/dashboard?from={quarter_ago}&to={today}",
    "/dashboard?language=en&per=week",
]


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of every URL (after one warm-up)")
    parser.add_argument("--db-url", default=None, help="use this (migrated, seeded) database instead")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--verbose", action="store_true", help="also print the median of every URL")
    parser.add_argument("--only", choices=sorted(TARGETS_MS), action="append", help="measure only these pages")
    args = parser.parse_args(argv)

    from datetime import timedelta

    from argon2 import PasswordHasher

    from bot.review import accounts
    from bot.review.app import create_app
    from bot.store.db import make_engine, migrate, session_factory
    from bot.store.models import Story, utcnow
    from bot.store.seed import seed
    from sqlalchemy import func, select

    tmp = None
    if args.db_url:
        url = args.db_url
    else:
        tmp = Path(tempfile.mkdtemp(prefix="gehoor-bench-review-"))
        os.environ["GEHOOR_VAR_DIR"] = str(tmp)
        url = f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with factory() as s:
        have = s.execute(select(func.count(Story.id))).scalar() or 0
    if have < args.stories:
        t0 = time.perf_counter()
        print(f"seeding {args.stories - have:,} stories into {url} …", flush=True)
        seed(args.stories - have, factory, seed=2026,
             progress=lambda done, n, secs: print(f"  {done:,}/{n:,} ({secs:.0f} s)", flush=True) if done % 20000 == 0 else None)
        print(f"seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    with factory() as s:
        total = s.execute(select(func.count(Story.id))).scalar()
        ids = list(s.execute(select(Story.id)).scalars())
        if engine.dialect.name == "sqlite":
            from sqlalchemy import text

            s.execute(text("ANALYZE"))
            s.commit()
    email, password = "bench@acme.example", "bench password 123"
    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with factory() as s:
        if accounts.get_staff(s, email) is None:
            accounts.add_staff(s, email, "reviewer", password, actor="bench")
            s.commit()
    engine.dispose()

    app = create_app(url, testing=True)
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": password})
    assert r.status_code == 302, r.status_code

    today = utcnow().date()
    fill = {"today": today, "month_ago": today - timedelta(days=30), "quarter_ago": today - timedelta(days=91)}
    rng = random.Random(1)
    groups = {
        "inbox": [u.format(**fill) for u in INBOX],
        "search": [u.format(**fill) for u in SEARCH],
        "dashboard": [u.format(**fill) for u in DASHBOARD],
        "story": [f"/stories/{i}" for i in rng.sample(ids, min(40, len(ids)))],
    }
    # page 2 of the inbox (keyset cursor) counts as inbox
    import re

    html = client.get("/inbox?band=detractor").data.decode()
    m = re.search(r'href="(/inbox\?[^"]*before=[^"]+)" rel="next"', html)
    if m:
        groups["inbox"].append(m.group(1).replace("&amp;", "&"))

    if args.only:
        groups = {k: v for k, v in groups.items() if k in args.only}
    results = {}
    cpu = {}
    slowest = {}
    per_url = {}
    for name, urls in groups.items():
        times = []
        cpu_times = []
        for url_ in urls:
            client.get(url_)  # warm-up (caches, first analysis, SQLite page cache)
            for _ in range(args.runs if name != "story" else max(1, args.runs // 2)):
                c0, t0 = time.process_time(), time.perf_counter()
                resp = client.get(url_)
                dt = (time.perf_counter() - t0) * 1000
                cpu_times.append((time.process_time() - c0) * 1000)
                if resp.status_code != 200:
                    raise SystemExit(f"{url_} -> {resp.status_code}")
                times.append(dt)
                per_url.setdefault(url_, []).append(dt)
                if dt > slowest.get(name, ("", 0))[1]:
                    slowest[name] = (url_, dt)
        results[name] = times
        cpu[name] = cpu_times

    if args.verbose:
        print()
        for url_, ts in per_url.items():
            print(f"{statistics.median(ts):8.1f} ms  {url_}")
    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"review app, {total:,} stories, {engine.dialect.name}, Flask test client (logged in as reviewer); "
          f"{os.cpu_count()} CPUs, load average {load}")
    print(f"{'page':<10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>8}  {'result':<9} {'cpu p50':>8} {'cpu p95':>8}")
    ok = True
    for name, times in results.items():
        p95 = pct(times, 95)
        passed = p95 <= TARGETS_MS[name]
        ok &= passed
        record(f"review app at {total:,} stories: {name}, p95", p95, "ms", f"<= {TARGETS_MS[name]}", passed)
        print(f"{name:<10} {len(times):>8} {statistics.median(times):>8.1f} {p95:>8.1f} {max(times):>8.1f} "
              f"{TARGETS_MS[name]:>8}  {'ok' if passed else 'TOO SLOW':<9} "
              f"{statistics.median(cpu[name]):>8.1f} {pct(cpu[name], 95):>8.1f}")
    print("(ms = wall clock per request; cpu = CPU time of this process per request, all threads: what the\n"
          " request costs without competition for the CPUs)")
    print()
    for name, (url_, dt) in slowest.items():
        print(f"slowest {name:<9} {dt:7.1f} ms  {url_}")
    app.extensions["gehoor_engine"].dispose()
    if tmp and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif tmp:
        print(f"\nkept {url}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
