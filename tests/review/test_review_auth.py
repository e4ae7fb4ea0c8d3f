"""Login, throttling, CSRF, the secret key, and the `gehoor staff` commands."""
from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.store.models import AuditEntry, StaffUser
from review_helpers import PASSWORD, USERS, csrf_token, login


def test_login_and_audit(app, factory):
    c = app.test_client()
    r = c.get("/login")
    assert r.status_code == 200 and b'name="password"' in r.data
    r = login(c, "reviewer")
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"
    assert c.get("/inbox").status_code == 200
    with factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "login")).scalars().all()[-1]
        assert entry.actor == USERS["reviewer"] and entry.target.startswith("ip:")


def test_wrong_password_and_unknown_account_look_the_same(app, factory):
    c = app.test_client()
    r1 = login(c, "reviewer", password="wrong password!")
    r2 = login(c, "nobody@acme.example", password="wrong password!")
    assert r1.status_code == r2.status_code == 401
    assert b"do not match" in r1.data and b"do not match" in r2.data
    with factory() as s:
        failed = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "login_failed")).scalars().all()
        assert set(failed) == {USERS["reviewer"], "nobody@acme.example"}


def test_account_locked_after_five_failures(app, factory):
    c = app.test_client()
    for _ in range(5):
        assert login(c, "reviewer", password="not the password").status_code == 401
    r = login(c, "reviewer")  # the right password, but locked
    assert r.status_code == 429 and b"Too many failed attempts" in r.data
    # other accounts from another IP are not affected
    other = app.test_client()
    assert login(other, "viewer", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302
    # 15 minutes later the lock is gone
    with factory() as s:
        s.execute(update(AuditEntry).where(AuditEntry.action.in_(("login_failed", "login_locked")))
                  .values(at=AuditEntry.at - timedelta(minutes=16)))
        s.commit()
    assert login(c, "reviewer").status_code == 302


def test_successful_login_resets_the_account_counter(app):
    c = app.test_client()
    for _ in range(4):
        login(c, "reviewer", password="nope nope nope")
    assert login(c, "reviewer").status_code == 302
    for _ in range(4):
        assert login(app.test_client(), "reviewer", password="nope nope nope").status_code == 401
    assert login(app.test_client(), "reviewer").status_code == 302


def test_ip_locked_after_twenty_failures_over_accounts(app):
    ip = {"REMOTE_ADDR": "192.0.2.77"}
    for i in range(20):
        r = login(app.test_client(), f"guess{i}@acme.example", password="x" * 12, environ_base=ip)
        assert r.status_code == 401
    assert login(app.test_client(), "admin", environ_base=ip).status_code == 429
    assert login(app.test_client(), "admin", environ_base={"REMOTE_ADDR": "192.0.2.78"}).status_code == 302


def test_lockout_limits_are_configurable(app, monkeypatch):
    monkeypatch.setenv("GEHOOR_LOGIN_MAX_FAILURES", "2")
    c = app.test_client()
    login(c, "viewer", password="bad password 1")
    login(c, "viewer", password="bad password 2")
    assert login(c, "viewer").status_code == 429


def test_disabled_account_cannot_log_in(app, factory):
    with factory() as s:
        s.execute(update(StaffUser).where(StaffUser.email == USERS["viewer"]).values(disabled=True))
        s.commit()
    assert login(app.test_client(), "viewer").status_code == 401


# ---------------------------------------------------------------------------- CSRF
@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_login_form_rejected_without_csrf_token(csrf_app):
    r = login(csrf_app.test_client(), "viewer")
    assert r.status_code == 400 and b"Form expired" in r.data


def _login_with_token(app, role):
    c = app.test_client()
    token = csrf_token(c.get("/login").data.decode())
    r = c.post("/login", data={"email": USERS[role], "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    return c


@pytest.mark.parametrize("path,data", [
    ("/stories/{plain}/tags", {"tag": "csrf"}),
    ("/stories/{plain}/notes", {"text": "csrf"}),
    ("/stories/{plain}/review", {"review_status": "closed"}),
    ("/stories/{plain}/assign", {"assignee": "me"}),
    ("/stories/{plain}/follow-up", {"note": "csrf"}),
    ("/stories/{plain}/erase", {"confirm": "GH-NEW0-0003"}),
    ("/staff", {"op": "add", "email": "csrf@acme.example", "role": "admin", "password": "long enough pw"}),
    ("/forget", {"contact": "x@example.com", "confirm": "FORGET"}),
    ("/account", {"current": PASSWORD, "new": "another long pw", "again": "another long pw"}),
    ("/logout", {}),
])
def test_every_form_rejected_without_csrf_token(csrf_app, ids, factory, path, data):
    from bot.store.models import Story

    c = _login_with_token(csrf_app, "admin")
    r = c.post(path.format(**ids), data=data)
    assert r.status_code == 400 and b"Form expired" in r.data
    r = c.post(path.format(**ids), data=dict(data, csrf_token="forged-token"))
    assert r.status_code == 400
    with factory() as s:
        st = s.get(Story, ids["plain"])
        assert st is not None and not st.tags and not st.notes and st.review_status == "new"
        assert s.query(StaffUser).filter_by(email="csrf@acme.example").count() == 0
    assert c.get("/inbox").status_code == 200  # still logged in


def test_forms_accepted_with_csrf_token(csrf_app, ids, factory):
    from bot.store.models import Story

    c = _login_with_token(csrf_app, "reviewer")
    page = c.get(f"/stories/{ids['plain']}").data.decode()
    r = c.post(f"/stories/{ids['plain']}/tags", data={"tag": "met-token", "csrf_token": csrf_token(page)})
    assert r.status_code == 302
    with factory() as s:
        assert [t.tag for t in s.get(Story, ids["plain"]).tags] == ["met-token"]


# ---------------------------------------------------------------------------- own password
def test_change_own_password(client_for):
    c = client_for("viewer")
    r = c.post("/account", data={"current": "wrong", "new": "new password 1", "again": "new password 1"})
    assert r.status_code == 400
    r = c.post("/account", data={"current": PASSWORD, "new": "new password 1", "again": "new password 1"})
    assert r.status_code == 302
    assert c.get("/inbox").status_code == 200  # this session stays valid
    assert login(c.application.test_client(), "viewer").status_code == 401
    assert login(c.application.test_client(), "viewer", password="new password 1").status_code == 302


# ---------------------------------------------------------------------------- secret key
def test_secret_key_generated_once_with_0600(var_dir, monkeypatch):
    from bot.review import settings

    monkeypatch.delenv("GEHOOR_SECRET_KEY", raising=False)
    key = settings.secret_key()
    path = var_dir / "review-secret.key"
    assert len(key) == 64 and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert settings.secret_key() == key
    monkeypatch.setenv("GEHOOR_SECRET_KEY", "from-the-environment")
    assert settings.secret_key() == "from-the-environment"


def test_app_uses_persisted_secret_key(db_url, monkeypatch):
    from bot.review import settings
    from bot.review.app import create_app

    monkeypatch.delenv("GEHOOR_SECRET_KEY", raising=False)
    a, b = create_app(db_url), create_app(db_url)
    assert a.secret_key == b.secret_key == settings.secret_key()
    assert a.config["WTF_CSRF_ENABLED"] is True


# ---------------------------------------------------------------------------- CLI
def test_staff_cli(db_url, monkeypatch, capsys, factory):
    from argon2 import PasswordHasher

    from bot.cli import main

    monkeypatch.setenv("GEHOOR_DB_URL", db_url)
    assert main(["staff", "add", "Nieuw@Acme.example", "--role", "reviewer", "--generate"]) == 0
    out = capsys.readouterr().out
    password = out.split("shown once): ")[1].strip()
    assert len(password) >= 16
    with factory() as s:
        user = s.execute(select(StaffUser).where(StaffUser.email == "nieuw@acme.example")).scalar_one()
        assert user.role == "reviewer" and user.password_hash.startswith("$argon2id$")
        assert PasswordHasher().verify(user.password_hash, password)

    answers = iter(["typed password 1", "typed password 1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["staff", "add", "typed@acme.example", "--role", "admin"]) == 0
    answers = iter(["typed password 1", "different password"])
    assert main(["staff", "add", "typo@acme.example"]) == 2
    assert "differ" in capsys.readouterr().err
    assert main(["staff", "add", "typed@acme.example", "--generate"]) == 2  # exists
    assert main(["staff", "add", "bad-address", "--generate"]) == 2

    capsys.readouterr()
    assert main(["staff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "nieuw@acme.example" in listing and "typed@acme.example" in listing and "admin" in listing
    assert "$argon2" not in listing

    assert main(["staff", "remove", "nieuw@acme.example"]) == 0
    assert main(["staff", "remove", "nieuw@acme.example"]) == 2
    capsys.readouterr()
    main(["staff", "list"])
    assert "nieuw@acme.example" not in capsys.readouterr().out
    with factory() as s:
        actions = s.execute(select(AuditEntry.action).where(AuditEntry.actor == "cli")).scalars().all()
        assert {"staff_add", "staff_remove"} <= set(actions)
