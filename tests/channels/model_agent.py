"""The trained Rasa model (newest in models/) loaded once per test process, for the tests that
need Rasa's real processor (store outages, session windows). Skips when no model is trained."""
from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def _load(model: str):
    from rasa.core.agent import load_agent

    return asyncio.run(load_agent(model_path=model))


def loaded_agent():
    models = sorted((ROOT / "models").glob("*.tar.gz"))
    if not models:
        pytest.skip("no trained model in models/ (run `gehoor train`)")
    return _load(str(models[-1]))
