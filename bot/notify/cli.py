"""`gehoor notify …`: check the alerts file, run the worker as its own process, read the log."""
from __future__ import annotations

import argparse
import logging
import signal


def register(subparsers) -> None:
    p = subparsers.add_parser("notify", help="alerts: webhooks, Slack, e-mail (docs/notifications.md)")
    sub = p.add_subparsers(dest="notify_command", metavar="SUBCOMMAND")
    sub.required = True
    check = sub.add_parser("check", help="read GEHOOR_ALERTS_FILE (or --file) and say what it sends where")
    check.add_argument("--file", help="an alerts file (default GEHOOR_ALERTS_FILE)")
    check.set_defaults(func=_check)
    work = sub.add_parser("work", help="send due notifications until stopped (use with GEHOOR_NOTIFY_WORKER=off)")
    work.add_argument("--interval", type=float, default=5.0, help="seconds between passes (default 5)")
    work.add_argument("--once", action="store_true", help="one pass, then exit")
    work.set_defaults(func=_work)
    show = sub.add_parser("list", help="the latest deliveries (the review app shows them at /notifications)")
    show.add_argument("--limit", type=int, default=20)
    show.add_argument("--state", choices=("pending", "delivered", "failed"))
    show.set_defaults(func=_list)


def _check(args: argparse.Namespace) -> int:
    from bot import config
    from bot.notify import rules

    path = args.file or config.alerts_file()
    if not path:
        print("GEHOOR_ALERTS_FILE is not set: no alerts are sent.")
        return 0
    alerts = rules.load(path)  # AlertsFileError is a ValueError: one clear line, exit 2
    for name, d in alerts.destinations.items():
        where = ", ".join(d.to) if d.kind == "email" else (f"${d.url_env}" if d.url_env else d.url)
        print(f"destination {name}: {d.kind} -> {where}")
    for i, r in enumerate(alerts.rules, 1):
        print(f"rule {i}: events={','.join(r.events)} moments={','.join(r.moments) or 'any'} "
              f"bands={','.join(r.bands) or 'any'} aspects={','.join(r.aspects) or 'any'} -> {','.join(r.to)}")
    print(f"follow_up.due lead time: {alerts.follow_up_lead_minutes} min; retries: {alerts.retry.max_attempts} "
          f"attempts from {alerts.retry.first_delay_seconds:g} s, doubling, at most {alerts.retry.max_delay_seconds:g} s")
    return 0


def _work(args: argparse.Namespace) -> int:
    from bot.notify.worker import NotifyWorker
    from bot.store.db import migrate

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    migrate()
    worker = NotifyWorker()
    if args.once:
        report = worker.run_once()
        print(f"enqueued {report.enqueued}, delivered {report.delivered}, "
              f"retrying {report.retrying}, failed {report.failed}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
    try:
        worker.run_forever(args.interval)
    except KeyboardInterrupt:
        pass
    return 0


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.store.db import session_scope
    from bot.store.models import NotificationJob

    with session_scope() as s:
        q = select(NotificationJob).order_by(NotificationJob.id.desc()).limit(max(1, args.limit))
        if args.state:
            q = q.where(NotificationJob.state == args.state)
        for job in s.execute(q).scalars():
            print(f"{job.id}\t{job.created_at:%Y-%m-%d %H:%M:%S}\t{job.event}\t{job.destination}\t{job.state}"
                  f"\tattempts={job.attempts}\t{job.last_status or ''}\t{(job.last_error or '')[:80]}")
    return 0
