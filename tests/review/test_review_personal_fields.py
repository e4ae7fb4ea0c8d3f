"""Viewers see personal fields masked in every output: story page, inbox, CSV, JSON Lines
(the field table is bot.store.redact.PERSONAL_FIELDS)."""
from __future__ import annotations

import json


from bot.store.models import Story

SENDER = "twilio:whatsapp:+31687654321"


def _personal_story(factory, ids):
    with factory() as s:
        st = s.get(Story, ids["pii"])
        st.conversation_id = SENDER
        st.channel_metadata = {"page": "/retour", "name": "Piet Jansen", "order_ref": "B-55501", "message_sid": "SMabc123"}
        s.commit()


SECRETS = ("31687654321", "Piet Jansen", "B-55501", "SMabc123", "piet.jansen@example.org", "+31612345678")


def test_viewer_exports_mask_personal_fields(client_for, factory, ids):
    _personal_story(factory, ids)
    viewer = client_for("viewer")
    for fmt in ("jsonl", "csv"):
        body = viewer.get(f"/export?format={fmt}&q=zeppelinhangar").data.decode()
        assert "zeppelinhangar" in body
        for secret in SECRETS:
            assert secret not in body, (fmt, secret)
    rec = json.loads(viewer.get("/export?format=jsonl&q=zeppelinhangar").data.decode())
    assert rec["conversation_id"].startswith("anon-") and rec["channel_metadata"]["page"] == "/retour"


def test_reviewer_export_keeps_personal_fields(client_for, factory, ids):
    _personal_story(factory, ids)
    rec = json.loads(client_for("reviewer").get("/export?format=jsonl&q=zeppelinhangar").data.decode())
    assert rec["conversation_id"] == SENDER and rec["channel_metadata"]["order_ref"] == "B-55501"


def test_viewer_story_page_masks_metadata(client_for, factory, ids):
    _personal_story(factory, ids)
    html = client_for("viewer").get(f"/stories/{ids['pii']}").data.decode()
    for secret in SECRETS:
        assert secret not in html, secret
    assert "/retour" in html
    html = client_for("reviewer").get(f"/stories/{ids['pii']}").data.decode()
    assert "B-55501" in html
