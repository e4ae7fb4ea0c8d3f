"""`gehoor` subcommands of the story store (registered by bot/cli.py).

    gehoor stories export --format jsonl|csv [--since DATE] [--until DATE] [--status S]
                          [--no-redact] [--delimiter ';'] [--no-bom] [--output FILE]
    gehoor stories show REF [--no-redact]
    gehoor stories reconcile [--tracker-url URL] [--sender ID]
    gehoor stories sweep [--idle-minutes N]
    gehoor stories purge --older-than 365d [--keep-tracker] [--dry-run]
    gehoor forget (--conversation ID | --contact EMAIL_OR_PHONE)
    gehoor dev seed --stories N [--seed S]
    gehoor db migrate

Bad arguments: one clear line on stderr and exit status 2; nothing is written or deleted.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

EXIT_DB = 1


def _group(subparsers, name: str, help_: str):
    """The sub-subparsers of top-level command `name`, shared if another package made it too."""
    existing = subparsers.choices.get(name)
    if existing is not None:
        for action in existing._actions:  # noqa: SLF001
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                return action
    parser = subparsers.add_parser(name, help=help_, description=help_)
    sub = parser.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
    sub.required = True
    return sub


def _age(text: str) -> str:
    from bot.store.erasure import parse_age

    try:
        parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _date(text: str) -> str:
    from bot.store.export import parse_date

    try:
        parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _status(text: str) -> str:
    from bot.store.models import STATUSES

    for s in text.split(","):
        if s.strip() not in STATUSES:
            raise argparse.ArgumentTypeError(f"unknown status {s.strip()!r} (one of: {', '.join(STATUSES)})")
    return text


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return n


def _delimiter(text: str) -> str:
    value = {"\\t": "\t", "tab": "\t", "semicolon": ";", "comma": ","}.get(text, text)
    if value not in (",", ";", "\t", "|"):
        raise argparse.ArgumentTypeError(f"unsupported delimiter {text!r} (use ',', ';', '|' or tab)")
    return value


def register(subparsers) -> None:
    stories = _group(subparsers, "stories", "the story store: export, show, reconcile, sweep, purge")

    p = stories.add_parser("export", help="export stories as JSON Lines or CSV (redacted unless --no-redact)")
    p.add_argument("--format", choices=("jsonl", "csv"), required=True)
    p.add_argument("--since", type=_date, help="started on/after (YYYY-MM-DD or ISO date-time, UTC)")
    p.add_argument("--until", type=_date, help="started on/before this day (inclusive) or before this time")
    p.add_argument("--status", type=_status, action="append", help="in_progress, complete, abandoned, handed_off (repeat or comma-separate)")
    p.add_argument("--no-redact", action="store_true", help="export personal data unredacted (audited)")
    p.add_argument("--delimiter", type=_delimiter, default=",", help="CSV delimiter; ';' for a Dutch Excel")
    p.add_argument("--no-bom", action="store_true", help="CSV without the UTF-8 byte order mark")
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    p = stories.add_parser("show", help="show one story by its reference (e.g. GH-7K3M-9QXD)")
    p.add_argument("reference")
    p.add_argument("--no-redact", action="store_true")
    p.add_argument("--json", action="store_true", help="print the export record as JSON")
    p.set_defaults(func=cmd_show)

    p = stories.add_parser("reconcile", help="flush the outbox and rebuild/complete stories from Rasa's tracker store")
    p.add_argument("--tracker-url", help="tracker database URL (default GEHOOR_TRACKER_DB_URL or var/tracker.db)")
    p.add_argument("--sender", action="append", help="only this Rasa sender id (repeatable)")
    p.set_defaults(func=cmd_reconcile)

    p = stories.add_parser("sweep", help="mark idle in-progress stories as abandoned")
    p.add_argument("--idle-minutes", type=_positive, help="default GEHOOR_IDLE_MINUTES (30)")
    p.set_defaults(func=cmd_sweep)

    p = stories.add_parser("purge", help="delete stories (and tracker events) older than an age: retention")
    p.add_argument("--older-than", type=_age, required=True, help="e.g. 365d, 12w, 6m, 1y")
    p.add_argument("--keep-tracker", action="store_true", help="do not delete old events in Rasa's tracker store")
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.set_defaults(func=cmd_purge)

    p = subparsers.add_parser("forget", help="erase a customer's stories and conversation (AVG/GDPR)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--conversation", help="Rasa sender / conversation id")
    who.add_argument("--contact", help="e-mail address or phone number the customer left")
    p.set_defaults(func=cmd_forget)

    dev = _group(subparsers, "dev", "developer tools")
    p = dev.add_parser("seed", help="insert N realistic generated stories")
    p.add_argument("--stories", type=_positive, required=True)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_seed)

    db = _group(subparsers, "db", "database administration")
    p = db.add_parser("migrate", help="bring the store's schema to the newest revision (Alembic upgrade head)")
    p.set_defaults(func=cmd_migrate)


# ---------------------------------------------------------------------------- helpers


def _store():
    """(engine, session factory) of the configured store, migrated."""
    from bot.store.db import make_engine, migrate, session_factory

    engine = make_engine()
    migrate(engine)
    return engine, session_factory(engine)


def _run(fn):
    def wrapper(args):
        from sqlalchemy.exc import InterfaceError, OperationalError  # when the command runs, not at registration

        try:
            return fn(args)
        except BrokenPipeError:  # e.g. `gehoor stories export ... | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        except (OperationalError, InterfaceError) as exc:
            print(f"gehoor: the story database is unavailable: {str(exc.orig or exc).strip().splitlines()[0]}", file=sys.stderr)
            return EXIT_DB

    wrapper.__name__ = fn.__name__
    return wrapper


# ---------------------------------------------------------------------------- commands


@_run
def cmd_export(args) -> int:
    from bot.store.audit import audit
    from bot.store.export import export_csv, export_jsonl

    _engine, factory = _store()
    filters = {"since": args.since, "until": args.until, "status": args.status, "redact": not args.no_redact}
    target = args.output
    tmp = None
    if target is not None:
        target = target.expanduser()
        if target.parent and not target.parent.exists():
            raise ValueError(f"directory does not exist: {target.parent}")
        tmp = target.with_name(f".{target.name}.part")
        out = open(tmp, "w", encoding="utf-8", newline="")
    else:
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=False)
    try:
        with factory() as session:
            if args.format == "jsonl":
                count = export_jsonl(session, out, **filters)
            else:
                count = export_csv(session, out, delimiter=args.delimiter, bom=not args.no_bom, **filters)
        out.flush()
        if tmp is not None:
            os.fsync(out.fileno())
    except BaseException:
        if tmp is not None:
            out.close()
            tmp.unlink(missing_ok=True)
        raise
    finally:
        if tmp is None:
            out.detach()
    if tmp is not None:
        out.close()
        os.replace(tmp, target)
    with factory() as session:
        audit(session, "cli", "export", None, format=args.format, count=count, redacted=not args.no_redact,
              since=args.since, until=args.until, status=args.status)
        session.commit()
    print(f"exported {count} stories" + (f" to {target}" if target else ""), file=sys.stderr)
    return 0


@_run
def cmd_show(args) -> int:
    from bot.store.audit import audit
    from bot.store.export import iter_records
    from bot.store.repository import StoryRepository

    _engine, factory = _store()
    story = StoryRepository(factory).get_by_reference(args.reference)
    if story is None:
        print(f"gehoor: no story with reference {args.reference!r}", file=sys.stderr)
        return 1
    with factory() as session:
        record = next(iter_records(session, [story.id], redact=not args.no_redact))
        audit(session, "cli", "view", f"story:{story.id}", redacted=not args.no_redact)
        session.commit()
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return 0
    print(f"{record['reference']}  {record['status']}  {record['channel']}  {record['language']}  "
          f"score {record['score'] if record['score'] is not None else '-'}  started {record['started_at']}")
    if record["aspects"]:
        print("aspects: " + ", ".join(record["aspects"]))
    if record["correction"]:
        print(f"correction (authoritative): {record['correction']}")
    elif record["summary"]:
        print(f"summary{' (confirmed)' if record['summary_confirmed'] else ''}: {record['summary']}")
    if record["contact"]:
        print(f"contact: {record['contact']}  (consent: {record['consent_to_contact']})")
    print()
    for m in record["transcript"]:
        who = "klant" if m["role"] == "customer" else "bot  "
        print(f"{m['at']}  {who}  {m['text']}")
    return 0


@_run
def cmd_reconcile(args) -> int:
    from bot.store.reconcile import reconcile, tracker_db_url
    from bot.store.repository import StoryRepository
    from bot.store.writer import StoryWriter

    _engine, factory = _store()
    writer = StoryWriter(StoryRepository(factory))
    flushed = writer.flush_outbox()
    writer._executor.shutdown()  # noqa: SLF001
    print(f"outbox: {flushed.flushed} flushed, {flushed.dead} dead-lettered, {flushed.remaining} remaining")
    report = reconcile(factory, args.tracker_url, sender_ids=args.sender)
    if not report.tracker_found:
        print(f"no Rasa events table at {args.tracker_url or tracker_db_url()}: nothing to reconcile")
        return 0
    print(f"reconciled {report.sessions} session(s) of {report.senders} sender(s): {report.created} created, "
          f"{report.updated} completed, {report.unchanged} unchanged, {report.messages_added} message(s) added, "
          f"{report.empty_sessions} without customer messages")
    return 0


@_run
def cmd_sweep(args) -> int:
    from bot.store.repository import sweep_idle

    _engine, factory = _store()
    with factory() as session:
        n = sweep_idle(session, args.idle_minutes)
        session.commit()
    print(f"{n} idle stor{'y' if n == 1 else 'ies'} marked abandoned")
    return 0


@_run
def cmd_purge(args) -> int:
    from sqlalchemy import func, select

    from bot.store.erasure import parse_age, purge
    from bot.store.models import Story, utcnow

    _engine, factory = _store()
    if args.dry_run:
        cutoff = utcnow() - parse_age(args.older_than)
        with factory() as session:
            n = session.execute(select(func.count()).select_from(Story).where(Story.started_at < cutoff)).scalar()
        print(f"would delete {n} stories started before {cutoff.isoformat(timespec='seconds')}Z")
        return 0
    report = purge(args.older_than, factory=factory, include_tracker=not args.keep_tracker)
    print(f"deleted {report.stories} stories ({report.messages} messages) started before "
          f"{report.cutoff.isoformat(timespec='seconds')}Z; {report.tracker_events} tracker event(s)")
    if report.tracker_error:
        print(f"warning: tracker store not purged: {report.tracker_error}", file=sys.stderr)
        return 1
    return 0


@_run
def cmd_forget(args) -> int:
    from bot.store.erasure import forget, normalize_contact

    if args.contact:
        normalize_contact(args.contact)  # ValueError → exit 2 before anything is deleted
    _engine, factory = _store()
    report = forget(conversation=args.conversation, contact=args.contact, factory=factory)
    print(f"erased {len(report.stories)} stor{'y' if len(report.stories) == 1 else 'ies'} "
          f"({', '.join(report.stories) or 'none'}), {report.messages} message(s), "
          f"{report.tracker_events} tracker event(s), {report.outbox_snapshots} outbox snapshot(s) "
          f"of {len(report.conversations)} conversation(s); audit entry {report.audit_id}")
    if report.audit_scrubbed:
        print(f"{report.audit_scrubbed} earlier audit entr{'y' if report.audit_scrubbed == 1 else 'ies'} no longer name the customer")
    for item in report.not_reached:
        print(f"not reached: {item}")
    if report.tracker_error and report.conversations:
        print(f"warning: tracker store not cleaned: {report.tracker_error}", file=sys.stderr)
        return 1
    return 0


@_run
def cmd_seed(args) -> int:
    from bot.store.seed import seed

    _engine, factory = _store()

    def progress(done, total, seconds):
        print(f"\r{done}/{total} stories ({seconds:.1f} s)", end="", file=sys.stderr, flush=True)

    n = seed(args.stories, factory, seed=args.seed, progress=progress)
    print(f"\nseeded {n} stories", file=sys.stderr)
    return 0


@_run
def cmd_migrate(args) -> int:
    from bot.store.db import make_engine, migrate

    engine = make_engine()
    rev = migrate(engine)
    url = engine.url.render_as_string(hide_password=True) if hasattr(engine.url, "render_as_string") else str(engine.url)
    print(f"{url}: at revision {rev}")
    return 0
