"""The role matrix: anonymous / viewer / reviewer / admin × every route of the app (taken from
Flask's URL map, so a new route without a row here fails) and × every export field."""
from __future__ import annotations

import json

import pytest

from bot.store.export import RECORD_FIELDS
from bot.store.redact import PERSONAL_FIELDS
from review_helpers import login

ROLES = ("anonymous", "viewer", "reviewer", "admin")
RANK = {"anonymous": -1, "viewer": 0, "reviewer": 1, "admin": 2}
# endpoint -> who may use it: "public", or the lowest role
ROUTES = {
    "review.index": "viewer",
    "review.account": "viewer",
    "twofactor.setup": "viewer",
    "review.audit_log": "admin",
    "review.dashboard": "viewer",
    "review.export": "viewer",
    "review.follow_ups": "viewer",
    "review.follow_ups_bulk": "reviewer",
    "review.forget": "admin",
    "review.healthz": "public",
    "review.readyz": "public",
    "review.inbox": "viewer",
    "review.login": "public",
    "twofactor.code": "public",
    "review.logout": "viewer",
    "review.staff": "admin",
    "static": "public",
    "review.story": "viewer",
    "review.story_assign": "reviewer",
    "review.story_erase": "admin",
    "review.story_follow_up": "reviewer",
    "review.story_notes": "reviewer",
    "review.story_review": "reviewer",
    "review.story_tags": "reviewer",
    "notifications.delivery_log": "admin",
}
# Harmless form data per endpoint (a wrong confirmation, an unknown op: nothing is changed).
POST_DATA = {"review.story_erase": {"confirm": "not the reference"}, "review.forget": {"contact": "x", "confirm": "no"},
             "review.staff": {"op": "list"}, "review.account": {"current": "wrong"}, "review.login": {},
             "twofactor.setup": {"op": "none"}}


def _rules(app):
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return out


def _url(rule, ids) -> str:
    values = {}
    for arg in rule.arguments:
        if arg == "story_id":
            values[arg] = ids["plain"]
        elif arg == "filename":
            values[arg] = "review.css"
        else:
            pytest.fail(f"route {rule.rule}: no test value for <{arg}>; add one to _url")
    return rule.build(values)[1]


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ROUTES) == set(), "new routes need a row in ROUTES"
    assert set(ROUTES) - endpoints == set(), "ROUTES lists routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, ids, role):
    checked = 0
    for rule, method in _rules(app):
        minimum = ROUTES[rule.endpoint]
        client = app.test_client()
        if role != "anonymous":
            assert login(client, role).status_code == 302
        url = _url(rule, ids)
        resp = client.open(url, method=method, data=POST_DATA.get(rule.endpoint, {}) if method == "POST" else None)
        to_login = resp.status_code == 302 and "/login" in resp.headers.get("Location", "")
        if role != "anonymous" and rule.endpoint == "review.logout":
            to_login = False  # logging out ends on the login page, by design
        where = f"{role} {method} {rule.rule} -> {resp.status_code} {resp.headers.get('Location', '')}"
        if minimum == "public":
            assert resp.status_code != 403 and not (to_login and rule.endpoint not in ("review.login", "twofactor.code")), where
        elif role == "anonymous":
            assert to_login, where
        elif RANK[role] < RANK[minimum]:
            assert resp.status_code == 403, where
        else:
            assert resp.status_code not in (401, 403) and not to_login, where
        checked += 1
    assert checked >= len(ROUTES)


# ---------------------------------------------------------------------------- export fields
# What a viewer's export holds per field, compared with a reviewer's export of the same story.
FIELDS = {field: ("masked" if field in PERSONAL_FIELDS else "as stored") for field in RECORD_FIELDS}
PERSONAL_IN_PII_STORY = {"conversation_id", "contact", "transcript", "answers"}


def test_every_export_field_has_a_rule():
    assert set(FIELDS) == set(RECORD_FIELDS)
    assert {"conversation_id", "contact", "channel_metadata", "transcript", "notes"} <= {
        f for f, how in FIELDS.items() if how == "masked"}


@pytest.mark.parametrize("field", RECORD_FIELDS)
def test_export_field_matrix(client_for, factory, ids, field):
    from bot.store.models import Story

    with factory() as s:
        s.get(Story, ids["pii"]).conversation_id = "twilio:whatsapp:+31612345678"
        s.commit()
    records = {}
    for role in ("viewer", "reviewer", "admin"):
        records[role] = json.loads(client_for(role).get("/export?format=jsonl&q=zeppelinhangar").data.decode())
    assert records["reviewer"][field] == records["admin"][field]
    if FIELDS[field] == "as stored":
        assert records["viewer"][field] == records["reviewer"][field]
    elif field in PERSONAL_IN_PII_STORY:
        assert records["viewer"][field] != records["reviewer"][field]
