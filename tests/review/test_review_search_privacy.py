"""Viewers cannot find a story by the personal data in it, and every search is audited (the query
hashed with a key when it holds personal data)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.store.models import AuditEntry, Story
from review_helpers import story_ids

PERSONAL_QUERIES = ["piet.jansen@example.org", "06-12345678", "0612345678", "+31612345678", "1017 AB", "1017AB",
                    "piet.jansen", "example.org", "12345678"]


@pytest.fixture
def with_postcode(factory, ids):
    with factory() as s:
        st = s.get(Story, ids["pii"])
        st.customer_text = st.customer_text + "\nmy address is 1017 AB Amsterdam"
        s.commit()
    return ids


@pytest.mark.parametrize("query", PERSONAL_QUERIES)
def test_viewer_search_for_personal_data_finds_nothing(client_for, with_postcode, query):
    ids = with_postcode
    if query not in ("0612345678", "+31612345678", "1017AB"):  # written otherwise: not a word of the text
        assert story_ids(client_for("reviewer").get("/inbox", query_string={"q": query}).data.decode()) == [ids["pii"]]
    html = client_for("viewer").get("/inbox", query_string={"q": query}).data.decode()
    assert story_ids(html) == []
    assert "personal data" in html  # the viewer is told why
    body = client_for("viewer").get("/export", query_string={"q": query, "format": "jsonl"}).data.decode()
    assert body == ""


def test_viewer_search_for_ordinary_words_still_works(client_for, ids):
    assert story_ids(client_for("viewer").get("/inbox?q=zeppelinhangar").data.decode()) == [ids["pii"]]


def test_every_search_is_audited_with_a_keyed_hash_for_personal_data(client_for, factory):
    client_for("viewer").get("/inbox?q=zeppelinhangar")
    client_for("reviewer").get("/inbox", query_string={"q": "piet.jansen@example.org"})
    client_for("viewer").get("/export", query_string={"q": "06-12345678", "format": "csv"})
    client_for("admin").get("/dashboard", query_string={"q": "+31612345678"})
    with factory() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action.in_(("search", "export")))).scalars().all()
    dump = json.dumps([[e.target, e.detail] for e in entries])
    for secret in ("piet.jansen", "06-12345678", "12345678"):
        assert secret not in dump, secret
    searches = [e.detail for e in entries if e.action == "search"]
    assert {"query": "zeppelinhangar", "redacted": True} in searches
    hashed = [d for d in searches if "query_hmac" in d]
    assert len(hashed) == 2 and all(len(d["query_hmac"]) == 64 for d in hashed)
    (export,) = [e.detail for e in entries if e.action == "export"]
    assert len(export["filters"]["q_hmac"]) == 64 and export["filters"]["q"] == "[telefoon]"
