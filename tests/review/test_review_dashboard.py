"""Dashboard numbers are the SQL truth; every bar and aspect links to the matching inbox."""
from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from bot.store.models import Story, StoryAspect


def test_dashboard_numbers(client_for, factory):
    with factory() as s:
        scored = s.execute(select(func.count(Story.score))).scalar()
        pro = s.execute(select(func.count()).where(Story.score >= 9)).scalar()
        det = s.execute(select(func.count()).where(Story.score <= 6)).scalar()
        total = s.execute(select(func.count(Story.id))).scalar()
        waiting = s.execute(select(func.count()).where(
            Story.handoff_requested.is_(True), Story.follow_up_state.in_(("open", "contacted")))).scalar()
    nps = round(100 * (pro - det) / scored)
    html = client_for("viewer").get("/dashboard").data.decode().replace("\u2009", "")
    shown = re.search(r'class="kpi-value (?:pos|neg)">([^<]+)<', html).group(1)
    assert shown == (f"+{nps}" if nps > 0 else str(nps))
    assert f'<span class="kpi-value">{total}</span>' in html
    assert f'<span class="kpi-value">{waiting}</span>' in html
    assert f"{pro} promoters" in html and f"{det} detractors" in html


def test_distribution_bars_link_to_the_inbox(client_for, factory):
    c = client_for("viewer")
    html = c.get("/dashboard?language=nl").data.decode()
    links = [unescape(h) for h in re.findall(r'<a href="([^"]+)" class="bar-link"><title>Score', html)]
    assert len(links) == 11
    assert links[8] == "/inbox?language=nl&score=8"
    with factory() as s:
        n8 = s.execute(select(func.count()).where(Story.score == 8, Story.language == "nl")).scalar()
    page = c.get(links[8]).data.decode().replace("\u2009", "")
    assert f"{n8} stor" in page


def test_band_aspects_and_quotes(client_for, factory):
    html = client_for("viewer").get("/dashboard").data.decode()
    with factory() as s:
        top = s.execute(
            select(StoryAspect.aspect, func.count()).join(Story, Story.id == StoryAspect.story_id)
            .where(Story.score <= 6).group_by(StoryAspect.aspect).order_by(func.count().desc(), StoryAspect.aspect)
        ).first()
    href = f'/inbox?band=detractor&amp;aspect={top[0]}'
    assert href in html
    assert re.search(rf'{re.escape(href)}"><span class="ab-name">[^<]+</span>.*?<span class="ab-count">{top[1]}</span>', html, re.S)
    assert html.count('<figure class="quote">') >= 6  # two or three quotes per band
    assert 'class="card band band-detractor"' in html and 'class="card band band-promoter"' in html


def test_trend_per_month_and_week(client_for):
    c = client_for("viewer")
    month = c.get("/dashboard").data.decode()
    assert "NPS per month" in month
    assert len(re.findall(r'class="bar-link"><title>[^<]*(?:NPS|no scores)', month)) == 12
    week = c.get("/dashboard?per=week").data.decode()
    assert "NPS per week" in week
    assert len(re.findall(r'class="bar-link"><title>week of', week)) == 16
    # a bar opens the inbox for that period
    assert re.search(r'href="/inbox\?from=\d{4}-\d\d-\d\d&amp;to=\d{4}-\d\d-\d\d"', week)


def test_dashboard_filters_apply(client_for, factory):
    html = client_for("viewer").get("/dashboard?channel=telegram").data.decode().replace("\u2009", "")
    with factory() as s:
        n = s.execute(select(func.count()).where(Story.channel == "telegram")).scalar()
    assert f'<span class="kpi-value">{n}</span>' in html


def test_empty_store_dashboard(client_for):
    html = client_for("viewer").get("/dashboard?from=1990-01-01&to=1990-01-31").data.decode()
    assert "No scores in this period" in html and "—" in html


def test_trend_same_with_started_score_index(app, client_for):
    """With the recommended index on stories (started_at, score) the trend is read per bucket;
    the numbers must not change."""
    from sqlalchemy import text

    from bot.review import queries

    c = client_for("viewer")
    before = [re.findall(r'<title>([^<]+)</title>', c.get(u).data.decode()) for u in ("/dashboard", "/dashboard?per=week")]
    with app.extensions["gehoor_engine"].begin() as conn:
        conn.execute(text("CREATE INDEX ix_test_started_score ON stories (started_at, score)"))
    queries._INDEX_CHECK.clear()
    try:
        after = [re.findall(r'<title>([^<]+)</title>', c.get(u).data.decode()) for u in ("/dashboard", "/dashboard?per=week")]
        assert queries.has_started_score_index(app.extensions["gehoor_sessions"]())
    finally:
        queries._INDEX_CHECK.clear()
    assert before == after
