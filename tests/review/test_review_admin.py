"""Admin pages: staff management, the audit log, erasure of a story and of a customer."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.store.models import AuditEntry, StaffUser, Story
from review_helpers import USERS, login


def test_staff_page_add_with_generated_password(client_for, app, factory):
    c = client_for("admin")
    html = c.get("/staff").data.decode()
    for email in USERS.values():
        assert email in html
    r = c.post("/staff", data={"op": "add", "email": "Nina@Acme.example", "role": "reviewer", "password": ""})
    assert r.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', r.data.decode()).group(1)
    assert "gehoor_review" not in password
    assert password not in (r.headers.get("Set-Cookie") or "")
    assert login(app.test_client(), "nina@acme.example", password=password).status_code == 302
    # and it is not shown again
    assert password not in c.get("/staff").data.decode()


def test_staff_page_role_disable_reset_remove(client_for, app, factory):
    c = client_for("admin")
    email = USERS["viewer"]
    assert c.post("/staff", data={"op": "role", "email": email, "role": "reviewer"}).status_code == 302
    assert c.post("/staff", data={"op": "disable", "email": email}).status_code == 302
    with factory() as s:
        u = s.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one()
        assert u.role == "reviewer" and u.disabled
    assert login(app.test_client(), "viewer").status_code == 401
    c.post("/staff", data={"op": "enable", "email": email})
    r = c.post("/staff", data={"op": "reset", "email": email})
    new = re.search(r'<code class="secret">([^<]+)</code>', r.data.decode()).group(1)
    assert login(app.test_client(), email, password=new).status_code == 302
    assert c.post("/staff", data={"op": "remove", "email": email}).status_code == 302
    with factory() as s:
        assert s.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none() is None
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.actor == USERS["admin"]))]
    for action in ("staff_role", "staff_disable", "staff_enable", "staff_password", "staff_remove"):
        assert action in actions


def test_staff_page_refuses_bad_input_and_self_lockout(client_for):
    c = client_for("admin")
    assert c.post("/staff", data={"op": "add", "email": "x@acme.example", "role": "viewer", "password": "short"}).status_code == 400
    assert c.post("/staff", data={"op": "add", "email": "not-an-email", "role": "viewer"}).status_code == 400
    assert c.post("/staff", data={"op": "add", "email": "x@acme.example", "role": "root"}).status_code == 400
    assert c.post("/staff", data={"op": "add", "email": USERS["viewer"], "role": "viewer"}).status_code == 400
    assert c.post("/staff", data={"op": "remove", "email": USERS["admin"]}).status_code == 400
    assert c.post("/staff", data={"op": "disable", "email": USERS["admin"]}).status_code == 400
    assert c.get("/staff").status_code == 200


def test_audit_page_lists_who_did_what(client_for, ids):
    c = client_for("admin")
    client_for("reviewer").get(f"/stories/{ids['pii']}")
    client_for("viewer").get("/export?format=csv")
    html = c.get("/audit").data.decode()
    assert USERS["reviewer"] in html and f"story:{ids['pii']}" in html
    assert "export" in html and "login" in html
    only = c.get(f"/audit?action=view&actor={USERS['reviewer']}").data.decode()
    assert only.count('act-view') >= 1 and "act-export" not in only


def test_erase_story_needs_reference_and_uses_store_forget(client_for, factory, ids, var_dir):
    c = client_for("admin")
    sid = ids["xss"]
    html = c.get(f"/stories/{sid}").data.decode()
    assert "Erase this conversation" in html
    r = c.post(f"/stories/{sid}/erase", data={"confirm": "wrong"})
    assert r.status_code == 302 and "#erase" in r.headers["Location"]
    with factory() as s:
        assert s.get(Story, sid) is not None
    r = c.post(f"/stories/{sid}/erase", data={"confirm": "gh-xss0-0001"})
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"
    assert "Erased: GH-XSS0-0001" in c.get("/inbox").data.decode()  # the flash message names it
    assert c.get(f"/stories/{sid}").status_code == 404
    with factory() as s:
        assert s.get(Story, sid) is None
        erase = s.execute(select(AuditEntry).where(AuditEntry.action == "erase")).scalars().all()
    assert erase[-1].actor == USERS["admin"] and erase[-1].detail["stories"] == ["GH-XSS0-0001"]


def test_forget_customer_by_contact(client_for, factory, ids):
    c = client_for("admin")
    r = c.post("/forget", data={"contact": "06 12345678", "confirm": "nope"})
    assert r.status_code == 400
    r = c.post("/forget", data={"contact": "not a contact", "confirm": "FORGET"})
    assert r.status_code == 400
    r = c.post("/forget", data={"contact": "06 12345678", "confirm": "FORGET"})
    assert r.status_code == 200 and "GH-PII0-0002" in r.data.decode()
    with factory() as s:
        assert s.get(Story, ids["pii"]) is None
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "erase")).scalars().all()[-1]
    assert entry.actor == USERS["admin"]
    assert "612345678" not in str(entry.target) + str(entry.detail)  # the contact itself is not kept
