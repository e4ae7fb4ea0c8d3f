"""Text catalogues: every bot text, per language, in catalogue/<lang>.yml.

``text(key, language, variant=0, **kwargs)`` picks a variant (modulo the number of
variants) and fills placeholders. ``{company}`` defaults to bot.config.company_name().
Set ``GEHOOR_CATALOGUE_DIR`` to use a company's own copy of the catalogue folder.
"""
from __future__ import annotations

import os
import string
import threading
from pathlib import Path

import yaml

from .nlp import LANGUAGES

DEFAULT_DIR = Path(__file__).resolve().parent / "catalogue"
REQUIRED_KEYS = (
    "opening", "opening_after_story", "ask_score", "ask_score_retry", "score_ambiguous",
    "why_ask", "stop", "handoff", "handoff_known_contact", "offer_follow_up", "ask_contact",
    "contact_invalid", "contact_thanks", "contact_not_saved", "no_contact_ok", "cannot_answer", "clarify", "calm",
    "dont_know_ok", "ask_correction", "close", "after_close", "fallback",
)

_lock = threading.Lock()
_cache: dict[tuple[str | None, str], dict] = {}


def catalogue_dir() -> Path:
    return Path(os.environ.get("GEHOOR_CATALOGUE_DIR") or DEFAULT_DIR)


def _lang(language: str | None) -> str:
    return language if language in LANGUAGES else "nl"


def load(language: str) -> dict:
    """The whole catalogue of one language (cached)."""
    lang = _lang(language)
    key = (os.environ.get("GEHOOR_CATALOGUE_DIR"), lang)  # raw setting: cheaper than a Path per lookup
    data = _cache.get(key)
    if data is None:
        with _lock:
            path = catalogue_dir() / f"{lang}.yml"
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
            _cache[key] = data
    return data


def reload() -> None:
    with _lock:
        _cache.clear()


def _lookup(key: str, language: str):
    node = load(language)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"catalogue {_lang(language)}.yml has no text {key!r}")
        node = node[part]
    return node


def variants(key: str, language: str) -> list[str]:
    """All variants of ``key`` (unformatted)."""
    node = _lookup(key, language)
    if isinstance(node, str):
        return [node]
    if isinstance(node, list) and node and all(isinstance(v, str) for v in node):
        return list(node)
    raise KeyError(f"catalogue text {key!r} is not a text or a list of texts")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, language: str, variant: int = 0, **kwargs) -> str:
    """Return variant ``variant`` (modulo the number of variants) of ``key``, filled in.

    Raises KeyError for an unknown key or a placeholder without a value.
    """
    options = variants(key, language)
    template = options[variant % len(options)]
    needed = placeholders(template)
    if "company" in needed and "company" not in kwargs:
        from bot.config import company_name

        kwargs["company"] = company_name()
    missing = needed - kwargs.keys()
    if missing:
        raise KeyError(f"catalogue text {key!r} needs {sorted(missing)}")
    out = template.format(**kwargs)
    if "  " in out:  # an empty placeholder ("{acknowledgement}") leaves a double space
        out = " ".join(out.split(" ")).replace("  ", " ")
        while "  " in out:
            out = out.replace("  ", " ")
    return out.strip()
