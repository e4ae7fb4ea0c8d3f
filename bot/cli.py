"""The `gehoor` command. Each package registers its own subcommands in its `cli.py`."""
from __future__ import annotations

import argparse
import importlib
import sys

# Modules that expose `register(subparsers)`; missing ones are skipped so a partial checkout still runs.
SUBCOMMAND_MODULES = (
    "bot.run",
    "bot.run_prod",
    "bot.store.cli",
    "bot.review.cli",
    "bot.channels.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gehoor", description="Gehoor — the listening feedback bot")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # bad input from the user: one clear line, no traceback
        print(f"gehoor: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
