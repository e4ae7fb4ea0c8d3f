"""The `gehoor` command. Each package registers its own subcommands in its `cli.py`.

Only the module that owns the command being run is imported (`gehoor staff list` loads the
store, never Rasa or TensorFlow); with no command, an unknown one or a top-level `--help`,
every module registers. tests/foundation/test_cli_imports.py checks SUBCOMMANDS against
what the modules register.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Dict, Optional, Sequence, Tuple

# Module that exposes `register(subparsers)` -> the top-level commands it registers.
# Missing modules are skipped so a partial checkout still runs.
SUBCOMMANDS: Dict[str, Tuple[str, ...]] = {
    "bot.run": ("run", "train"),
    "bot.run_prod": ("events", "run-prod"),
    "bot.store.cli": ("db", "dev", "forget", "stories"),
    "bot.review.cli": ("review", "staff"),
    "bot.channels.cli": ("channels",),
    "bot.notify.cli": ("notify",),
}
SUBCOMMAND_MODULES = tuple(SUBCOMMANDS)


def modules_for(argv: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """The modules to import for this command line: its command's owners, else all."""
    command = next((arg for arg in argv or () if not arg.startswith("-")), None)
    owners = tuple(name for name, commands in SUBCOMMANDS.items() if command in commands)
    return owners or SUBCOMMAND_MODULES


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The parser for `argv`'s command (every command when argv is None)."""
    parser = argparse.ArgumentParser(prog="gehoor", description="Gehoor — the listening feedback bot")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMAND_MODULES if argv is None else modules_for(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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
