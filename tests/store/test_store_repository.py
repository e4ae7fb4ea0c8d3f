"""StoryRepository.save (idempotent upsert), sweeper, migrations and full-text search —
on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, inspect, select, text

from bot.store.capture import reference_for, snapshot_from_events
from bot.store.db import current_revision, migrate
from bot.store.models import Message, Note, Story, StoryAspect, StoryTag
from bot.store.repository import sweep_idle
from bot.store.search import fulltext_filter
from store_helpers import Conversation


def _messages(store, story_id):
    with store.session() as s:
        return [(m.seq, m.role, m.text) for m in s.execute(
            select(Message).where(Message.story_id == story_id).order_by(Message.seq)).scalars()]


def _count(store, model):
    with store.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar()


def test_migrate_is_idempotent_and_creates_schema(store):
    from alembic.script import ScriptDirectory

    from bot.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head >= "0003"
    assert migrate(store.engine) == head
    assert migrate(store.url) == head
    assert current_revision(store.engine) == head
    tables = set(inspect(store.engine).get_table_names())
    assert {"stories", "messages", "story_aspects", "story_tags", "notes", "staff_users", "audit_log"} <= tables
    if store.dialect == "sqlite":
        with store.engine.connect() as c:
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_concurrent_migrate(store):
    errors = []

    def run():
        try:
            migrate(store.url)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_save_is_idempotent_turn_by_turn(store):
    conv = Conversation("c1").typical()
    events = conv.events
    results = []
    # the action server saves after every turn: growing prefixes of the same session
    for end in range(4, len(events) + 1):
        snap = snapshot_from_events("c1", events[:end])
        if snap is not None:
            results.append(store.repo.save(snap))
    # and again (retries)
    again = store.repo.save(snapshot_from_events("c1", events))
    assert again.created is False and again.messages_added == 0
    assert len({r.story_id for r in results}) == 1
    assert _count(store, Story) == 1
    msgs = _messages(store, results[0].story_id)
    snap = snapshot_from_events("c1", events)
    assert msgs == [(i, m.role, m.text) for i, m in enumerate(snap.messages)]
    with store.session() as s:
        story = s.execute(select(Story)).scalar_one()
        assert story.reference == snap.reference == reference_for("c1", snap.session_started_at)
        assert story.status == "complete" and story.score == 4 and story.contact == "jan@example.com"
        assert story.channel_metadata == {"page": "/bestelling"}
        assert "drie keer bellen" in story.customer_text and "Acme" not in story.customer_text
        assert story.review_status == "new"
        assert story.follow_up_state == "open", "the customer agreed to be contacted"


def test_shorter_retry_never_deletes_or_reorders(store):
    events = Conversation("c2").typical().events
    full = snapshot_from_events("c2", events)
    r = store.repo.save(full)
    short = snapshot_from_events("c2", events[:8])
    assert len(short.messages) < len(full.messages)
    r2 = store.repo.save(short)
    assert r2.fields_updated is False and r2.messages_added == 0
    assert _messages(store, r.story_id) == [(i, m.role, m.text) for i, m in enumerate(full.messages)]
    with store.session() as s:
        story = s.get(Story, r.story_id)
        assert story.status == "complete"  # the older snapshot (in_progress) did not win


def test_out_of_order_retry_then_newer(store):
    events = Conversation("c3").typical().events
    mid = snapshot_from_events("c3", events[:12])
    full = snapshot_from_events("c3", events)
    store.repo.save(full)
    store.repo.save(mid)
    store.repo.save(full)
    assert _count(store, Message) == len(full.messages)


def test_new_rasa_session_is_a_new_story(store):
    conv = Conversation("c4").session_start().bot("hoi").user("eerste keer")
    store.repo.save(snapshot_from_events("c4", conv.events))
    conv.session_start().bot("hoi").user("tweede keer")
    r2 = store.repo.save(snapshot_from_events("c4", conv.events))
    assert r2.created is True
    with store.session() as s:
        stories = s.execute(select(Story).order_by(Story.id)).scalars().all()
        assert [st.customer_text for st in stories] == ["eerste keer", "tweede keer"]
        assert stories[0].reference != stories[1].reference


def test_staff_data_untouched(store):
    events = Conversation("c5").typical().events
    r = store.repo.save(snapshot_from_events("c5", events[:10]))
    with store.session() as s:
        story = s.get(Story, r.story_id)
        story.review_status = "in_follow_up"
        story.assignee = "anna@acme.example"
        story.follow_up_state = "requested"
        story.follow_up_note = "bellen"
        s.add(StoryTag(story_id=story.id, tag="urgent"))
        s.add(Note(story_id=story.id, author="anna", text="Klant teruggebeld"))
        s.commit()
    store.repo.save(snapshot_from_events("c5", events))
    with store.session() as s:
        story = s.get(Story, r.story_id)
        assert (story.review_status, story.assignee, story.follow_up_state, story.follow_up_note) == (
            "in_follow_up", "anna@acme.example", "requested", "bellen")
        assert [t.tag for t in story.tags] == ["urgent"] and len(story.notes) == 1
        assert story.status == "complete"


def test_story_aspects_kept_in_sync(store, monkeypatch):
    import sys
    import types

    fake = types.ModuleType("bot.listening")
    result = {"aspects": ["delivery"]}
    fake.analyze_story = lambda texts, lang: dict(result)
    monkeypatch.setitem(sys.modules, "bot.listening", fake)
    conv = Conversation("c6").session_start().user("pakket te laat")
    r = store.repo.save(snapshot_from_events("c6", conv.events))
    result["aspects"] = ["price_billing", "waiting_time"]
    conv.bot("en verder?").user("en te duur, en lang wachten")
    store.repo.save(snapshot_from_events("c6", conv.events))
    with store.session() as s:
        rows = sorted(a for (a,) in s.execute(select(StoryAspect.aspect).where(StoryAspect.story_id == r.story_id)))
        assert rows == ["price_billing", "waiting_time"]
        assert s.get(Story, r.story_id).aspects == ["price_billing", "waiting_time"]


def test_reference_collision_gets_long_reference(store):
    a = snapshot_from_events("a", Conversation("a").session_start().user("hoi").events)
    b = snapshot_from_events("b", Conversation("b").session_start().user("hallo").events)
    b.reference = a.reference  # force a collision of the short code
    ra = store.repo.save(a)
    rb = store.repo.save(b)
    assert rb.reference.startswith(ra.reference + "-") and rb.story_id != ra.story_id
    assert store.repo.get_by_reference(rb.reference).conversation_id == "b"
    assert store.repo.get_by_reference(ra.reference.lower()).conversation_id == "a"


def test_sweeper_marks_idle_stories_abandoned(store):
    conv = Conversation("idle").session_start().bot("score?").user("7").bot("waarom?")
    r = store.repo.save(snapshot_from_events("idle", conv.events))
    active = Conversation("busy", t0=conv.t + 3600).session_start().user("ik ben nog bezig")
    store.repo.save(snapshot_from_events("busy", active.events))
    done = Conversation("done").typical()
    store.repo.save(snapshot_from_events("done", done.events))
    with store.session() as s:
        last = s.get(Story, r.story_id).last_customer_at
        now = last + timedelta(minutes=45)
        assert sweep_idle(s, idle_minutes=30, now=now) == 1
        s.commit()
        story = s.get(Story, r.story_id)
        assert (story.status, story.end_reason, story.ended_at) == ("abandoned", "idle", last)
        assert _messages(store, r.story_id)  # everything kept
        assert sweep_idle(s, idle_minutes=30, now=now) == 0
    # the customer comes back in the same Rasa session: the story continues
    conv.user("sorry, was even weg")
    store.repo.save(snapshot_from_events("idle", conv.events))
    with store.session() as s:
        assert s.get(Story, r.story_id).status == "in_progress"


def test_sweeper_uses_env_default(store, monkeypatch):
    monkeypatch.setenv("GEHOOR_IDLE_MINUTES", "10")
    conv = Conversation("idle2").session_start().user("7")
    r = store.repo.save(snapshot_from_events("idle2", conv.events))
    with store.session() as s:
        last = s.get(Story, r.story_id).last_customer_at
        assert sweep_idle(s, now=last + timedelta(minutes=9)) == 0
        assert sweep_idle(s, now=last + timedelta(minutes=11)) == 1


def test_fulltext_search(store):
    texts = {
        "a": "Mijn pakket is wéér niet bezorgd!",
        "b": "honestly the app is fine but your delivery guys are rude",
        "c": "De factuur klopte niet, drie keer gebeld",
    }
    for sender, t in texts.items():
        store.repo.save(snapshot_from_events(sender, Conversation(sender).session_start().bot("?").user(t).events))

    def search(q, extra=None):
        with store.session() as s:
            stmt = select(Story.conversation_id)
            if extra is not None:
                stmt = stmt.where(extra)
            stmt = fulltext_filter(stmt, q, store.engine)
            return sorted(s.execute(stmt).scalars())

    assert search("pakket") == ["a"]
    assert search("bezorg") == ["a"]  # prefix
    assert search("DELIVERY rude") == ["b"]  # AND, case-insensitive
    assert search("delivery factuur") == []
    assert search("factuur", Story.channel == "socketio") == ["c"]  # combines with other filters
    assert search("   ") == ["a", "b", "c"]  # blank: no filter
    assert search('"; DROP TABLE stories; --') == []  # query syntax is neutralised
    if store.dialect == "sqlite":
        assert search("weer") == ["a"]  # diacritics folded by FTS5
    # kept in sync on update and delete
    conv = Conversation("a").session_start().bot("?").user(texts["a"]).bot("en?").user("ook de koerier was boos")
    store.repo.save(snapshot_from_events("a", conv.events))
    assert search("koerier") == ["a"]
    with store.session() as s:
        s.delete(s.execute(select(Story).where(Story.conversation_id == "a")).scalar_one())
        s.commit()
    assert search("koerier") == []


def test_fulltext_query_uses_index_on_postgresql(store):
    if store.dialect != "postgresql":
        return
    from bot.store.search import fulltext_condition

    stmt = select(Story.id).where(fulltext_condition("pakket", "postgresql"))
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as c:
        c.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in c.execute(text("EXPLAIN " + sql)))
    assert "ix_stories_customer_text_tsv" in plan
