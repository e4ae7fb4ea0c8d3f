"""Fixtures of the review-app tests: a migrated SQLite store with seeded stories (built once per
session, copied per test), staff accounts of every role, and logged-in test clients."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from bot.review import accounts
from bot.store.db import make_engine, migrate, session_factory
from bot.store.models import Message, Story, StoryAspect, StoryTag, utcnow
from bot.store.seed import seed
from review_helpers import PASSWORD, USERS, XSS_IMG, XSS_LINK, XSS_SCRIPT, login

SEEDED = 400


@pytest.fixture(scope="session", autouse=True)
def _cheap_hashes():
    """argon2 with minimal cost in tests (the real parameters are read from each hash)."""
    original = accounts.HASHER
    accounts.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    accounts.HASHER = original


def _story(session, ref, minutes_ago, score, texts, **fields):
    now = utcnow() - timedelta(minutes=minutes_ago)
    customer = [t for role, t in texts if role == "customer"]
    story = Story(
        reference=ref, conversation_id=f"conv-{ref}", session_started_at=now, started_at=now, updated_at=now,
        channel=fields.pop("channel", "socketio"), channel_metadata=fields.pop("channel_metadata", {}),
        language=fields.pop("language", "nl"), status=fields.pop("status", "complete"), score=score,
        answers=fields.pop("answers", {"reason": customer[1] if len(customer) > 1 else customer[0]}),
        customer_text="\n".join(customer), **fields,
    )
    session.add(story)
    session.flush()
    for i, (role, t) in enumerate(texts):
        session.add(Message(story_id=story.id, seq=i, role=role, text=t, at=now + timedelta(seconds=10 * i)))
    for a in story.aspects or []:
        session.add(StoryAspect(story_id=story.id, aspect=a))
    return story


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A migrated store: SEEDED seeded stories, three hand-made ones, one account per role."""
    folder = tmp_path_factory.mktemp("review-template")
    path = folder / "gehoor.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    factory = session_factory(engine)
    seed(SEEDED, factory, seed=7)
    ids = {}
    with factory() as s:
        for role, email in USERS.items():
            accounts.add_staff(s, email, role, PASSWORD, actor="test")
        xss = _story(
            s, "GH-XSS0-0001", 1, 2,
            [("bot", "Hoe waarschijnlijk is het dat je ons aanbeveelt?"), ("customer", "2"),
             ("bot", "Wat is de belangrijkste reden voor je 2?"),
             ("customer", f"mijn pakket is weer niet bezorgd {XSS_SCRIPT} {XSS_IMG} {XSS_LINK}")],
            summary=f"Je pakket kwam niet {XSS_IMG}", summary_confirmed=False, correction=f"Nee: {XSS_LINK}",
            channel_metadata={"page": XSS_SCRIPT, "order_ref": "A12345"}, aspects=["delivery"],
            sentiment="negative", emotions=["frustration"], repeat_contact=True, consent_to_contact=True,
            contact="xss.klant@example.com", contact_kind="email", handoff_requested=True,
        )
        s.add(StoryTag(story_id=xss.id, tag="<b>vet</b>"))
        pii = _story(
            s, "GH-PII0-0002", 2, 9,
            [("bot", "How likely are you to recommend us?"), ("customer", "9"),
             ("bot", "What is the main reason for your 9?"),
             ("customer", "The zeppelinhangar tour was great, mail me at piet.jansen@example.org "
                          "or call 06-12345678 please"),
             ("bot", "Let me check I understood you. Is that right?"), ("customer", "yes")],
            language="en", summary="You loved the zeppelinhangar tour.", summary_confirmed=True,
            aspects=["product_quality"], sentiment="positive", emotions=["gratitude"],
            consent_to_contact=True, contact="+31612345678", contact_kind="phone",
        )
        plain = _story(
            s, "GH-NEW0-0003", 3, None,
            [("bot", "Hoe waarschijnlijk…?"), ("customer", "geen cijfer"), ("bot", "Waarom?"),
             ("customer", "de app crasht steeds bij het inloggen")],
            status="abandoned", aspects=["website_app"], sentiment="negative", review_status="new",
        )
        s.commit()
        ids.update(xss=xss.id, pii=pii.id, plain=plain.id)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path, ids


@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setenv("GEHOOR_VAR_DIR", str(var))
    monkeypatch.setenv("GEHOOR_TRACKER_DB", str(var / "tracker.db"))
    monkeypatch.delenv("GEHOOR_DB_URL", raising=False)
    monkeypatch.delenv("GEHOOR_REVIEW_TRUST_PROXY", raising=False)
    monkeypatch.delenv("GEHOOR_REVIEW_TLS", raising=False)
    return var


@pytest.fixture
def db_url(template_db, var_dir):
    path, _ = template_db
    target = var_dir / "gehoor.db"
    shutil.copyfile(path, target)
    return f"sqlite:///{target}"


@pytest.fixture
def ids(template_db):
    return dict(template_db[1])


@pytest.fixture
def app(db_url):
    from bot.review.app import create_app

    application = create_app(db_url, testing=True)
    yield application
    application.extensions["gehoor_engine"].dispose()


@pytest.fixture
def factory(app):
    return app.extensions["gehoor_sessions"]


@pytest.fixture
def client_for(app):
    """client_for("viewer") -> a test client logged in with that role (None: anonymous)."""
    def make(role=None):
        client = app.test_client()
        if role:
            resp = login(client, role)
            assert resp.status_code == 302, resp.data[:500]
        return client
    return make


