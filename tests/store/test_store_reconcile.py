"""Reconcile stories from Rasa's SQL tracker store (`events` table)."""
from __future__ import annotations

import asyncio
import warnings

import pytest
from sqlalchemy import func, select

from bot.store.capture import snapshot_from_events
from bot.store.models import Message, Story
from bot.store.reconcile import reconcile
from store_helpers import Conversation, write_rasa_events


def _rasa_tracker_store(path):
    """A real Rasa SQLTrackerStore on SQLite (skipped when Rasa is not installed)."""
    pytest.importorskip("rasa", reason="Rasa not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.shared.core.domain import Domain

        slots = ["score", "language", "answer_reason", "story_status", "end_reason", "summary", "summary_confirmed"]
        types = {"score": "float", "summary_confirmed": "bool"}
        yaml = 'version: "3.1"\nslots:\n' + "".join(
            f"  {s}:\n    type: {types.get(s, 'text')}\n    influence_conversation: false\n    mappings: [{{type: custom}}]\n"
            for s in slots)
        domain = Domain.from_yaml(yaml)
        return domain, SQLTrackerStore(domain, dialect="sqlite", db=str(path))


def test_reconcile_from_real_rasa_tracker_store(store, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        domain, tracker_store = _rasa_tracker_store(tmp_path / "rasa-tracker.db")
        from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        def session(tracker, customer_texts, status=None):
            tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                        ActionExecuted("action_listen")], domain)
            for i, t in enumerate(customer_texts):
                tracker.update_with_events([
                    BotUttered(f"vraag {i}"),
                    UserUttered(t, input_channel="rest", metadata={"page": "/p", "model_id": "m1"}),
                    SlotSet("language", "nl"),
                ], domain)
            if status:
                tracker.update_with_events([SlotSet("score", 8.0), SlotSet("story_status", status),
                                            SlotSet("end_reason", "completed")], domain)

        t1 = DialogueStateTracker("alice", domain.slots)
        session(t1, ["8", "prima service"], status="complete")
        session(t1, ["weer een vraag", "over mijn factuur", "die klopt niet"])
        t2 = DialogueStateTracker("bob", domain.slots)
        session(t2, ["3", "pakket kwijt"])
        t3 = DialogueStateTracker("carol", domain.slots)  # session without customer messages
        t3.update_with_events([ActionExecuted("action_session_start"), SessionStarted(), BotUttered("hoi")], domain)
        for t in (t1, t2, t3):
            asyncio.run(tracker_store.save(t))

    tracker_url = f"sqlite:///{tmp_path / 'rasa-tracker.db'}"
    # the store already has bob's story, but only its first turn (e.g. the DB went down afterwards)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bob_events = [e.as_dict() for e in t2.events]
    first_turn = snapshot_from_events("bob", bob_events[:6])
    store.repo.save(first_turn)

    report = reconcile(store.factory, tracker_url)
    assert report.tracker_found and report.senders == 3
    assert report.created == 2 and report.updated == 1 and report.empty_sessions == 1
    with store.session() as s:
        stories = s.execute(select(Story).order_by(Story.conversation_id, Story.session_started_at)).scalars().all()
        assert [(st.conversation_id, st.customer_text) for st in stories] == [
            ("alice", "8\nprima service"),
            ("alice", "weer een vraag\nover mijn factuur\ndie klopt niet"),
            ("bob", "3\npakket kwijt"),
        ]
        assert stories[0].status == "complete" and stories[0].score == 8
        assert stories[1].status == "in_progress" and stories[1].score is None
        assert stories[2].channel == "rest" and stories[2].channel_metadata == {"page": "/p"}
        assert [m.role for m in stories[1].messages] == ["bot", "customer"] * 3

    again = reconcile(store.factory, tracker_url)
    assert again.created == 0 and again.updated == 0 and again.unchanged == 3
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(Story)).scalar() == 3
        assert s.execute(select(func.count()).select_from(Message)).scalar() == 4 + 6 + 4


def test_reconcile_rasa_format_events_table_in_store_database(store):
    conv = Conversation("dave").typical()
    write_rasa_events(store.tracker_url, "dave", conv.events)
    write_rasa_events(store.tracker_url, "erin", [{"event": "user", "text": "geen sessie", "timestamp": 1.7e9}])
    report = reconcile(store.factory, store.tracker_url)
    assert report.created == 2
    ref = snapshot_from_events("dave", conv.events).reference
    story = store.repo.get_by_reference(ref)
    assert story.status == "complete" and len(story.messages) == 11


def test_reconcile_only_selected_senders(store):
    for sender in ("s1", "s2"):
        write_rasa_events(store.tracker_url, sender, Conversation(sender).session_start().user("hoi").events)
    report = reconcile(store.factory, store.tracker_url, sender_ids=["s2"])
    assert report.senders == 1 and report.created == 1


def test_reconcile_without_tracker_database(store, tmp_path):
    missing = tmp_path / "nope" / "tracker.db"
    report = reconcile(store.factory, f"sqlite:///{missing}")
    assert report.tracker_found is False and not missing.exists()
