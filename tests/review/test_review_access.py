"""Every route × every role: who may read, who may change, who is sent to the login page."""
from __future__ import annotations

import pytest

from review_helpers import login

READ_ROUTES = ["/inbox", "/dashboard", "/stories/{xss}", "/export?format=csv", "/export?format=jsonl", "/account"]
ADMIN_PAGES = ["/staff", "/audit", "/forget"]
CHANGE_ROUTES = [
    ("/stories/{plain}/tags", {"tag": "testtag"}),
    ("/stories/{plain}/notes", {"text": "a note"}),
    ("/stories/{plain}/review", {"review_status": "closed"}),
    ("/stories/{plain}/assign", {"assignee": "me"}),
    ("/stories/{plain}/follow-up", {"note": "called back"}),
]
ADMIN_CHANGES = [
    ("/stories/{plain}/erase", {"confirm": "GH-NEW0-0003"}),
    ("/staff", {"op": "add", "email": "new@acme.example", "role": "viewer", "password": "long enough pw"}),
    ("/forget", {"contact": "someone@example.com", "confirm": "FORGET"}),
]


def fmt(path, ids):
    return path.format(**ids)


def test_health_endpoints_need_no_login(client_for):
    c = client_for(None)
    r = c.get("/healthz")
    assert r.status_code == 200 and r.data == b"ok\n"
    r = c.get("/readyz")
    assert r.status_code == 200 and r.data == b"ready\n"


def test_readyz_reports_unusable_database(var_dir):
    from bot.review.app import create_app

    # an empty (not migrated) database, and a server that is not there
    for url in (f"sqlite:///{var_dir}/empty.db", "postgresql+psycopg2://nobody@127.0.0.1:1/none?connect_timeout=2"):
        app = create_app(url, testing=True)
        r = app.test_client().get("/readyz")
        assert r.status_code == 503, url
        assert b"Traceback" not in r.data
        assert app.test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize("path", READ_ROUTES + ADMIN_PAGES + ["/", "/stories/999999"])
def test_anonymous_is_sent_to_login(client_for, ids, path):
    r = client_for(None).get(fmt(path, ids))
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path,data", CHANGE_ROUTES + ADMIN_CHANGES + [("/logout", {})])
def test_anonymous_cannot_change(client_for, ids, path, data):
    r = client_for(None).post(fmt(path, ids), data=data)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["viewer", "reviewer", "admin"])
@pytest.mark.parametrize("path", READ_ROUTES)
def test_every_role_reads(client_for, ids, role, path):
    r = client_for(role).get(fmt(path, ids))
    assert r.status_code == 200, r.data[:300]


@pytest.mark.parametrize("role,status", [("viewer", 403), ("reviewer", 403), ("admin", 200)])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages(client_for, role, status, path):
    r = client_for(role).get(path)
    assert r.status_code == status
    if status == 403:
        assert b"Not allowed" in r.data


@pytest.mark.parametrize("path,data", CHANGE_ROUTES)
def test_viewer_cannot_change(client_for, ids, factory, path, data):
    from bot.store.models import Story

    before = _story_state(factory, ids["plain"])
    r = client_for("viewer").post(fmt(path, ids), data=data)
    assert r.status_code == 403
    assert _story_state(factory, ids["plain"]) == before
    with factory() as s:
        assert s.get(Story, ids["plain"]) is not None


@pytest.mark.parametrize("role", ["reviewer", "admin"])
@pytest.mark.parametrize("path,data", CHANGE_ROUTES)
def test_reviewer_and_admin_change(client_for, ids, factory, role, path, data):
    before = _story_state(factory, ids["plain"])
    r = client_for(role).post(fmt(path, ids), data=data)
    assert r.status_code == 302 and f"/stories/{ids['plain']}" in r.headers["Location"]
    assert _story_state(factory, ids["plain"]) != before


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
@pytest.mark.parametrize("path,data", ADMIN_CHANGES)
def test_only_admin_erases_and_manages_staff(client_for, ids, factory, role, path, data):
    from bot.store.models import StaffUser, Story

    r = client_for(role).post(fmt(path, ids), data=data)
    assert r.status_code == 403
    with factory() as s:
        assert s.get(Story, ids["plain"]) is not None
        assert s.query(StaffUser).filter_by(email="new@acme.example").count() == 0


