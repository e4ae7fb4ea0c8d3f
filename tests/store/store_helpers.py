"""Builders of Rasa-format tracker events (the JSON of `tracker.events` / events.data)."""
from __future__ import annotations

import json
from typing import Any, Optional

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine

T0 = 1_795_000_000.0  # 2026-11-18


class Conversation:
    """Rasa events of one sender, with increasing timestamps."""

    def __init__(self, sender: str = "conv-1", t0: float = T0, channel: Optional[str] = "socketio",
                 metadata: Optional[dict] = None):
        self.sender = sender
        self.t = t0
        self.channel = channel
        self.metadata = metadata if metadata is not None else {"page": "/bestelling", "model_id": "abc123",
                                                                "assistant_id": "gehoor"}
        self.events: list = []

    def _tick(self, dt: float = 1.0) -> float:
        self.t += dt
        return self.t

    def session_start(self) -> "Conversation":
        self.events.append({"event": "action", "timestamp": self._tick(), "name": "action_session_start",
                            "policy": None, "confidence": None})
        self.events.append({"event": "session_started", "timestamp": self._tick(0.001)})
        self.events.append({"event": "action", "timestamp": self._tick(0.001), "name": "action_listen"})
        return self

    def user(self, text: Any, dt: float = 5.0, **extra) -> "Conversation":
        ev = {"event": "user", "timestamp": self._tick(dt), "text": text,
              "parse_data": {"intent": {"name": "inform", "confidence": 0.9}, "entities": [], "text": text},
              "input_channel": self.channel, "message_id": f"m{len(self.events)}", "metadata": dict(self.metadata)}
        ev.update(extra)
        self.events.append(ev)
        return self

    def bot(self, text: Optional[str], dt: float = 0.5) -> "Conversation":
        self.events.append({"event": "bot", "timestamp": self._tick(dt), "text": text, "data": {}, "metadata": {}})
        return self

    def slot(self, name: str, value: Any) -> "Conversation":
        self.events.append({"event": "slot", "timestamp": self._tick(0.01), "name": name, "value": value})
        return self

    def typical(self) -> "Conversation":
        """A full Dutch conversation: score, reason, one follow-up, confirmed summary, contact."""
        (self.session_start()
         .bot("Hoi! Ik ben de feedbackbot van Acme. Hoe waarschijnlijk is het dat je ons aanbeveelt (0-10)?")
         .user("4").slot("score_answer", "4").slot("score", 4.0).slot("language", "nl")
         .bot("Dank je. Wat is de belangrijkste reden voor je 4?")
         .user("Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen")
         .slot("answer_reason", "Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen")
         .bot("Drie keer bellen voor één factuur. Wat had je verwacht?")
         .user("Dat het de eerste keer geregeld zou worden")
         .slot("answer_expectation", "Dat het de eerste keer geregeld zou worden")
         .bot("Klopt het dat je factuur niet klopte en je drie keer moest bellen?")
         .user("ja").slot("summary", "je factuur klopte niet en je moest drie keer bellen")
         .slot("summary_feedback", "ja").slot("summary_confirmed", True)
         .bot("Wil je dat iemand contact opneemt?")
         .user("ja, jan@example.com").slot("contact_consent", True)
         .slot("contact_details", "jan@example.com").slot("contact_kind", "email")
         .slot("story_status", "complete").slot("end_reason", "completed")
         .bot("Dank je wel! Je referentie is ..."))
        return self


def create_rasa_events_table(url: str):
    """The `events` table exactly as Rasa's SQLTrackerStore creates it."""
    engine = create_engine(url, future=True)
    md = MetaData()
    table = Table(
        "events", md,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False, index=True),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("intent_name", String(255)),
        Column("action_name", String(255)),
        Column("data", Text),
    )
    md.create_all(engine)
    return engine, table


def write_rasa_events(url: str, sender: str, events: list) -> None:
    engine, table = create_rasa_events_table(url)
    with engine.begin() as conn:
        for ev in events:
            conn.execute(table.insert().values(
                sender_id=sender, type_name=ev["event"], timestamp=ev.get("timestamp"),
                intent_name=(ev.get("parse_data") or {}).get("intent", {}).get("name"),
                action_name=ev.get("name"), data=json.dumps(ev)))
    engine.dispose()


def count_events(url: str, sender: Optional[str] = None) -> int:
    engine, table = create_rasa_events_table(url)
    from sqlalchemy import func, select

    with engine.connect() as conn:
        stmt = select(func.count()).select_from(table)
        if sender:
            stmt = stmt.where(table.c.sender_id == sender)
        n = conn.execute(stmt).scalar()
    engine.dispose()
    return n
