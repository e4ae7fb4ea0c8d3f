"""Story page: header, transcript highlighting, staff workflow (tags, notes, status, assignee,
follow-up), mark-as-read, redaction for viewers, and the audit trail of all of it."""
from __future__ import annotations

from sqlalchemy import select

from bot.store.models import AuditEntry, Note, Story
from review_helpers import USERS


def audit_rows(factory, **where):
    with factory() as s:
        q = select(AuditEntry).order_by(AuditEntry.id)
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        return s.execute(q).scalars().all()


def test_story_page_shows_the_whole_story(client_for, ids):
    html = client_for("reviewer").get(f"/stories/{ids['pii']}").data.decode()
    assert "GH-PII0-0002" in html
    assert "Summary confirmed by the customer" in html and "You loved the zeppelinhangar tour." in html
    assert "product quality" in html and "positive" in html and "gratitude" in html
    assert "+31612345678" in html and "Agreed to be contacted" in html
    assert 'class="msg msg-customer"' in html and 'class="msg msg-bot"' in html
    assert "<time" in html


def test_correction_is_marked_as_the_customers_version(client_for, ids):
    html = client_for("reviewer").get(f"/stories/{ids['xss']}").data.decode()
    assert "Customer&#39;s correction" in html or "Customer's correction" in html
    assert "the authoritative version" in html
    assert "The bot&#39;s summary was" in html or "The bot's summary was" in html


def test_customer_words_are_highlighted_safely(client_for, ids):
    html = client_for("reviewer").get(f"/stories/{ids['xss']}").data.decode()
    # "pakket" is an aspect word (delivery) in the listening lexicon; the markup around it is ours
    assert '<mark class="hl-aspect" title="aspect: delivery">pakket</mark>' in html
    assert "&lt;script&gt;" in html


def test_opening_a_new_story_marks_it_read_for_reviewers(client_for, factory, ids):
    client_for("viewer").get(f"/stories/{ids['plain']}")
    with factory() as s:
        assert s.get(Story, ids["plain"]).review_status == "new"  # viewers do not triage
    client_for("reviewer").get(f"/stories/{ids['plain']}")
    with factory() as s:
        assert s.get(Story, ids["plain"]).review_status == "read"
    views = audit_rows(factory, action="view", target=f"story:{ids['plain']}")
    assert [v.actor for v in views] == [USERS["viewer"], USERS["reviewer"]]
    assert views[0].detail["redacted"] is True and views[1].detail["redacted"] is False
    change = audit_rows(factory, action="change", target=f"story:{ids['plain']}")
    assert change[-1].detail == {"field": "review_status", "old": "new", "new": "read", "auto": True}


def test_viewer_sees_personal_data_redacted(client_for, ids):
    html = client_for("viewer").get(f"/stories/{ids['pii']}").data.decode()
    assert "+31612345678" not in html and "piet.jansen@example.org" not in html and "06-12345678" not in html
    assert "[phone]" in html and "[e-mail]" in html
    xss = client_for("viewer").get(f"/stories/{ids['xss']}").data.decode()
    assert "xss.klant@example.com" not in xss and "A12345" not in xss
    assert "[redacted]" in xss or "[e-mail]" in xss
    # reviewers see it all
    full = client_for("reviewer").get(f"/stories/{ids['pii']}").data.decode()
    assert "piet.jansen@example.org" in full and "+31612345678" in full


def test_viewer_has_no_forms(client_for, ids):
    html = client_for("viewer").get(f"/stories/{ids['plain']}").data.decode()
    for action in ("/tags", "/notes", "/review", "/assign", "/follow-up", "/erase"):
        assert f'/stories/{ids["plain"]}{action}"' not in html


