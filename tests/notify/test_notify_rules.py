"""The alerts file: what it means, and a clear answer when it makes no sense."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.notify import rules, signing
from bot.store.models import NotificationJob, Story
from test_notify_delivery import detractor_handoff, write_story

GOOD = {
    "destinations": {"crm": {"type": "webhook", "url": "https://crm.example/h", "secret_env": "X"},
                     "mail": {"type": "email", "to": ["cx@acme.example"]}},
    "rules": [{"events": ["story.created"], "bands": ["detractor"], "aspects": ["delivery"], "to": ["mail"]},
              {"moments": ["handoff"], "to": ["crm", "mail"]}],
}


def test_rules_match_on_event_band_aspect_and_moment():
    alerts = rules.parse(GOOD)
    assert alerts.destinations_for("story.created", [], "detractor", ["delivery"]) == ["mail"]
    assert alerts.destinations_for("story.created", [], "detractor", ["price"]) == []
    assert alerts.destinations_for("story.created", [], "promoter", ["delivery"]) == []
    assert alerts.destinations_for("story.updated", ["handoff"], "promoter", []) == ["crm", "mail"]
    assert alerts.destinations_for("story.updated", ["consent"], "detractor", ["delivery"]) == []
    assert alerts.retry.delay_after(1) == 30 and alerts.retry.delay_after(3) == 120
    assert alerts.retry.delay_after(30) == 6 * 3600


@pytest.mark.parametrize("broken, message", [
    ({"destinations": {"x": {"type": "pager"}}}, "type must be one of webhook, slack, email"),
    ({"destinations": {"x": {"type": "webhook", "url": "https://h"}}}, "a webhook needs `secret`"),
    ({"destinations": {"x": {"type": "email"}}}, "needs `to`"),
    ({"destinations": {}, "rules": [{"to": ["nobody"]}]}, "`to` must name destinations (nobody)"),
    ({"destinations": GOOD["destinations"], "rules": [{"events": ["story.deleted"], "to": ["crm"]}]},
     "unknown story.deleted"),
    ({"destinations": GOOD["destinations"], "rules": [{"bands": ["angry"], "to": ["crm"]}]}, "unknown angry"),
    (["not", "a", "mapping"], "expected a mapping"),
])
def test_a_broken_file_names_the_problem(broken, message):
    with pytest.raises(rules.AlertsFileError) as err:
        rules.parse(broken, "alerts file a.yml")
    assert message in str(err.value) and "a.yml" in str(err.value)


def test_a_broken_file_never_costs_a_story(store, tmp_path, monkeypatch, caplog):
    path = tmp_path / "alerts.yml"
    path.write_text("destinations: [unclosed", encoding="utf-8")
    monkeypatch.setenv("GEHOOR_ALERTS_FILE", str(path))
    with caplog.at_level(logging.ERROR, logger="bot.notify.rules"):
        story_id = write_story(store, detractor_handoff(), tmp_path)
    assert "not valid YAML" in caplog.text
    with store.factory() as s:
        assert s.get(Story, story_id) is not None
        assert s.execute(select(NotificationJob)).first() is None


def test_signature_scheme():
    body = b'{"type":"story.created"}'
    header = signing.header_value("s3cret", body, timestamp=1_733_320_000)
    assert header.startswith("t=1733320000,v1=") and len(header.split("v1=")[1]) == 64
    assert signing.verify(header, body, "s3cret", now=1_733_320_100)
    assert not signing.verify(header, body, "other", now=1_733_320_100)
    assert not signing.verify(header, body + b" ", "s3cret", now=1_733_320_100)
    assert not signing.verify(header, body, "s3cret", now=1_733_320_000 + 301)  # replayed too late
    assert not signing.verify("garbage", body, "s3cret")