def _story_state(factory, story_id):
    from bot.store.models import Story

    with factory() as s:
        st = s.get(Story, story_id)
        return (st.review_status, st.assignee, st.follow_up_state, tuple(sorted(t.tag for t in st.tags)),
                len(st.notes))


def test_unknown_route_is_a_404_page_without_traceback(client_for):
    for client in (client_for(None), client_for("admin")):
        r = client.get("/no/such/page")
        assert r.status_code == 404
        assert b"Page not found" in r.data and b"Traceback" not in r.data
    assert client_for("admin").get("/stories/987654").status_code == 404


def test_server_error_page_has_no_traceback(db_url):
    from bot.review.app import create_app

    app = create_app(db_url, testing=True)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    c = app.test_client()
    login(c, "viewer")
    r = c.get("/boom")
    assert r.status_code == 500
    assert b"Something went wrong" in r.data
    assert b"secret internals" not in r.data and b"Traceback" not in r.data


def test_security_headers_on_every_response(client_for, ids):
    c = client_for("reviewer")
    for path in ("/inbox", f"/stories/{ids['xss']}", "/dashboard", "/nope", "/login", "/healthz"):
        r = c.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in c.get("/inbox").headers["Cache-Control"]


def test_no_inline_script_or_style_in_pages(client_for, ids):
    c = client_for("admin")
    for path in ("/inbox", f"/stories/{ids['xss']}", "/dashboard", "/staff", "/audit", "/forget", "/login"):
        html = c.get(path).data.decode()
        assert "<script" not in html.replace("&lt;script", "")
        assert " style=" not in html and "<style" not in html
        assert " on" + "click=" not in html


def test_session_cookie_flags(app):
    c = app.test_client()
    r = login(c, "viewer")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    r = login(app.test_client(), "viewer", base_url="https://review.example")
    assert "Secure" in r.headers["Set-Cookie"]


def test_secure_cookie_behind_trusted_proxy(db_url, monkeypatch):
    from bot.review.app import create_app

    monkeypatch.setenv("GEHOOR_REVIEW_TRUST_PROXY", "1")
    app = create_app(db_url, testing=True)
    r = login(app.test_client(), "viewer", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Secure" in r.headers["Set-Cookie"]
    assert r.headers.get("Strict-Transport-Security")


def test_secure_cookie_forced_by_setting(db_url, monkeypatch):
    from bot.review.app import create_app

    monkeypatch.setenv("GEHOOR_REVIEW_TLS", "1")
    app = create_app(db_url, testing=True)
    assert "Secure" in login(app.test_client(), "viewer").headers["Set-Cookie"]


def test_untrusted_forwarded_proto_is_ignored(app):
    r = login(app.test_client(), "viewer", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in r.headers["Set-Cookie"]


def test_removed_or_disabled_staff_lose_their_session(client_for, factory):
    from bot.review import accounts

    c = client_for("reviewer")
    assert c.get("/inbox").status_code == 200
    with factory() as s:
        accounts.set_disabled(s, "rob.reviewer@acme.example", True, actor="test")
        s.commit()
    r = c.get("/inbox")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_role_change_takes_effect_at_once(client_for, factory):
    from bot.review import accounts

    c = client_for("admin")
    assert c.get("/staff").status_code == 200
    with factory() as s:
        accounts.set_role(s, "ada.admin@acme.example", "viewer", actor="test")
        s.commit()
    # the session stamp changed: the old session is no longer accepted at all
    assert c.get("/staff").status_code == 302


def test_login_redirects_only_to_local_paths(app):
    for nxt, expected in (("/dashboard", "/dashboard"), ("https://evil.example/", "/inbox"),
                          ("//evil.example", "/inbox"), ("/\\evil.example", "/inbox")):
        c = app.test_client()
        r = c.post("/login", data={"email": "vera.viewer@acme.example", "password": "correct horse battery",
                                   "next": nxt})
        assert r.status_code == 302 and r.headers["Location"] == expected


def test_logout(client_for):
    c = client_for("viewer")
    r = c.post("/logout")
    assert r.status_code == 302
    assert c.get("/inbox").status_code == 302
