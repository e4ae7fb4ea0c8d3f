"""The `gehoor` store subcommands, end to end through bot.cli.main."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.store.capture import snapshot_from_events
from bot.store.models import AuditEntry, Story
from store_helpers import T0, Conversation, count_events, write_rasa_events


@pytest.fixture
def cli_store(store, monkeypatch):
    monkeypatch.setenv("GEHOOR_DB_URL", store.url)
    monkeypatch.setenv("GEHOOR_TRACKER_DB_URL", store.tracker_url)
    return store


def _stories(store):
    with store.session() as s:
        return s.execute(select(func.count()).select_from(Story)).scalar()


def test_db_migrate_and_seed(cli_store, capsys):
    assert main(["db", "migrate"]) == 0
    from alembic.script import ScriptDirectory

    from bot.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"at revision {head}" in capsys.readouterr().out
    assert main(["dev", "seed", "--stories", "50"]) == 0
    assert _stories(cli_store) == 50


def test_export_csv_and_jsonl_to_files(cli_store, tmp_path, capsys):
    main(["dev", "seed", "--stories", "30"])
    out = tmp_path / "stories.csv"
    assert main(["stories", "export", "--format", "csv", "--delimiter", ";", "--output", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid;reference;")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == 30
    assert not any("@example.com" in r["contact"] for r in rows)  # redacted by default
    out2 = tmp_path / "stories.jsonl"
    assert main(["stories", "export", "--format", "jsonl", "--status", "complete", "--no-redact", "-o", str(out2)]) == 0
    recs = [json.loads(line) for line in out2.read_text(encoding="utf-8").splitlines()]
    assert recs and all(r["status"] == "complete" for r in recs)
    assert any(r["contact"] and "@example.com" in r["contact"] for r in recs) or all(not r["contact"] for r in recs)
    with cli_store.session() as s:
        actions = [a.action for a in s.execute(select(AuditEntry)).scalars()]
    assert actions.count("export") == 2


def test_export_to_stdout(cli_store, capsysbinary):
    cli_store.repo.save(snapshot_from_events("c", Conversation("c").typical().events))
    assert main(["stories", "export", "--format", "jsonl"]) == 0
    out = capsysbinary.readouterr().out.decode("utf-8")
    assert json.loads(out)["conversation_id"].startswith("anon-")  # redacted by default: a pseudonym


@pytest.mark.parametrize("argv", [
    ["stories", "export", "--format", "xml"],
    ["stories", "export"],
    ["stories", "export", "--format", "csv", "--since", "gisteren"],
    ["stories", "export", "--format", "csv", "--status", "done"],
    ["stories", "export", "--format", "csv", "--delimiter", "::"],
    ["stories", "purge", "--older-than", "0d"],
    ["stories", "purge", "--older-than", "soon"],
    ["stories", "purge"],
    ["forget"],
    ["forget", "--conversation", "a", "--contact", "b@c.nl"],
    ["dev", "seed", "--stories", "-5"],
    ["dev", "seed", "--stories", "veel"],
    ["stories", "sweep", "--idle-minutes", "x"],
])
def test_bad_arguments_exit_2_and_change_nothing(cli_store, argv, capsys):
    cli_store.repo.save(snapshot_from_events("keep", Conversation("keep").typical().events))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert _stories(cli_store) == 1


def test_forget_bad_contact_exit_2(cli_store, capsys):
    cli_store.repo.save(snapshot_from_events("keep", Conversation("keep").typical().events))
    assert main(["forget", "--contact", "geen-adres"]) == 2
    assert "gehoor:" in capsys.readouterr().err
    assert _stories(cli_store) == 1


def test_export_to_missing_directory_exit_2(cli_store, tmp_path, capsys):
    assert main(["stories", "export", "--format", "csv", "-o", str(tmp_path / "nope" / "x.csv")]) == 2


def test_show_forget_sweep_reconcile_purge(cli_store, capsys):
    conv = Conversation("cli-1").typical()
    write_rasa_events(cli_store.tracker_url, "cli-1", conv.events)
    assert main(["stories", "reconcile"]) == 0
    assert "1 created" in capsys.readouterr().out
    ref = snapshot_from_events("cli-1", conv.events).reference
    assert main(["stories", "show", ref.lower()]) == 0
    out = capsys.readouterr().out
    assert ref in out and "Ik moest weer drie keer bellen" in out and "[e-mail]" in out
    assert main(["stories", "show", ref, "--json", "--no-redact"]) == 0
    assert json.loads(capsys.readouterr().out)["contact"] == "jan@example.com"
    assert main(["stories", "show", "GH-0000-0000"]) == 1

    idle = Conversation("cli-idle", t0=T0).session_start().user("hallo")
    cli_store.repo.save(snapshot_from_events("cli-idle", idle.events))
    assert main(["stories", "sweep"]) == 0  # T0 is in the past: idle for far more than 30 minutes
    assert "1 idle story marked abandoned" in capsys.readouterr().out

    assert main(["stories", "purge", "--older-than", "3650d", "--dry-run"]) == 0
    assert "would delete 0 stories" in capsys.readouterr().out

    assert main(["forget", "--conversation", "cli-1"]) == 0
    assert f"erased 1 story ({ref})" in capsys.readouterr().out
    assert count_events(cli_store.tracker_url, "cli-1") == 0
    assert main(["stories", "purge", "--older-than", "1d"]) == 0
    assert _stories(cli_store) == 0


def test_database_unreachable_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("GEHOOR_DB_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/test?connect_timeout=2")
    assert main(["stories", "sweep"]) == 1
    err = capsys.readouterr().err
    assert "database is unavailable" in err and "Traceback" not in err
