"""The staff review app: `create_app()` builds the Flask app, `serve()` runs it under waitress.

Security measures (see docs/review.md): login on every page/export/API route, argon2 password
hashes, login throttling per account and source (known devices exempt from the account-wide
limit), optional TOTP (bot/review/twofactor.py), server-side sessions revoked at logout and on
account changes (bot/review/sessions.py), CSRF on every form, HttpOnly + SameSite=Lax session
cookie (Secure over TLS), strict Content-Security-Policy, autoescaped templates with
bidirectional isolation of customer text, no tracebacks to the browser.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Optional

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from bot import config
from bot.review import sessions, settings, storeapi
from bot.review.queries import TTLCache

log = logging.getLogger("gehoor.review")
HERE = Path(__file__).resolve().parent
ROLE_RANK = {"viewer": 0, "reviewer": 1, "admin": 2}
PUBLIC_ENDPOINTS = {"review.login", "review.healthz", "review.readyz", "twofactor.code", "static"}
# Reachable by an admin who must still set up TOTP (GEHOOR_REVIEW_ADMIN_TOTP=1)
TOTP_SETUP_ENDPOINTS = {"twofactor.setup", "review.logout", "static"}
DEVICE_COOKIE = "gehoor_device"  # "known device" for login throttling (bot/review/accounts.py)
DEVICE_DAYS = 180

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


@dataclass(frozen=True)
class Identity:
    """The logged-in staff member (a plain value, not an ORM object)."""

    id: int
    email: str
    role: str
    totp: bool = False


class TLSAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure when the request came in over HTTPS (directly, or via a
    trusted proxy's X-Forwarded-Proto), or always when GEHOOR_REVIEW_TLS=1."""

    def get_cookie_secure(self, app: Flask) -> bool:  # noqa: D401
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        try:
            return request.is_secure
        except RuntimeError:  # outside a request
            return False


def create_app(db_url: Optional[str] = None, testing: bool = False) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/static",
    )
    app.config.update(
        TESTING=testing,
        SECRET_KEY=secrets.token_hex(32) if testing else settings.secret_key(),
        SESSION_COOKIE_NAME="gehoor_review",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.force_secure_cookies(),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours()),
        WTF_CSRF_ENABLED=not testing,  # tests that check CSRF switch it back on
        WTF_CSRF_TIME_LIMIT=settings.session_hours() * 3600,
        MAX_CONTENT_LENGTH=256 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        TEMPLATES_AUTO_RELOAD=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.session_interface = TLSAwareSessionInterface()
    if settings.trust_proxy():
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trust_proxy()
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)

    engine = storeapi.make_engine(db_url or config.db_url())
    app.extensions["gehoor_engine"] = engine
    app.extensions["gehoor_sessions"] = storeapi.session_factory(engine)
    app.extensions["gehoor_cache"] = TTLCache(60.0)  # filter choices
    app.extensions["gehoor_dash_cache"] = TTLCache(0.0 if testing else settings.dashboard_cache_seconds())
    CSRFProtect(app)

    from bot.review import formatting, twofactor, views

    formatting.install(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(twofactor.bp)
    from bot.review import notifications  # the alerts' delivery log (admin, read-only)
    app.register_blueprint(notifications.bp)

    @app.before_request
    def _load_user():
        g.user = None
        if request.endpoint == "static":
            return None
        if "sid" in session:  # the cookie holds a token of a server-side session (bot/review/sessions.py)
            user = sessions.check(db(), session.get("sid"))
            if user is not None:
                g.user = Identity(user.id, user.email, user.role, bool(user.totp_secret))
            else:
                session.clear()
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None  # None: unknown route, answered with the 404 page
        if g.user is not None and not g.user.totp and request.endpoint not in TOTP_SETUP_ENDPOINTS:
            from bot.review.twofactor import required_for

            if required_for(g.user):
                return redirect(url_for("twofactor.setup"))
        if g.user is None:
            nxt = request.full_path if request.method == "GET" else None
            if nxt and nxt.endswith("?"):
                nxt = nxt[:-1]
            return redirect(url_for("review.login", next=nxt) if nxt and nxt != "/" else url_for("review.login"))
        return None

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h["Content-Security-Policy"] = CSP
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        if request.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint != "static":
            h["Cache-Control"] = "no-store"
        return resp

    @app.teardown_appcontext
    def _close_db(exc):
        s = g.pop("db", None)
        if s is not None:
            if exc is not None:
                s.rollback()
            s.close()

    @app.errorhandler(CSRFError)
    def _csrf_error(e):
        return render_template("error.html", code=400, title="Form expired",
                               message="This form was sent without a valid security token. "
                                       "Go back, reload the page and try again."), 400

    @app.errorhandler(HTTPException)
    def _http_error(e):
        titles = {403: "Not allowed", 404: "Page not found", 405: "Not allowed here",
                  413: "Too large", 400: "Bad request"}
        messages = {
            403: "Your role does not allow this. Ask an admin if you need access.",
            404: "There is nothing at this address. It may have been erased, or the link is mistyped.",
        }
        code = e.code or 500
        return render_template("error.html", code=code, title=titles.get(code, e.name),
                               message=messages.get(code, e.description if code < 500 else "")), code

    @app.errorhandler(Exception)
    def _server_error(e):
        if isinstance(e, HTTPException):
            return _http_error(e)
        log.exception("review app: unhandled error on %s %s", request.method, request.path)
        s = g.get("db")
        if s is not None:
            s.rollback()
        return render_template("error.html", code=500, title="Something went wrong",
                               message="The error was logged. Try again, or tell the person who runs Gehoor."), 500

    return app


def db():
    """The request's database session (created on first use, closed at teardown)."""
    from flask import current_app

    s = g.get("db")
    if s is None:
        s = g.db = current_app.extensions["gehoor_sessions"]()
    return s


def begin_session(user, second_factor_done: bool = False) -> bool:
    """Log `user` in: a new server-side session, its token in a fresh cookie, and this browser
    remembered as a known device. With TOTP on and no code yet: only a pending login (False)."""
    session.clear()
    if user.totp_secret and not second_factor_done:
        import time

        session["pending_uid"], session["pending_at"] = user.id, time.time()
        return False
    session.permanent = True
    session["sid"] = sessions.start(db(), user, request.remote_addr)
    db().commit()
    _remember_device(user.id)
    return True


def _device_serializer():
    from flask import current_app
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.secret_key, salt="gehoor-known-device")


