"""The review app on PostgreSQL: inbox filters, full-text search (tsvector), keyset pagination,
dashboard (date_trunc buckets) and export. One module-wide schema, seeded once.

Skipped with the reason when PostgreSQL is unreachable (127.0.0.1:5432, database `test`, or
GEHOOR_TEST_PG_URL), unless CI is set: then it fails.
"""
from __future__ import annotations

import json
import os
import re

import pytest
from sqlalchemy import func, select

from bot.review import accounts
from bot.store.db import make_engine, migrate, session_factory
from bot.store.models import Story, StoryAspect
from bot.store.seed import seed
from review_helpers import PASSWORD, USERS, login, story_ids

pytestmark = pytest.mark.postgres
from services import pg_schema_url  # noqa: E402  (tests/services.py)


@pytest.fixture(scope="module")
def pg_url():
    with pg_schema_url("gehoor_review") as url:
        engine = make_engine(url)
        migrate(engine)
        factory = session_factory(engine)
        seed(300, factory, seed=5)
        with factory() as s:
            for role, email in USERS.items():
                accounts.add_staff(s, email, role, PASSWORD, actor="test")
            s.commit()
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def pg_app(pg_url, tmp_path_factory):
    from bot.review.app import create_app

    old = os.environ.get("GEHOOR_VAR_DIR")
    os.environ["GEHOOR_VAR_DIR"] = str(tmp_path_factory.mktemp("pgvar"))
    try:
        app = create_app(pg_url, testing=True)
        yield app
        app.extensions["gehoor_engine"].dispose()
    finally:
        if old is None:
            os.environ.pop("GEHOOR_VAR_DIR", None)
        else:
            os.environ["GEHOOR_VAR_DIR"] = old


@pytest.fixture(scope="module")
def pg(pg_app):
    c = pg_app.test_client()
    assert login(c, "reviewer").status_code == 302
    return c


@pytest.fixture(scope="module")
def pg_factory(pg_app):
    return pg_app.extensions["gehoor_sessions"]


def walk(client, query):
    out, url = [], f"/inbox?{query}"
    while url:
        html = client.get(url).data.decode()
        out += story_ids(html)
        m = re.search(r'href="(/inbox\?[^"]*before=[^"]+)" rel="next"', html)
        url = m.group(1).replace("&amp;", "&") if m else None
    return out


def test_pg_filters_and_pagination(pg, pg_factory):
    with pg_factory() as s:
        want = list(s.execute(
            select(Story.id).where(Story.score <= 6, Story.id.in_(
                select(StoryAspect.story_id).where(StoryAspect.aspect == "delivery")))
            .order_by(Story.started_at.desc(), Story.id.desc())).scalars())
        everything = list(s.execute(select(Story.id).order_by(Story.started_at.desc(), Story.id.desc())).scalars())
    assert want
    assert walk(pg, "band=detractor&aspect=delivery") == want
    assert walk(pg, "") == everything


def test_pg_search(pg, pg_factory):
    with pg_factory() as s:
        want = set(s.execute(select(Story.id).where(Story.customer_text.ilike("%bezorger%"))).scalars())
    assert want and set(walk(pg, "q=bezorger")) == want
    assert pg.get("/inbox?q=%27%3B+drop").status_code == 200


def test_pg_dashboard(pg, pg_factory):
    for url in ("/dashboard", "/dashboard?per=week", "/dashboard?language=en"):
        r = pg.get(url)
        assert r.status_code == 200, url
    html = pg.get("/dashboard").data.decode()
    with pg_factory() as s:
        total = s.execute(select(func.count(Story.id))).scalar()
    assert f'<span class="kpi-value">{total}</span>' in html.replace("\u2009", "")
    bars = re.findall(r'class="bar-link"><title>([^<]+)</title>', html)
    assert any("NPS" in b for b in bars)


def test_pg_story_and_export(pg, pg_factory):
    with pg_factory() as s:
        sid = s.execute(select(Story.id).where(Story.contact.isnot(None)).limit(1)).scalar()
    assert pg.get(f"/stories/{sid}").status_code == 200
    assert pg.post(f"/stories/{sid}/tags", data={"tag": "pg-tag"}).status_code == 302
    lines = pg.get("/export?format=jsonl&tag=pg-tag").data.decode().splitlines()
    assert [json.loads(x)["id"] for x in lines] == [sid]
