"""The delivery log in the review app: admins read it, nobody else; nothing can be changed."""
from __future__ import annotations

from sqlalchemy import select

from bot.notify.worker import NotifyWorker
from bot.review import accounts
from bot.store.models import NotificationJob
from notify_helpers import SECRET, Clock
from test_notify_delivery import detractor_handoff, write_story

PASSWORD = "correct horse battery"


def test_admins_read_the_delivery_log(store, receivers, alerts_file, tmp_path, monkeypatch):
    from datetime import datetime

    from bot.review.app import create_app

    monkeypatch.setenv("GEHOOR_TEST_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("GEHOOR_REVIEW_ADMIN_TOTP", raising=False)
    ok, failing = receivers(secret=SECRET), receivers(script=[503] * 5)
    alerts_file({"destinations": {"crm": {"type": "webhook", "url": ok.url, "secret_env": "GEHOOR_TEST_WEBHOOK_SECRET"},
                                  "ops-slack": {"type": "slack", "url": failing.url}},
                 "rules": [{"events": ["story.created"], "to": ["crm", "ops-slack"]}]})
    story_id = write_story(store, detractor_handoff(), tmp_path)
    NotifyWorker(store.factory, clock=Clock(datetime.utcnow())).run_once()
    with store.factory() as s:
        accounts.add_staff(s, "ada@acme.example", "admin", PASSWORD, actor="test")
        accounts.add_staff(s, "rob@acme.example", "reviewer", PASSWORD, actor="test")
        s.commit()

    app = create_app(store.url, testing=True)
    try:
        reviewer = app.test_client()
        reviewer.post("/login", data={"email": "rob@acme.example", "password": PASSWORD})
        assert reviewer.get("/notifications").status_code == 403
        assert app.test_client().get("/notifications").status_code in (302, 401, 403)  # anonymous

        admin = app.test_client()
        admin.post("/login", data={"email": "ada@acme.example", "password": PASSWORD})
        page = admin.get("/notifications")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert html.count("story.created") >= 2 and f'href="/stories/{story_id}"' in html
        assert "delivered" in html and "HTTP 503" in html and "pending" in html
        failed_only = admin.get("/notifications?state=pending&destination=ops-slack").get_data(as_text=True)
        assert "ops-slack" in failed_only and "(webhook)" not in failed_only
        assert admin.post("/notifications").status_code in (400, 405)  # read-only
    finally:
        app.extensions["gehoor_engine"].dispose()
    with store.factory() as s:
        assert len(s.execute(select(NotificationJob)).scalars().all()) == 2
