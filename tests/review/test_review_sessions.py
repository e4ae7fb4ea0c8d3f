"""Server-side staff sessions: a cookie stops working at logout, password change, role change,
disable and when an admin ends the sessions; idle timeout and absolute lifetime."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.store.models import AuditEntry, StaffSession, StaffUser
from review_helpers import PASSWORD, USERS

COOKIE = "gehoor_review"


def _replay(app, client):
    """A fresh client carrying `client`'s session cookie, as an attacker holding a copy would."""
    value = client.get_cookie(COOKIE).value
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def _reads_inbox(client) -> bool:
    return client.get("/inbox").status_code == 200


def test_cookie_is_useless_after_logout(app, client_for):
    c = client_for("reviewer")
    copy = _replay(app, c)
    assert _reads_inbox(copy)
    c.post("/logout")
    assert not _reads_inbox(c)
    r = copy.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert copy.get("/export?format=jsonl").status_code == 302


def test_password_change_ends_other_sessions(app, client_for):
    c, elsewhere = client_for("viewer"), client_for("viewer")
    r = c.post("/account", data={"current": PASSWORD, "new": "new password 1", "again": "new password 1"})
    assert r.status_code == 302
    assert _reads_inbox(c) and not _reads_inbox(elsewhere)


def test_role_change_and_disable_end_sessions(app, client_for):
    admin = client_for("admin")
    viewer, reviewer = client_for("viewer"), client_for("reviewer")
    admin.post("/staff", data={"op": "role", "email": USERS["viewer"], "role": "reviewer"})
    assert not _reads_inbox(viewer)
    admin.post("/staff", data={"op": "disable", "email": USERS["reviewer"]})
    assert not _reads_inbox(reviewer)


def test_admin_ends_a_users_sessions(app, client_for, factory):
    admin, reviewer = client_for("admin"), client_for("reviewer")
    page = admin.get("/staff").data.decode()
    assert 'value="end_sessions"' in page
    assert admin.post("/staff", data={"op": "end_sessions", "email": USERS["reviewer"]}).status_code == 302
    assert not _reads_inbox(reviewer) and _reads_inbox(admin)
    with factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "sessions_end")).scalar_one()
        assert entry.target == f"staff:{USERS['reviewer']}" and entry.detail["sessions"] == 1


def _age_sessions(factory, email, **delta):
    with factory() as s:
        uid = s.execute(select(StaffUser.id).where(StaffUser.email == email)).scalar_one()
        rows = s.execute(select(StaffSession).where(StaffSession.user_id == uid)).scalars().all()
        for row in rows:
            s.execute(update(StaffSession).where(StaffSession.id == row.id).values(
                created_at=row.created_at - timedelta(**delta.get("created", {})),
                last_seen_at=row.last_seen_at - timedelta(**delta.get("seen", {}))))
        s.commit()


def test_idle_timeout_is_configurable(app, client_for, factory, monkeypatch):
    monkeypatch.setenv("GEHOOR_REVIEW_SESSION_IDLE_MINUTES", "30")
    c = client_for("viewer")
    _age_sessions(factory, USERS["viewer"], seen={"minutes": 20})
    assert _reads_inbox(c)  # 20 min idle < 30
    _age_sessions(factory, USERS["viewer"], seen={"minutes": 31})
    assert not _reads_inbox(c)


def test_absolute_lifetime(app, client_for, factory, monkeypatch):
    monkeypatch.setenv("GEHOOR_REVIEW_SESSION_HOURS", "2")
    c = client_for("viewer")
    _age_sessions(factory, USERS["viewer"], created={"hours": 1})
    assert _reads_inbox(c)  # activity keeps it alive within the lifetime…
    _age_sessions(factory, USERS["viewer"], created={"hours": 2})
    assert not _reads_inbox(c)  # …but not beyond it


def test_session_table_keeps_no_usable_token(app, client_for, factory):
    c = client_for("viewer")
    token = c.get_cookie(COOKIE).value
    with factory() as s:
        ids = [r.id for r in s.execute(select(StaffSession)).scalars()]
    assert ids and all(len(i) == 64 and i not in token for i in ids)  # only a digest of the token is stored


def test_cli_logout_ends_sessions(db_url, monkeypatch, capsys, client_for):
    from bot.cli import main

    c = client_for("reviewer")
    monkeypatch.setenv("GEHOOR_DB_URL", db_url)
    assert main(["staff", "logout", USERS["reviewer"]]) == 0
    assert "Ended 1 session(s)" in capsys.readouterr().out
    assert not _reads_inbox(c)
    assert main(["staff", "logout", "nobody@acme.example"]) == 2
