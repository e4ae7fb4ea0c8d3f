"""`gehoor` commands that do not run Rasa never import it: registering the subcommands
imports no Rasa, TensorFlow, spaCy or SQLAlchemy, and `gehoor staff list` (a store query)
loads no Rasa, TensorFlow or spaCy (it took 5-7 s when bot.cli loaded Rasa)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r"""
import json, sys
import bot.cli
parser = bot.cli.build_parser()
registered = sorted({m.split(".")[0] for m in sys.modules})
commands = sorted(parser._subparsers._group_actions[0].choices)
code = bot.cli.main(sys.argv[1:]) if len(sys.argv) > 1 else 0
print("RESULT " + json.dumps({"registered": registered, "after": sorted({m.split(".")[0] for m in sys.modules}),
                              "commands": commands, "code": code}))
"""

HEAVY = {"rasa", "rasa_sdk", "tensorflow", "spacy", "sanic", "keras", "jax"}


def _run(tmp_path, *argv: str) -> dict:
    env = {**os.environ, "GEHOOR_VAR_DIR": str(tmp_path), "GEHOOR_DB_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    done = subprocess.run([sys.executable, "-c", _CHILD, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_registering_every_subcommand_imports_no_rasa_and_no_database_library(tmp_path):
    result = _run(tmp_path)
    assert {"run", "staff", "stories"} <= set(result["commands"]), result["commands"]
    assert not HEAVY & set(result["registered"]), sorted(HEAVY & set(result["registered"]))
    assert "sqlalchemy" not in result["registered"], "registration should import the store lazily"


def test_staff_list_loads_no_rasa_tensorflow_or_spacy(tmp_path):
    result = _run(tmp_path, "staff", "list")
    assert result["code"] == 0
    assert "sqlalchemy" in result["after"], "the command did run against the store"
    assert not HEAVY & set(result["after"]), sorted(HEAVY & set(result["after"]))


_ONLY_OWNER = r"""
import json, sys
import bot.cli
code = bot.cli.main(["staff", "list"])
print("RESULT " + json.dumps({"code": code, "loaded": sorted(m for m in sys.modules if m.startswith("bot."))}))
"""


def test_a_command_imports_only_the_module_that_owns_it(tmp_path):
    env = {**os.environ, "GEHOOR_VAR_DIR": str(tmp_path), "GEHOOR_DB_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    done = subprocess.run([sys.executable, "-c", _ONLY_OWNER], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["code"] == 0
    assert "bot.review.cli" in result["loaded"]
    assert not {"bot.run", "bot.run_prod", "bot.channels.cli", "bot.store.cli"} & set(result["loaded"])


def test_the_command_table_matches_what_each_module_registers():
    import argparse
    import importlib

    import bot.cli

    for name, commands in bot.cli.SUBCOMMANDS.items():
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(name).register(subparsers)
        assert tuple(sorted(subparsers.choices)) == tuple(sorted(commands)), name
