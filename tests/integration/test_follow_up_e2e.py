"""A real conversation (REST channel, Rasa server, action server, story store) that ends in a
hand-off or in consent to be contacted opens a follow-up that the review app shows as open,
with a due time from the SLA; a staff decision survives a later capture of the conversation."""
from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

pytestmark = pytest.mark.integration

STAFF = "rob.reviewer@acme.example"
PASSWORD = "correct horse battery"


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def review(gehoor_stack, monkeypatch):
    """A logged-in reviewer on the review app reading the stack's story store."""
    from bot.review import accounts
    from bot.review.app import create_app
    from bot.store.db import migrate

    monkeypatch.setenv("GEHOOR_VAR_DIR", str(gehoor_stack.var_dir))
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    migrate(gehoor_stack.db_url)  # the action server also migrates, on its first write
    app = create_app(gehoor_stack.db_url, testing=True)
    with app.extensions["gehoor_sessions"]() as s:
        if accounts.get_staff(s, STAFF) is None:  # the stack (and its store) lives for the session
            accounts.add_staff(s, STAFF, "reviewer", PASSWORD, actor="test")
            s.commit()
    client = app.test_client()
    assert client.post("/login", data={"email": STAFF, "password": PASSWORD}).status_code == 302
    yield client
    app.extensions["gehoor_engine"].dispose()


def story_page(client, story) -> str:
    resp = client.get(f"/stories/{story.id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def follow_up_text(html: str) -> str:
    m = re.search(r"<dt>Follow-up</dt>\s*<dd[^>]*>(.*?)</dd>", html, re.S)
    assert m, "the story page has no follow-up field"
    return re.sub(r"<[^>]+>", " ", m.group(1))


def assert_open_follow_up(story, html: str, hours: int) -> None:
    assert story.follow_up_state == "open"
    assert story.follow_up_opened_at is not None
    assert story.follow_up_due_at - story.follow_up_opened_at == timedelta(hours=hours)
    shown = follow_up_text(html)
    assert "Open" in shown and "Not requested" not in shown, shown
    assert "Due" in shown, shown


def test_hand_off_opens_a_follow_up_shown_on_the_story_page(gehoor_stack, review):
    who = sender("nl-fu-human")
    gehoor_stack.say(who, "hoi")
    reply = gehoor_stack.say(who, "ik wil een medewerker spreken")
    assert "medewerker" in reply.lower() or "collega" in reply.lower()
    gehoor_stack.say(who, "bel me op 06 12345678")
    story = gehoor_stack.story(who)
    assert story.handoff_requested is True
    assert_open_follow_up(story, story_page(review, story), hours=24)


def test_consent_with_contact_details_opens_a_follow_up(gehoor_stack, review):
    who = sender("en-fu-consent")
    gehoor_stack.say(who, "hello")
    gehoor_stack.say(who, "5")
    reply = gehoor_stack.say(who, "my parcel was lost and nobody answers my emails")
    for _ in range(6):
        if "right" in reply.lower() or "correct" in reply.lower():
            break
        reply = gehoor_stack.say(who, "that's all")
    reply = gehoor_stack.say(who, "yes")
    assert "?" in reply, f"a detractor is offered a follow-up: {reply}"
    reply = gehoor_stack.say(who, "yes please")
    if not re.search(r"GH-[0-9A-Z]{4,}", reply):
        reply = gehoor_stack.say(who, "jan.klant@example.com")
    story = gehoor_stack.story(who)
    assert story.consent_to_contact is True and story.contact == "jan.klant@example.com"
    assert story.handoff_requested is False
    assert_open_follow_up(story, story_page(review, story), hours=24)  # score 5: detractor SLA


def test_staff_decision_survives_a_later_capture(gehoor_stack, review):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from bot.store.models import Story

    who = sender("nl-fu-later")
    gehoor_stack.say(who, "hoi")
    gehoor_stack.say(who, "ik wil een medewerker spreken")
    story = gehoor_stack.story(who)
    assert story.follow_up_state == "open"
    engine = create_engine(gehoor_stack.db_url)
    with Session(engine) as s:  # staff closes it before the customer writes again
        s.get(Story, story.id).follow_up_state = "resolved"
        s.commit()
    gehoor_stack.say(who, "bel me op 06 12345678")
    deadline = time.monotonic() + 10
    later = gehoor_stack.story(who)
    while later.contact is None and time.monotonic() < deadline:  # the write lands a moment later
        time.sleep(0.2)
        later = gehoor_stack.story(who)
    assert later.contact == "+31612345678", "the later capture was stored"
    assert later.follow_up_state == "resolved"
    engine.dispose()
