"""Glue between Rasa's tracker and bot/listening: language, state, texts, persistence.

Actions stay thin: they read the tracker, ask bot.listening what to say, and store the
story through bot.store. Nothing here decides *what* to ask.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import config
from bot.listening import ConversationState, detect_language, text
from bot.listening.language import opening_language

from actions import story_sink

logger = logging.getLogger(__name__)

# Perspective dimension -> the form slot holding the customer's answer.
DIMENSION_SLOTS: Dict[str, str] = {
    "reason": "answer_reason",
    "situation": "answer_situation",
    "expectation": "answer_expectation",
    "impact": "answer_impact",
    "priority": "answer_priority",
    "in_our_place": "answer_in_our_place",
    "blind_spot": "answer_blind_spot",
}
SLOT_DIMENSIONS = {slot: dim for dim, slot in DIMENSION_SLOTS.items()}

# "/intent{...}" typed by a customer: Rasa skips NLU for it; we never treat it as an answer.
INTENT_INJECTION = re.compile(r"^\s*/\w")


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def latest_confidence(tracker: Tracker) -> float:
    """The classifier's confidence in the latest message's intent (0 when unknown)."""
    return float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)


def is_injection(value: Any) -> bool:
    return isinstance(value, str) and bool(INTENT_INJECTION.match(value))


def language_hint(tracker: Tracker) -> Optional[str]:
    """A channel's language hint (the widget sends its UI and browser language)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    for key in ("language", "ui_language", "browser_language"):
        value = str(metadata.get(key) or "")[:2].lower()
        if value in ("nl", "en"):
            return value
    return None


def language_of(tracker: Tracker) -> str:
    """The language to answer in: follows the customer's latest message. The first
    message decides by the channel's hint, a greeting's language or the default."""
    current = tracker.get_slot("language")
    previous = current or language_hint(tracker) or config.default_language()
    message = latest_text(tracker)
    if not message or is_injection(message):
        return previous
    if current is None:
        return opening_language(message, language_hint(tracker))
    return detect_language(message, previous=previous)


def language_events(tracker: Tracker, language: str) -> List[Dict[str, Any]]:
    return [] if tracker.get_slot("language") == language else [SlotSet("language", language)]


def say(dispatcher: CollectingDispatcher, key: str, language: str, variant: int = 0,
        buttons: Optional[List[Dict[str, str]]] = None, **kwargs: Any) -> str:
    message = text(key, language, variant=variant, company=config.company_name(), **kwargs)
    dispatcher.utter_message(text=message, buttons=buttons or [])
    return message


def score_buttons() -> List[Dict[str, str]]:
    # Payloads are plain text (never "/intent"), so a button press goes through NLU and
    # the same validation as a typed answer.
    return [{"title": str(n), "payload": str(n)} for n in range(11)]


def yes_no_buttons(language: str) -> List[Dict[str, str]]:
    yes, no = ("Ja", "Nee") if language == "nl" else ("Yes", "No")
    return [{"title": yes, "payload": yes.lower()}, {"title": no, "payload": no.lower()}]


def answers(tracker: Tracker) -> Dict[str, str]:
    result = {}
    for dim, slot in DIMENSION_SLOTS.items():
        value = tracker.get_slot(slot)
        if value:
            result[dim] = value
    return result


def conversation_state(tracker: Tracker, language: Optional[str] = None) -> ConversationState:
    score = tracker.get_slot("score")
    return ConversationState(
        language=language or tracker.get_slot("language") or config.default_language(),
        score=int(score) if score is not None else None,
        answers=answers(tracker),
        asked=list(tracker.get_slot("followups_asked") or []),
        opened_with_story=bool(tracker.get_slot("opened_with_story")),
        done=bool(tracker.get_slot("followups_done")),
        max_followups=config.max_followups(),
    )


def turn_index(tracker: Tracker) -> int:
    """How many customer messages this session has had: drives phrasing variation."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            count += 1
    return count


async def persist(tracker: Tracker, dispatcher: CollectingDispatcher,
                  events: List[Dict[str, Any]]) -> Optional[str]:
    """Store the story so far: the tracker's events, plus this action's slot changes and messages.

    Returns the story's reference code. Never raises: a storage failure must not break the
    conversation (the store's outbox keeps the write).
    """
    now = time.time()
    pending = [dict(e, timestamp=e.get("timestamp") or now) for e in events if e.get("event") == "slot"]
    pending += [
        {"event": "bot", "text": m.get("text") or "", "timestamp": now}
        for m in dispatcher.messages
        if m.get("text")
    ]
    try:
        return await story_sink.save(tracker.sender_id, list(tracker.events) + pending)
    except Exception:  # noqa: BLE001 — logged; the conversation goes on
        logger.exception("could not store story for %s", tracker.sender_id)
        return None
