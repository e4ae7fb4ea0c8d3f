"""Production-profile suites (`make test-prod`, or `pytest tests/prod -m prod`).

`prod_stack` starts `gehoor run-prod --only-bot` (nginx, 2 Rasa servers, 2 action servers) on
free ports with a private PostgreSQL database, Redis key prefix and RabbitMQ queue/exchange,
all removed afterwards. Needs PostgreSQL (127.0.0.1:5432, trust; GEHOOR_TEST_PG_ADMIN_URL),
Redis (6379), RabbitMQ (5672, guest/guest) and nginx: without them every test here is
skipped with the reason — unless the environment variable CI is set, then they fail.
Longer versions: GEHOOR_SOAK=1 (more customers), bench/bench_load.py (the benchmark).
"""
from __future__ import annotations

import os

import pytest

from bot.ops.loadgen import ProdStack
from services import require_prod_services  # (tests/services.py)


def pytest_configure(config):
    config.addinivalue_line("markers", "prod: production profile (PostgreSQL, Redis, RabbitMQ, nginx)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/prod/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.prod)


@pytest.fixture(scope="session")
def prod_stack(tmp_path_factory):
    require_prod_services()
    stack = ProdStack.start(tmp_path_factory.mktemp("prod"), name="t")
    try:
        yield stack
    finally:
        stack.stop()
        stack.drop_resources()
