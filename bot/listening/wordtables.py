"""The planner's word tables: plain YAML next to signals.yml, read once per process.

- ``planning.yml``      which perspective to ask next, and cues to re-file an answer
- ``shifting.yml``      pronoun and verb shifting ("ik vertrouw" -> "je vertrouwt")
- ``wording.yml``       how reflections and summaries are built (subjects, determiners, fillers)
- ``confirmation.yml``  yes / no / correction in a reply to the summary
- ``reflection.yml``    which part of a message weighs, and how to say its core

``GEHOOR_WORDTABLES_DIR`` points at a company's own copy of these files. Word lists may be
written as one string of words separated by spaces, or as a YAML list; a YAML boolean
(an unquoted yes/no/on/off) is refused at load time, so "no" never becomes ``False``.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
NAMES = ("planning", "shifting", "wording", "confirmation", "reflection")

_lock = threading.Lock()
_cache: dict[tuple[str | None, str], dict] = {}


def tables_dir() -> Path:
    return Path(os.environ.get("GEHOOR_WORDTABLES_DIR") or HERE)


def _check(node: Any, where: str) -> None:
    if isinstance(node, bool):
        raise ValueError(f"{where}: a YAML boolean; quote words like \"no\", \"yes\", \"on\", \"off\"")
    if isinstance(node, dict):
        for key, value in node.items():
            _check(key, where)
            _check(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check(value, f"{where}[{i}]")


def table(name: str) -> dict:
    """The whole table ``<name>.yml`` (cached)."""
    key = (os.environ.get("GEHOOR_WORDTABLES_DIR"), name)
    data = _cache.get(key)
    if data is None:
        with _lock:
            path = tables_dir() / f"{name}.yml"
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
            _check(data, path.name)
            _cache[key] = data
    return data


def get(name: str, *path: str) -> Any:
    node: Any = table(name)
    for part in path:
        try:
            node = node[part]
        except (KeyError, TypeError):
            raise KeyError(f"{name}.yml has no {'.'.join(path)}") from None
    return node


_derived: dict[tuple, Any] = {}


def word_list(name: str, *path: str) -> tuple[str, ...]:
    """A word or phrase list in file order: "a b c" or [a, b, "c d"] (cached)."""
    key = (os.environ.get("GEHOOR_WORDTABLES_DIR"), name, path, "list")
    found = _derived.get(key)
    if found is None:
        node = get(name, *path)
        found = tuple(node.split() if isinstance(node, str) else [str(i) for i in node])
        _derived[key] = found
    return found


def words(name: str, *path: str) -> frozenset[str]:
    """A word list as a set (cached)."""
    key = (os.environ.get("GEHOOR_WORDTABLES_DIR"), name, path, "set")
    found = _derived.get(key)
    if found is None:
        found = frozenset(word_list(name, *path))
        _derived[key] = found
    return found


def reload() -> None:
    with _lock:
        _cache.clear()
        _derived.clear()