def _device_accounts() -> list:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        data = _device_serializer().loads(raw)
    except Exception:  # noqa: BLE001  tampered or from another secret key: not a known device
        return []
    return [int(x) for x in data if isinstance(x, int)] if isinstance(data, list) else []


def _remember_device(user_id: int) -> None:
    from flask import after_this_request

    known = [user_id] + [x for x in _device_accounts() if x != user_id][:4]

    @after_this_request
    def _set(resp):
        resp.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(known), max_age=DEVICE_DAYS * 86400,
                        httponly=True, samesite="Lax", secure=bool(request.is_secure or settings.force_secure_cookies()))
        return resp


def is_known_device(email: str) -> bool:
    """This browser logged in to the account `email` before (signed cookie)."""
    from bot.review.accounts import get_staff

    ids = _device_accounts()
    if not ids:
        return False
    user = get_staff(db(), email)
    return user is not None and user.id in ids


def end_session(reason: str = "logout") -> None:
    sessions.end(db(), session.get("sid"), reason)
    db().commit()
    session.clear()


def session_token():
    return session.get("sid")


def has_role(minimum: str) -> bool:
    user = g.get("user")
    return user is not None and ROLE_RANK.get(user.role, -1) >= ROLE_RANK[minimum]


def serve(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Migrate the store, then serve the review app with waitress (blocking)."""
    from waitress import serve as waitress_serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = config.db_url()
    engine = storeapi.make_engine(url)
    try:
        storeapi.migrate(engine)
    finally:
        engine.dispose()
    app = create_app(url)

    def _warm_up():  # load the listening analysis (spaCy) now, not on the first story page
        from bot.review.highlight import mentions

        mentions("warm-up", "nl")

    import threading

    threading.Thread(target=_warm_up, name="review-warm-up", daemon=True).start()
    host = host or settings.review_host()
    port = port or config.review_port()
    log.info("review app on http://%s:%s/", host, port)
    # Without a trusted proxy waitress drops X-Forwarded-* headers; with one (GEHOOR_REVIEW_TRUST_PROXY)
    # they are passed on to werkzeug's ProxyFix (installed in create_app).
    waitress_serve(app, host=host, port=port, threads=settings.review_threads(), ident="gehoor-review",
                   clear_untrusted_proxy_headers=not settings.trust_proxy())