def test_tags_add_remove_and_suggestions(client_for, factory, ids):
    c = client_for("reviewer")
    sid = ids["plain"]
    assert c.post(f"/stories/{sid}/tags", data={"tag": "  App   Bug "}).status_code == 302
    assert c.post(f"/stories/{sid}/tags", data={"tag": "app bug"}).status_code == 302  # no duplicate
    assert c.post(f"/stories/{sid}/tags", data={"tag": "<script>"}).status_code == 302  # refused
    with factory() as s:
        assert [t.tag for t in s.get(Story, sid).tags] == ["app bug"]
    html = c.get(f"/stories/{sid}").data.decode()
    assert '<datalist id="tag-suggestions">' in html and '<option value="urgent">' in html
    assert '<a href="/inbox?tag=app+bug">app bug</a>' in html
    assert c.post(f"/stories/{sid}/tags", data={"tag": "app bug", "op": "remove"}).status_code == 302
    with factory() as s:
        assert s.get(Story, sid).tags == []
    changes = [a.detail for a in audit_rows(factory, action="change", target=f"story:{sid}")]
    assert {"field": "tag", "added": "app bug"} in changes and {"field": "tag", "removed": "app bug"} in changes


def test_notes_with_author_and_time(client_for, factory, ids):
    c = client_for("reviewer")
    sid = ids["plain"]
    assert c.post(f"/stories/{sid}/notes", data={"text": "Belde klant <b>terug</b>"}).status_code == 302
    assert c.post(f"/stories/{sid}/notes", data={"text": "   "}).status_code == 302
    with factory() as s:
        notes = s.execute(select(Note).where(Note.story_id == sid)).scalars().all()
        assert [(n.author, n.text) for n in notes] == [(USERS["reviewer"], "Belde klant <b>terug</b>")]
    html = c.get(f"/stories/{sid}").data.decode()
    assert "Belde klant &lt;b&gt;terug&lt;/b&gt;" in html and USERS["reviewer"] in html


def test_review_status_assignee_and_follow_up(client_for, factory, ids):
    c = client_for("reviewer")
    sid = ids["xss"]
    assert c.post(f"/stories/{sid}/review", data={"review_status": "in_follow_up"}).status_code == 302
    assert c.post(f"/stories/{sid}/review", data={"review_status": "bogus"}).status_code == 400
    assert c.post(f"/stories/{sid}/assign", data={"assignee": "me"}).status_code == 302
    with factory() as s:
        st = s.get(Story, sid)
        assert st.review_status == "in_follow_up" and st.assignee == USERS["reviewer"]
    # only active reviewers/admins can be assignees
    c.post(f"/stories/{sid}/assign", data={"assignee": USERS["viewer"]})
    c.post(f"/stories/{sid}/assign", data={"assignee": "stranger@evil.example"})
    with factory() as s:
        assert s.get(Story, sid).assignee == USERS["reviewer"]
    assert c.post(f"/stories/{sid}/follow-up", data={"note": ""}).status_code == 302
    with factory() as s:
        assert s.get(Story, sid).follow_up_state == "none"
    c.post(f"/stories/{sid}/follow-up", data={"note": "Klant gebeld, pakket opnieuw verstuurd"})
    with factory() as s:
        st = s.get(Story, sid)
        assert st.follow_up_state == "resolved" and st.followed_up_at is not None
        assert st.follow_up_note == "Klant gebeld, pakket opnieuw verstuurd"
        assert any(n.text.startswith("Resolved: Klant gebeld") for n in st.notes)
    html = c.get(f"/stories/{sid}").data.decode()
    assert "Resolved" in html and "Klant gebeld, pakket opnieuw verstuurd" in html
    c.post(f"/stories/{sid}/assign", data={"assignee": ""})
    with factory() as s:
        assert s.get(Story, sid).assignee is None
    fields = [a.detail["field"] for a in audit_rows(factory, action="change", target=f"story:{sid}")]
    assert fields.count("assignee") == 2 and "review_status" in fields and "follow_up" in fields


def test_missing_story_is_404(client_for):
    assert client_for("reviewer").get("/stories/424242").status_code == 404
    assert client_for("reviewer").post("/stories/424242/notes", data={"text": "x"}).status_code == 404
