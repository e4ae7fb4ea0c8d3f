"""TOTP two-factor authentication for staff (RFC 6238 via pyotp).

- A staff member turns it on at /account/2fa: the page shows a new secret (and its otpauth://
  URI for an authenticator app); it is saved once a code from the app is accepted.
- At login, after the right password, an account with TOTP is sent to /login/code; only a
  valid code (±30 s) within 5 minutes starts the session. Wrong codes count as failed logins
  (same throttling), and the password step alone neither resets the counters nor logs in.
- GEHOOR_REVIEW_ADMIN_TOTP=1: admins without TOTP are sent to /account/2fa before anything else.

The secret is stored encrypted (Fernet) with a key derived from the key outside the database
(bot.store.keyed: GEHOOR_HASH_KEY or var/hash-secret.key): a copy of the database alone does not
give the second factor away.
"""
from __future__ import annotations

import base64
import hashlib
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from bot.review import accounts, settings
from bot.store import keyed
from bot.store.models import StaffUser

bp = Blueprint("twofactor", __name__)
PENDING_SECONDS = 300
ISSUER = "Gehoor review"


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"gehoor-totp\x00" + keyed.secret_key()).digest()))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:  # the key changed: TOTP has to be set up again (an admin can reset it)
        return None


def verify(secret: str | None, code: str) -> bool:
    code = "".join((code or "").split())
    return bool(secret) and code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def required_for(user) -> bool:
    return user.role == "admin" and settings.admin_totp_required()


def _client_ip() -> str:
    return request.remote_addr or "?"


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    from bot.review.app import begin_session, db
    from bot.review.views import safe_next

    uid, started = session.get("pending_uid"), session.get("pending_at", 0)
    if uid is None or time.time() - started > PENDING_SECONDS:
        session.pop("pending_uid", None)
        return redirect(url_for("review.login"))
    user = db().get(StaffUser, uid)
    if user is None or user.disabled:
        session.clear()
        return redirect(url_for("review.login"))
    error, status = None, 200
    if request.method == "POST":
        ip = _client_ip()
        if accounts.lock_state(db(), user.email, ip) is not None:
            error, status = "Too many failed attempts. Try again later.", 429
        elif verify(unseal(user.totp_secret), request.form.get("code", "")):
            accounts.audit(db(), user.email, "login", f"ip:{ip}", factor="totp")
            begin_session(user, second_factor_done=True)
            return redirect(safe_next(request.form.get("next")))
        else:
            accounts.record_failure(db(), user.email, ip, factor="totp")
            error, status = "That code is not right (or has expired). Use the current code of your app.", 401
    return render_template("login_code.html", error=error, next=request.values.get("next", "")), status


@bp.route("/account/2fa", methods=["GET", "POST"])
def setup():
    from bot.review.app import db

    user = db().get(StaffUser, g.user.id)
    error = None
    if request.method == "POST":
        op = request.form.get("op")
        if op == "enable" and not user.totp_secret:
            secret = session.get("totp_setup")
            if verify(secret, request.form.get("code", "")):
                user.totp_secret = seal(secret)
                session.pop("totp_setup", None)
                accounts.audit(db(), user.email, "totp_enable", f"staff:{user.email}")
                db().commit()
                flash("Two-factor authentication is on.")
                return redirect(url_for("twofactor.setup"))
            error = "That code is not right. Enter the current 6-digit code from your app."
        elif op == "disable" and user.totp_secret:
            if required_for(user):
                error = "Admins must keep two-factor authentication on."
            elif verify(unseal(user.totp_secret), request.form.get("code", "")):
                user.totp_secret = None
                accounts.audit(db(), user.email, "totp_disable", f"staff:{user.email}")
                db().commit()
                flash("Two-factor authentication is off.")
                return redirect(url_for("twofactor.setup"))
            else:
                error = "That code is not right."
        else:
            abort(400)
    secret = None
    if not user.totp_secret:
        secret = session.get("totp_setup") or pyotp.random_base32()
        session["totp_setup"] = secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER) if secret else None
    return render_template("twofactor.html", enabled=bool(user.totp_secret), secret=secret, uri=uri, error=error,
                           required=required_for(user)), (400 if error else 200)
