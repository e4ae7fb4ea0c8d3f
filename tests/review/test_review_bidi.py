"""Right-to-left override characters in customer text cannot reorder the page or an export:
every piece of customer text with bidirectional controls or right-to-left letters is isolated."""
from __future__ import annotations

import re

from bot.store.models import Note, Story, StoryTag

TRICK = "Klant\u202egnp.exe"
# FSI … PDI around the text, or a <bdi dir="auto"> element (which may hold our own <mark>s)
ISOLATED = re.compile("(?:\u2068[^\u2069<>]*\u202e[^\u2069<>]*\u2069)|(?:<bdi dir=\"auto\">(?:(?!</bdi>).)*</bdi>)", re.S)


def _plant(factory, ids):
    with factory() as s:
        st = s.get(Story, ids["plain"])
        st.summary = f"samenvatting {TRICK}"
        st.channel_metadata = {"page": f"/p/{TRICK}"}
        st.answers = {"reason": f"reden {TRICK}"}
        st.messages[-1].text = f"bericht {TRICK}"
        s.add(Note(story_id=st.id, author="anna@acme.example", text=f"notitie {TRICK}"))
        s.add(StoryTag(story_id=st.id, tag=f"tag{TRICK}"))
        s.commit()


def _assert_isolated(html: str):
    total = html.count("\u202e")
    assert total, "the trick text is not on the page"
    covered = {i for m in ISOLATED.finditer(html) for i in range(m.start(), m.end())}
    bare = [html[max(0, m.start() - 60):m.end() + 20] for m in re.finditer("\u202e", html) if m.start() not in covered]
    assert not bare, bare


def test_story_page_isolates_customer_text(client_for, factory, ids):
    _plant(factory, ids)
    for role in ("viewer", "reviewer"):
        _assert_isolated(client_for(role).get(f"/stories/{ids['plain']}").data.decode())


def test_inbox_isolates_customer_text(client_for, factory, ids):
    _plant(factory, ids)
    _assert_isolated(client_for("reviewer").get("/inbox?q=crasht").data.decode())


def test_csv_export_isolates_cells(client_for, factory, ids):
    _plant(factory, ids)
    body = client_for("reviewer").get("/export?format=csv&q=crasht").data.decode()
    assert body.count("\u202e") and body.count("\u202e") == len(re.findall("\u2068[^\u2069]*\u202e[^\u2069]*\u2069", body))
