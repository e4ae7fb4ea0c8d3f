"""The planner's word tables (planning/shifting/wording/confirmation.yml)."""
import pytest

from bot.listening import wordtables
from bot.listening.wordtables import NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_table_loads_without_yaml_booleans(name):
    assert wordtables.table(name)  # _check refuses a yes/no read as True/False


def test_an_unquoted_no_is_refused(tmp_path, monkeypatch):
    (tmp_path / "confirmation.yml").write_text("no: [nee]\n", encoding="utf-8")
    monkeypatch.setenv("GEHOOR_WORDTABLES_DIR", str(tmp_path))
    try:
        with pytest.raises(ValueError, match="boolean"):
            wordtables.table("confirmation")
    finally:
        monkeypatch.delenv("GEHOOR_WORDTABLES_DIR")
        wordtables.reload()


def test_word_lists_read_as_strings_or_lists():
    assert "ben" in wordtables.get("shifting", "nl", "verb_after_ik")
    assert "omdat" in wordtables.words("shifting", "nl", "subordinators")
    assert "ja hoor" in wordtables.words("confirmation", "yes")
    assert wordtables.word_list("planning", "order", "passive")[0]


def test_a_company_copy_replaces_a_table(tmp_path, monkeypatch):
    (tmp_path / "planning.yml").write_text(
        "order:\n  detractor: [impact]\n  passive: [impact]\n  promoter: [impact]\n", encoding="utf-8")
    monkeypatch.setenv("GEHOOR_WORDTABLES_DIR", str(tmp_path))
    try:
        assert wordtables.word_list("planning", "order", "detractor") == ("impact",)
    finally:
        monkeypatch.delenv("GEHOOR_WORDTABLES_DIR")
        wordtables.reload()
