"""The follow-up workflow in the review app: transitions on the story page, who may change
what, "my follow-ups" (overdue first), bulk assign / resolve with CSRF and audit, and the
dashboard's open / overdue / median time to first contact per week."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.store.models import AuditEntry, Message, Story, utcnow
from review_helpers import PASSWORD, USERS, csrf_token

ME, OTHER = USERS["reviewer"], USERS["admin"]


def add_story(factory, ref, *, state="open", due_in_hours=24.0, assignee=None, opened_hours_ago=1.0,
              contacted_after_hours=None, score=3, handoff=True):
    now = utcnow()
    opened = now - timedelta(hours=opened_hours_ago)
    with factory() as s:
        st = Story(
            reference=ref, conversation_id=f"conv-{ref}", session_started_at=opened, started_at=opened,
            updated_at=opened, channel="rest", language="nl", status="handed_off" if handoff else "complete",
            score=score, answers={"reason": f"verhaal {ref}"}, customer_text=f"verhaal {ref}",
            handoff_requested=handoff, consent_to_contact=True, review_status="read", assignee=assignee,
            follow_up_state=state, follow_up_opened_at=None if state == "none" else opened,
            follow_up_due_at=None if state == "none" else now + timedelta(hours=due_in_hours),
            first_contact_at=None if contacted_after_hours is None else opened + timedelta(hours=contacted_after_hours),
        )
        s.add(st)
        s.flush()
        s.add(Message(story_id=st.id, seq=0, role="customer", text=f"verhaal {ref}", at=opened))
        s.commit()
        return st.id


def state(factory, sid):
    with factory() as s:
        st = s.get(Story, sid)
        return st.follow_up_state, st.assignee


def follow_up_audits(factory, sid):
    with factory() as s:
        return [(a.actor, a.detail.get("old"), a.detail.get("new")) for a in s.execute(
            select(AuditEntry).where(AuditEntry.target == f"story:{sid}", AuditEntry.action == "change")
            .order_by(AuditEntry.id)).scalars() if a.detail.get("field") == "follow_up"]


# ---------------------------------------------------------------------------- story page
def test_transitions_on_the_story_page_are_audited(client_for, factory):
    sid = add_story(factory, "GH-FU00-0001", assignee=ME)
    c = client_for("reviewer")
    html = c.get(f"/stories/{sid}").data.decode()
    for label in ("Mark contacted", "Resolve", "Could not reach"):
        assert f">{label}</button>" in html
    assert c.post(f"/stories/{sid}/follow-up", data={"op": "contacted"}).status_code == 302
    with factory() as s:
        st = s.get(Story, sid)
        assert st.follow_up_state == "contacted" and st.first_contact_at is not None
    # resolving needs a note; nothing changes without one
    c.post(f"/stories/{sid}/follow-up", data={"op": "resolved", "note": "  "})
    assert state(factory, sid)[0] == "contacted"
    c.post(f"/stories/{sid}/follow-up", data={"op": "resolved", "note": "Pakket opnieuw verstuurd"})
    with factory() as s:
        st = s.get(Story, sid)
        assert st.follow_up_state == "resolved" and st.followed_up_at is not None
        assert st.follow_up_note == "Pakket opnieuw verstuurd"
    # a move the workflow does not allow is refused with a message, state unchanged
    r = c.post(f"/stories/{sid}/follow-up", data={"op": "contacted"}, follow_redirects=True)
    assert "cannot become contacted" in r.data.decode()
    assert state(factory, sid)[0] == "resolved"
    assert c.post(f"/stories/{sid}/follow-up", data={"op": "bogus"}).status_code == 400
    c.post(f"/stories/{sid}/follow-up", data={"op": "open"})  # reopen
    assert state(factory, sid)[0] == "open"
    assert follow_up_audits(factory, sid) == [
        (ME, "open", "contacted"), (ME, "contacted", "resolved"), (ME, "resolved", "open")]


def test_story_page_shows_state_owner_and_overdue_due_time(client_for, factory):
    late = add_story(factory, "GH-FU00-0002", due_in_hours=-3, assignee=OTHER)
    on_time = add_story(factory, "GH-FU00-0003", due_in_hours=20, assignee=None)
    html = client_for("viewer").get(f"/stories/{late}").data.decode()
    fact = re.search(r"<dt>Follow-up</dt>\s*<dd([^>]*)>(.*?)</dd>", html, re.S)
    assert 'class="overdue"' in fact.group(1)
    assert "Open" in fact.group(2) and "Due" in fact.group(2) and "Overdue" in fact.group(2)
    assert f"owner {OTHER}" in fact.group(2)
    html = client_for("viewer").get(f"/stories/{on_time}").data.decode()
    fact = re.search(r"<dt>Follow-up</dt>\s*<dd([^>]*)>(.*?)</dd>", html, re.S)
    assert "overdue" not in fact.group(1) and "Overdue" not in fact.group(2) and "no owner yet" in fact.group(2)


def test_viewers_cannot_change_follow_ups_reviewers_can(client_for, factory):
    sid = add_story(factory, "GH-FU00-0004", assignee=ME)
    anonymous = client_for(None)
    assert anonymous.get("/follow-ups").status_code == 302
    assert anonymous.post("/follow-ups/bulk", data={"op": "resolve", "ids": [sid], "note": "x"}).status_code in (302, 401)
    viewer = client_for("viewer")
    html = viewer.get(f"/stories/{sid}").data.decode()
    assert "Mark contacted</button>" not in html
    assert viewer.post(f"/stories/{sid}/follow-up", data={"op": "contacted"}).status_code == 403
    assert viewer.post("/follow-ups/bulk", data={"op": "resolve", "ids": [sid], "note": "x"}).status_code == 403
    assert viewer.post("/follow-ups/bulk", data={"op": "assign", "ids": [sid], "assignee": "me"}).status_code == 403
    assert state(factory, sid) == ("open", ME)
    assert 'name="ids"' not in viewer.get("/follow-ups?who=all").data.decode()
    assert client_for("reviewer").post(f"/stories/{sid}/follow-up", data={"op": "contacted"}).status_code == 302
    assert state(factory, sid)[0] == "contacted"


# ---------------------------------------------------------------------------- my follow-ups
def row_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="fu-row[^"]*" data-id="(\d+)"', html)]


def test_my_follow_ups_lists_mine_open_overdue_first(client_for, factory):
    soon = add_story(factory, "GH-FU10-0001", due_in_hours=2, assignee=ME)
    very_late = add_story(factory, "GH-FU10-0002", due_in_hours=-30, assignee=ME)
    late = add_story(factory, "GH-FU10-0003", state="contacted", due_in_hours=-1, assignee=ME, contacted_after_hours=0.5)
    later = add_story(factory, "GH-FU10-0004", due_in_hours=60, assignee=ME)
    done = add_story(factory, "GH-FU10-0005", state="resolved", due_in_hours=-5, assignee=ME)
    others = add_story(factory, "GH-FU10-0006", due_in_hours=-40, assignee=OTHER)
    with factory() as s:  # seeded follow-ups are owned by other (fictional) staff
        assert s.execute(select(func.count()).where(Story.assignee == ME)).scalar() == 5
    html = client_for("reviewer").get("/follow-ups").data.decode()
    assert row_ids(html) == [very_late, late, soon, later]
    assert done not in row_ids(html) and others not in row_ids(html)
    assert re.search(r"4 open · <span[^>]*>2 overdue", html)
    assert html.count('class="fu-row is-overdue"') == 2
    inbox = client_for("reviewer").get("/inbox").data.decode()
    assert re.search(r'id="my-follow-ups">My follow-ups: 4 \(2 overdue\)</a>', inbox)
    everybody = row_ids(client_for("reviewer").get("/follow-ups?who=all").data.decode())
    assert everybody.index(others) < everybody.index(very_late) and done not in everybody
    with factory() as s:
        n_open = s.execute(select(func.count()).where(Story.follow_up_state.in_(("open", "contacted")))).scalar()
    assert len(everybody) == min(n_open, 200)


# ---------------------------------------------------------------------------- bulk actions
def test_bulk_assign_and_resolve_audit_each_story(client_for, factory):
    a = add_story(factory, "GH-FU20-0001", assignee=None)
    b = add_story(factory, "GH-FU20-0002", assignee=OTHER)
    closed = add_story(factory, "GH-FU20-0003", state="resolved", assignee=OTHER)
    c = client_for("reviewer")
    r = c.post("/follow-ups/bulk", data={"op": "assign", "ids": [a, b], "assignee": "me"}, follow_redirects=True)
    assert "Assigned 2 follow-ups" in r.data.decode()
    assert state(factory, a) == ("open", ME) and state(factory, b) == ("open", ME)
    # only active reviewers/admins can own follow-ups
    c.post("/follow-ups/bulk", data={"op": "assign", "ids": [a], "assignee": USERS["viewer"]})
    assert state(factory, a) == ("open", ME)
    # resolving needs a note: nothing changes without one
    c.post("/follow-ups/bulk", data={"op": "resolve", "ids": [a, b]})
    assert state(factory, a)[0] == "open" and state(factory, b)[0] == "open"
    r = c.post("/follow-ups/bulk", data={"op": "resolve", "ids": [a, b, closed], "note": "Allemaal gebeld"},
               follow_redirects=True)
    page = r.data.decode()
    assert "Resolved 2 follow-ups" in page and "GH-FU20-0003" in page  # the closed one is named as not changed
    assert state(factory, a)[0] == "resolved" and state(factory, b)[0] == "resolved"
    with factory() as s:
        assigned = s.execute(select(AuditEntry).where(AuditEntry.target.in_((f"story:{a}", f"story:{b}")))).scalars().all()
        fields = sorted((e.target, e.detail["field"], e.detail.get("new")) for e in assigned)
        assert all(e.detail.get("bulk") is True and e.actor == ME for e in assigned)
    assert fields == sorted([(f"story:{a}", "assignee", ME), (f"story:{b}", "assignee", ME),
                             (f"story:{a}", "follow_up", "resolved"), (f"story:{b}", "follow_up", "resolved")])
    assert follow_up_audits(factory, closed) == []


def test_bulk_without_selection_or_with_bad_op_changes_nothing(client_for, factory):
    a = add_story(factory, "GH-FU20-0004", assignee=None)
    c = client_for("reviewer")
    r = c.post("/follow-ups/bulk", data={"op": "assign", "assignee": "me"}, follow_redirects=True)
    assert "Tick at least one follow-up" in r.data.decode()
    c.post("/follow-ups/bulk", data={"op": "delete", "ids": [a]})
    c.post("/follow-ups/bulk", data={"op": "assign", "ids": ["x; drop table"], "assignee": "me"})
    assert state(factory, a) == ("open", None)


def test_bulk_form_needs_the_csrf_token(app, factory):
    app.config["WTF_CSRF_ENABLED"] = True
    a = add_story(factory, "GH-FU20-0005", assignee=ME)
    c = app.test_client()
    token = csrf_token(c.get("/login").data.decode())
    assert c.post("/login", data={"email": ME, "password": PASSWORD, "csrf_token": token}).status_code == 302
    r = c.post("/follow-ups/bulk", data={"op": "resolve", "ids": [a], "note": "x"})
    assert r.status_code == 400
    r = c.post(f"/stories/{a}/follow-up", data={"op": "contacted"})
    assert r.status_code == 400
    assert state(factory, a)[0] == "open"
    page = c.get("/follow-ups").data.decode()
    token = csrf_token(page)
    assert c.post("/follow-ups/bulk", data={"op": "resolve", "ids": [a], "note": "x", "csrf_token": token}).status_code == 302
    assert state(factory, a)[0] == "resolved"


# ---------------------------------------------------------------------------- dashboard
def week_row(html: str, monday) -> list[str]:
    m = re.search(rf'<tr data-week="{monday.isoformat()}">(.*?)</tr>', html, re.S)
    assert m, f"no row for the week of {monday}"
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", m.group(1), re.S)]


@pytest.fixture
def empty_store_app(var_dir, tmp_path):
    """The review app on a store with only the stories a test adds (known answers)."""
    from bot.review import accounts
    from bot.review.app import create_app
    from bot.store.db import make_engine, migrate, session_factory

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as s:
        accounts.add_staff(s, USERS["viewer"], "viewer", PASSWORD, actor="test")
        s.commit()
    engine.dispose()
    app = create_app(url, testing=True)
    yield app
    app.extensions["gehoor_engine"].dispose()


def test_dashboard_follow_up_numbers_per_week(empty_store_app):
    factory = empty_store_app.extensions["gehoor_sessions"]
    now = utcnow()
    this_monday = now.date() - timedelta(days=now.weekday())
    # opened in the middle of last week (Thursday noon); hours are relative to `now`
    last_thursday_noon = datetime.combine(this_monday, time(12)) - timedelta(days=4)
    last_week_hours = (now - last_thursday_noon).total_seconds() / 3600
    add_story(factory, "GH-DW00-0001", state="resolved", opened_hours_ago=last_week_hours, contacted_after_hours=2)
    add_story(factory, "GH-DW00-0002", state="contacted", opened_hours_ago=last_week_hours, contacted_after_hours=10,
              due_in_hours=-100)
    add_story(factory, "GH-DW00-0003", state="resolved", opened_hours_ago=last_week_hours, contacted_after_hours=4)
    add_story(factory, "GH-DW00-0004", state="open", opened_hours_ago=last_week_hours, due_in_hours=-50)
    add_story(factory, "GH-DW00-0005", state="could_not_reach", opened_hours_ago=last_week_hours)
    # opened this week, moments ago: one open on time, one contacted at once
    moments = min(0.05, (now - datetime.combine(this_monday, time())).total_seconds() / 7200)
    add_story(factory, "GH-DW00-0006", state="open", opened_hours_ago=moments, due_in_hours=24)
    add_story(factory, "GH-DW00-0007", state="contacted", opened_hours_ago=moments, due_in_hours=24,
              contacted_after_hours=0.0)
    c = empty_store_app.test_client()
    assert c.post("/login", data={"email": USERS["viewer"], "password": PASSWORD}).status_code == 302
    html = c.get("/dashboard").data.decode().replace("\u2009", "")
    assert re.search(r'class="fu-open-n">4<', html), "open now: 0002, 0004, 0006, 0007"
    assert re.search(r'class="fu-overdue-n">2<', html), "overdue now: 0002, 0004"
    # opened, still open, overdue, median first contact of (2, 4, 10) hours over n = 3
    assert week_row(html, this_monday - timedelta(weeks=1))[1:] == ["5", "2", "2", "4.0 h (n = 3)"]
    assert week_row(html, this_monday)[1:] == ["2", "2", "0", "0.0 h (n = 1)"]
    assert week_row(html, this_monday - timedelta(weeks=2))[1:] == ["0", "0", "0", "— (n = 0)"]


def test_dashboard_open_and_overdue_match_the_seeded_store(client_for, factory):
    now = utcnow()
    with factory() as s:
        n_open = s.execute(select(func.count()).where(Story.follow_up_state.in_(("open", "contacted")))).scalar()
        n_overdue = s.execute(select(func.count()).where(
            Story.follow_up_state.in_(("open", "contacted")), Story.follow_up_due_at < now)).scalar()
    assert n_open > 0 and n_overdue > 0, "the seed has open and overdue follow-ups"
    html = client_for("viewer").get("/dashboard").data.decode().replace("\u2009", "")
    assert re.search(rf'class="fu-open-n">{n_open}<', html)
    assert re.search(rf'class="fu-overdue-n">{n_overdue}<', html)


# ---------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
def test_follow_ups_on_postgresql(var_dir):
    """The same queries on PostgreSQL (NULLS ordering, boolean casts, the migration's data step)."""
    from services import pg_schema_url

    from bot.review import accounts
    from bot.review.app import create_app
    from bot.store.db import make_engine, migrate, session_factory
    from bot.store.seed import seed

    with pg_schema_url("gehoor_review_fu") as url:
        engine = make_engine(url)
        migrate(engine)
        seed(200, session_factory(engine), seed=3)
        with session_factory(engine)() as s:
            accounts.add_staff(s, ME, "reviewer", PASSWORD, actor="test")
            s.commit()
        engine.dispose()
        app = create_app(url, testing=True)
        try:
            factory = app.extensions["gehoor_sessions"]
            late = add_story(factory, "GH-PG00-0001", due_in_hours=-5, assignee=ME)
            soon = add_story(factory, "GH-PG00-0002", due_in_hours=5, assignee=ME)
            c = app.test_client()
            assert c.post("/login", data={"email": ME, "password": PASSWORD}).status_code == 302
            assert row_ids(c.get("/follow-ups").data.decode()) == [late, soon]
            now = utcnow()
            with factory() as s:
                n_open = s.execute(select(func.count()).where(Story.follow_up_state.in_(("open", "contacted")))).scalar()
                n_overdue = s.execute(select(func.count()).where(
                    Story.follow_up_state.in_(("open", "contacted")), Story.follow_up_due_at < now)).scalar()
            html = c.get("/dashboard").data.decode().replace("\u2009", "")
            assert re.search(rf'class="fu-open-n">{n_open}<', html)
            assert re.search(rf'class="fu-overdue-n">{n_overdue}<', html)
            assert f"{n_overdue} stor" in c.get("/inbox?followup=overdue").data.decode().replace("\u2009", "")
            c.post("/follow-ups/bulk", data={"op": "resolve", "ids": [late, soon], "note": "gebeld"})
            assert state(factory, late)[0] == "resolved" and state(factory, soon)[0] == "resolved"
        finally:
            app.extensions["gehoor_engine"].dispose()
