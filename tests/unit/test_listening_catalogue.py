"""Text catalogues: every key in both languages, placeholders, variants."""
import re

import pytest

from bot.listening import catalogue, text
from bot.listening.planner import FOLLOWUP_DIMENSIONS

ALL_KEYS = catalogue.REQUIRED_KEYS + (
    "ask_reason", "ask_reason_no_score", "score_out_of_range", "score_refused_ok",
    "summary_intro", "summary_score", "summary_check", "resummary_intro", "resummary_detail_intro",
    "resummary_detail",
    "intro", "intro_after_story",
) + tuple(f"q_{d}" for d in FOLLOWUP_DIMENSIONS)
VALUES = dict(company="Acme", score=4, reference="GH-7K3P", a=6, b=7, thing="je pakket",
              Thing="Je pakket", feeling="boos", quote="x", pos_thing="de app",
              neg_thing="de bezorger", Pos_thing="De app", text="iets", Text="Iets",
              acknowledgement="Je pakket dus.", correction="het was vier keer.")


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_key_exists_in_both_languages(lang, key):
    for i, _ in enumerate(catalogue.variants(key, lang)):
        out = text(key, lang, i, **VALUES)
        assert out and "{" not in out and "}" not in out


@pytest.mark.parametrize("key", ALL_KEYS)
def test_same_placeholders_in_both_languages(key):
    nl = set().union(*(catalogue.placeholders(v) for v in catalogue.variants(key, "nl")))
    en = set().union(*(catalogue.placeholders(v) for v in catalogue.variants(key, "en")))
    assert nl == en


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_opening_contents(lang):
    for i, _ in enumerate(catalogue.variants("opening", lang)):
        out = text("opening", lang, i, company="Acme").lower()
        assert "acme" in out and "bot" in out
        assert "0" in out and "10" in out and out.endswith("?")
        assert "2" in out and "3" in out  # takes 2-3 minutes
        assert ("stop" in out)  # can stop any time
        assert ("bewaard" in out) if lang == "nl" else ("stored" in out)
        assert ("gelezen" in out) if lang == "nl" else ("read by people" in out)


def test_dutch_is_informal():
    for key in ALL_KEYS:
        for v in catalogue.variants(key, "nl"):
            assert not re.search(r"\b(u|uw)\b", v), (key, v)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_close_has_reference(lang):
    assert "GH-7K3P" in text("close", lang, reference="GH-7K3P")


def test_variant_wraps_and_company_defaults(monkeypatch):
    monkeypatch.setenv("GEHOOR_COMPANY", "Bakkerij Jansen")
    n = len(catalogue.variants("opening", "nl"))
    assert text("opening", "nl", n) == text("opening", "nl", 0)
    assert "Bakkerij Jansen" in text("opening", "nl")


def test_missing_placeholder_and_key_raise():
    with pytest.raises(KeyError):
        text("close", "nl")
    with pytest.raises(KeyError):
        text("no_such_key", "en")


def test_unknown_language_falls_back_to_dutch():
    assert text("fallback", "fr") == text("fallback", "nl")


def test_catalogue_dir_override(tmp_path, monkeypatch):
    (tmp_path / "nl.yml").write_text("fallback: Huh?\n", encoding="utf-8")
    monkeypatch.setenv("GEHOOR_CATALOGUE_DIR", str(tmp_path))
    assert text("fallback", "nl") == "Huh?"
    monkeypatch.delenv("GEHOOR_CATALOGUE_DIR")
    assert text("fallback", "nl") != "Huh?"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_intro_after_story_with_empty_acknowledgement(lang):
    for i, _ in enumerate(catalogue.variants("intro_after_story", lang)):
        out = text("intro_after_story", lang, i, company="Acme", acknowledgement="")
        assert "  " not in out
        assert "Acme" in out and "bot" in out
