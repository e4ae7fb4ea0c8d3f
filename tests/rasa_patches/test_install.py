"""How the patches are installed: all of them on the pinned Rasa, loudly when one does not
fit, none on another Rasa or with GEHOOR_RASA_PATCHES=off, never by an import."""
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import bot.rasa_patches
from bot.rasa_patches import PATCHES, PatchDoesNotFit

ROOT = Path(__file__).resolve().parents[2]


def test_every_patch_fits_the_pinned_rasa():
    assert bot.rasa_patches.active() == list(PATCHES)


def test_every_patch_module_names_what_it_replaces_and_gains():
    import importlib

    for name in PATCHES:
        module = importlib.import_module(f"bot.rasa_patches.{name}")
        assert module.REPLACES.startswith(("rasa.", "copy.")), name
        assert module.GAIN.strip(), name
        assert len(inspect.getsource(module).splitlines()) <= 150, f"{name}: one short file per patch"


def test_architecture_doc_lists_every_patch():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in PATCHES:
        assert f"`{name}`" in doc, f"docs/architecture.md does not list the patch {name}"


@pytest.mark.parametrize("patch", ["slot_copies", "debug_log_copies"])
def test_a_patch_that_reads_rasas_source_fails_loudly_when_it_differs(patch, monkeypatch):
    """These two decide by reading Rasa's source: a different source is an error, not a
    silent no-op."""
    import importlib

    module = importlib.import_module(f"bot.rasa_patches.{patch}")
    real = inspect.getsource

    def changed_source(obj):
        return real(obj) + "\n    extra = copy.copy(something_new)\n"

    monkeypatch.setattr(inspect, "getsource", changed_source)
    with pytest.raises(PatchDoesNotFit):
        if patch == "slot_copies":
            from rasa.shared.core import trackers

            module.check_fits(trackers)
        else:
            from rasa.core import processor

            module.check_fits(processor, module.EXPECTED_USES["rasa.core.processor"])


def test_install_raises_in_strict_mode_and_skips_otherwise_when_a_patch_does_not_fit(monkeypatch, caplog):
    from bot.rasa_patches import slot_copies

    def does_not_fit():
        raise PatchDoesNotFit("rasa.shared.core.trackers changed")

    monkeypatch.setattr(slot_copies, "install", does_not_fit)
    with pytest.raises(PatchDoesNotFit):
        bot.rasa_patches.install(strict=True, enabled=True)
    monkeypatch.setattr(bot.rasa_patches, "_active", None)
    active = bot.rasa_patches.install(enabled=True)
    assert "slot_copies" not in active and len(active) == len(PATCHES) - 1
    assert "Rasa patch slot_copies not installed: rasa.shared.core.trackers changed" in caplog.text
    monkeypatch.undo()
    bot.rasa_patches.install(strict=True, enabled=True)  # as the other tests expect it


@pytest.mark.parametrize("rasa_version, setting, logged", [
    ("3.6.20", "on", "written for Rasa 3.6.21, this is Rasa 3.6.20: none installed, running stock Rasa"),
    ("3.6.21", "off", "Rasa patches: off (GEHOOR_RASA_PATCHES=off), running stock Rasa"),
])
def test_another_rasa_or_the_switch_off_installs_nothing_and_says_so(rasa_version, setting, logged, monkeypatch,
                                                                    caplog):
    import logging

    import rasa

    def no_patch_module(name):
        raise AssertionError(f"{name} was imported: a patch was about to be installed")

    monkeypatch.setattr(rasa, "__version__", rasa_version)
    monkeypatch.setenv("GEHOOR_RASA_PATCHES", setting)
    monkeypatch.setattr(bot.rasa_patches, "_active", None)
    monkeypatch.setattr(bot.rasa_patches.importlib, "import_module", no_patch_module)
    with caplog.at_level(logging.INFO, logger="bot.rasa_patches"):
        assert bot.rasa_patches.install() == []
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1 and logged in messages[0], messages
    assert bot.rasa_patches.active() == []


_CHILD = r"""
import json, sys
import bot.channels, bot.cli, bot.rasa_patches
rasa_before = sorted(m for m in sys.modules if m == "rasa" or m.startswith("rasa."))
import bot.rasa_patches.startup  # the channel Rasa builds; importing it must not install
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
patched = [f.__qualname__ for f in (Event.resolve_by_type, DialogueStateTracker.copy,
                                    DialogueStateTracker.applied_events) if getattr(f, "gehoor_patch", False)]
print("RESULT " + json.dumps({"rasa_before": rasa_before, "patched": patched}))
"""


def test_importing_the_package_patches_nothing():
    """Not an import side effect: importing bot.channels, bot.cli or the package loads no
    Rasa at all, and importing the start-up channel patches nothing until Rasa builds it."""
    done = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result == {"rasa_before": [], "patched": []}


def test_install_logs_one_line_naming_the_active_patches(monkeypatch, caplog):
    import logging

    monkeypatch.setattr(bot.rasa_patches, "_active", None)
    with caplog.at_level(logging.INFO, logger="bot.rasa_patches"):
        first = bot.rasa_patches.install(enabled=True)
        again = bot.rasa_patches.install(enabled=True)
    assert first == again == list(PATCHES)
    assert [record.getMessage() for record in caplog.records] == [
        f"Rasa patches active for Rasa 3.6.21 ({len(PATCHES)} of {len(PATCHES)}): {', '.join(PATCHES)}"]


def test_a_bad_switch_value_is_refused_with_its_name(monkeypatch):
    from bot import config

    monkeypatch.setenv("GEHOOR_RASA_PATCHES", "maybe")
    with pytest.raises(ValueError, match="GEHOOR_RASA_PATCHES must be on or off"):
        config.rasa_patches_enabled()
