"""Login throttling that an attacker cannot turn against staff: per account AND source, known
devices still get in, admins unlock, alerts are logged; TOTP two-factor (required for admins
when configured)."""
from __future__ import annotations

import logging
import re

import pyotp
from sqlalchemy import select

from bot.store.models import AuditEntry, StaffUser
from review_helpers import USERS, login

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OFFICE = {"REMOTE_ADDR": "198.51.100.10"}


def test_attacker_cannot_lock_out_the_real_user(app):
    for _ in range(6):
        login(app.test_client(), "reviewer", password="guessing away", environ_base=ATTACKER)
    assert login(app.test_client(), "reviewer", environ_base=ATTACKER).status_code == 429  # that source is throttled
    assert login(app.test_client(), "reviewer", environ_base=OFFICE).status_code == 302  # the real user is not


def test_known_device_gets_in_when_the_account_is_under_attack(app, monkeypatch):
    monkeypatch.setenv("GEHOOR_LOGIN_MAX_ACCOUNT_FAILURES", "6")
    laptop = app.test_client()
    assert login(laptop, "reviewer", environ_base=OFFICE).status_code == 302  # remembered as a known device
    laptop.post("/logout", environ_base=OFFICE)
    for i in range(6):  # spread over many sources: each stays under the per-source limit
        login(app.test_client(), "reviewer", password="guessing away", environ_base={"REMOTE_ADDR": f"203.0.113.{i}"})
    assert login(app.test_client(), "reviewer", environ_base={"REMOTE_ADDR": "198.51.100.99"}).status_code == 429
    assert login(laptop, "reviewer", environ_base={"REMOTE_ADDR": "198.51.100.99"}).status_code == 302


def test_alert_is_logged_and_audited(app, factory, caplog):
    with caplog.at_level(logging.WARNING, logger="gehoor.review"):
        for _ in range(5):
            login(app.test_client(), "viewer", password="guessing away", environ_base=ATTACKER)
    assert any("login alert" in r.getMessage() and USERS["viewer"] in r.getMessage() for r in caplog.records)
    with factory() as s:
        alerts = s.execute(select(AuditEntry).where(AuditEntry.action == "login_alert")).scalars().all()
    assert len(alerts) == 1 and alerts[0].actor == USERS["viewer"] and alerts[0].detail["scope"] == "account+source"


def test_admin_unlocks(app, client_for, factory):
    for _ in range(5):
        login(app.test_client(), "viewer", password="guessing away", environ_base=ATTACKER)
    assert login(app.test_client(), "viewer", environ_base=ATTACKER).status_code == 429
    admin = client_for("admin")
    assert 'value="unlock"' in admin.get("/staff").data.decode()
    assert admin.post("/staff", data={"op": "unlock", "email": USERS["viewer"]}).status_code == 302
    assert login(app.test_client(), "viewer", environ_base=ATTACKER).status_code == 302
    with factory() as s:
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "login_unlock")).scalar_one().actor == USERS["admin"]


def _enable_totp(client) -> str:
    page = client.get("/account/2fa").data.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    assert client.post("/account/2fa", data={"op": "enable", "code": "000000"}).status_code == 400
    assert client.post("/account/2fa", data={"op": "enable", "code": pyotp.TOTP(secret).now()}).status_code == 302
    return secret


def test_totp_login(app, client_for, factory):
    secret = _enable_totp(client_for("reviewer"))
    c = app.test_client()
    r = login(c, "reviewer")
    assert r.status_code == 302 and "/login/code" in r.headers["Location"]
    assert c.get("/inbox").status_code == 302  # not logged in before the code
    assert c.post("/login/code", data={"code": "123456"}).status_code == 401
    assert c.post("/login/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert c.get("/inbox").status_code == 200
    with factory() as s:
        user = s.execute(select(StaffUser).where(StaffUser.email == USERS["reviewer"])).scalar_one()
        assert user.totp_secret and user.totp_secret != secret  # not kept in clear in the database


def test_totp_code_alone_is_useless(app):
    c = app.test_client()
    assert c.post("/login/code", data={"code": "123456"}).status_code in (302, 400)
    assert c.get("/inbox").status_code == 302


def test_totp_required_for_admins_when_configured(app, client_for, monkeypatch):
    monkeypatch.setenv("GEHOOR_REVIEW_ADMIN_TOTP", "1")
    admin = client_for("admin")
    r = admin.get("/staff")
    assert r.status_code == 302 and "/account/2fa" in r.headers["Location"]
    assert client_for("reviewer").get("/inbox").status_code == 200  # only admins
    _enable_totp(admin)
    assert admin.get("/staff").status_code == 200


def test_cli_unlock(app, db_url, monkeypatch, capsys):
    from bot.cli import main

    for _ in range(5):
        login(app.test_client(), "viewer", password="guessing away", environ_base=ATTACKER)
    monkeypatch.setenv("GEHOOR_DB_URL", db_url)
    assert main(["staff", "unlock", USERS["viewer"]]) == 0
    assert login(app.test_client(), "viewer", environ_base=ATTACKER).status_code == 302
