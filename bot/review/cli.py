"""`gehoor staff …` (staff accounts) and `gehoor review` (serve the review app).

    gehoor staff add EMAIL --role viewer|reviewer|admin [--generate]
    gehoor staff list
    gehoor staff remove EMAIL
    gehoor staff role EMAIL ROLE
    gehoor staff passwd EMAIL [--generate]
    gehoor staff disable|enable EMAIL
    gehoor review [--host HOST] [--port PORT]
"""
from __future__ import annotations

import argparse
import getpass
import sys



def _role_name(text: str) -> str:
    """argparse type for a role; the store (SQLAlchemy) is imported only when a command runs."""
    from bot.store.models import ROLES

    if text not in ROLES:
        raise argparse.ArgumentTypeError(f"invalid role {text!r} (choose from {', '.join(ROLES)})")
    return text


def _session():
    from bot import config
    from bot.store import db  # what storeapi re-exports, without its export/search/erasure imports

    engine = db.make_engine(config.db_url())
    db.migrate(engine)
    return engine, db.session_factory(engine)()


def _ask_password() -> str:
    from bot.review.accounts import check_password

    first = getpass.getpass("Password (10 characters or more): ")
    check_password(first)
    second = getpass.getpass("Password again: ")
    if first != second:
        raise ValueError("the two passwords differ")
    return first


def _run(fn):
    def wrapper(args):
        engine, s = _session()
        try:
            code = fn(s, args)
            s.commit()
            return code
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()
            engine.dispose()
    return wrapper


@_run
def _add(s, args) -> int:
    from bot.review import accounts

    email = accounts.normalise_email(args.email)
    if accounts.get_staff(s, email) is not None:
        raise ValueError(f"staff account {email} already exists")
    password = accounts.generate_password() if args.generate else _ask_password()
    accounts.add_staff(s, email, args.role, password, actor="cli")
    print(f"Added {email} as {args.role}.")
    if args.generate:
        print(f"Generated password (shown once): {password}")
    return 0


@_run
def _list(s, args) -> int:
    from bot.review import accounts

    users = accounts.list_staff(s)
    if not users:
        print("No staff accounts. Add one with: gehoor staff add EMAIL --role admin --generate")
        return 0
    width = max(len(u.email) for u in users)
    print(f"{'EMAIL'.ljust(width)}  ROLE      STATE     CREATED (UTC)")
    for u in users:
        state = "disabled" if u.disabled else "active"
        print(f"{u.email.ljust(width)}  {u.role.ljust(8)}  {state.ljust(8)}  {u.created_at:%Y-%m-%d %H:%M}")
    return 0


@_run
def _remove(s, args) -> int:
    from bot.review import accounts

    accounts.remove_staff(s, args.email, actor="cli")
    print(f"Removed {args.email.strip().lower()}.")
    return 0


@_run
def _role(s, args) -> int:
    from bot.review import accounts

    accounts.set_role(s, args.email, args.role, actor="cli")
    print(f"{args.email.strip().lower()} is now {args.role}.")
    return 0


@_run
def _passwd(s, args) -> int:
    from bot.review import accounts

    if accounts.get_staff(s, args.email) is None:
        raise ValueError(f"no staff account {args.email}")
    password = accounts.generate_password() if args.generate else _ask_password()
    accounts.set_password(s, args.email, password, actor="cli")
    print(f"Password changed for {args.email.strip().lower()}.")
    if args.generate:
        print(f"Generated password (shown once): {password}")
    return 0


def _toggle(disabled: bool):
    @_run
    def run(s, args) -> int:
        from bot.review import accounts

        accounts.set_disabled(s, args.email, disabled, actor="cli")
        print(f"{args.email.strip().lower()} is {'disabled' if disabled else 'enabled'}.")
        return 0
    return run


@_run
def _logout(s, args) -> int:
    from bot.review import accounts

    n = accounts.end_sessions(s, args.email, actor="cli")
    print(f"Ended {n} session(s) of {args.email.strip().lower()}.")
    return 0


@_run
def _unlock(s, args) -> int:
    from bot.review import accounts

    accounts.unlock(s, args.email, actor="cli")
    print(f"Logins for {args.email.strip().lower()} are unblocked.")
    return 0


def _serve(args) -> int:
    from bot.review.app import serve

    serve(host=args.host, port=args.port)
    return 0


def register(subparsers) -> None:
    staff = subparsers.add_parser("staff", help="manage staff accounts of the review app")
    sub = staff.add_subparsers(dest="staff_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("add", help="add a staff account (asks for the password twice)")
    p.add_argument("email")
    p.add_argument("--role", type=_role_name, default="viewer", help="viewer (default), reviewer or admin")
    p.add_argument("--generate", action="store_true", help="generate a password and print it once")
    p.set_defaults(func=_add)

    p = sub.add_parser("list", help="list staff accounts")
    p.set_defaults(func=_list)

    p = sub.add_parser("remove", help="remove a staff account")
    p.add_argument("email")
    p.set_defaults(func=_remove)

    p = sub.add_parser("role", help="change a staff member's role")
    p.add_argument("email")
    p.add_argument("role", type=_role_name, help="viewer, reviewer or admin")
    p.set_defaults(func=_role)

    p = sub.add_parser("passwd", help="set a new password (asks twice, or --generate)")
    p.add_argument("email")
    p.add_argument("--generate", action="store_true")
    p.set_defaults(func=_passwd)

    for name, disabled in (("disable", True), ("enable", False)):
        p = sub.add_parser(name, help=f"{name} a staff account (keeps its history)")
        p.add_argument("email")
        p.set_defaults(func=_toggle(disabled))

    p = sub.add_parser("unlock", help="lift the login throttle of an account after failed attempts")
    p.add_argument("email")
    p.set_defaults(func=_unlock)

    p = sub.add_parser("logout", help="end every login session of a staff account (e.g. a lost laptop)")
    p.add_argument("email")
    p.set_defaults(func=_logout)

    review = subparsers.add_parser("review", help="serve the staff review app (waitress)")
    review.add_argument("--host", default=None, help="listen address (GEHOOR_REVIEW_HOST, default 127.0.0.1)")
    review.add_argument("--port", type=int, default=None, help="port (GEHOOR_REVIEW_PORT, default 8000)")
    review.set_defaults(func=_serve)


if __name__ == "__main__":  # python -m bot.review.cli …
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
