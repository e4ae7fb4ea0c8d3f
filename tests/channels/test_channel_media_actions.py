"""What the bot does with a photo, sticker or voice note the channels pass on
(``/nlu_fallback{...}`` with ``media`` metadata): it says it reads text, and never stores
the message as an answer, however often it comes (action_clarify)."""
from __future__ import annotations

import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.flow import ActionClarify
from bot.channels import common
from bot.listening import catalogue

LIKE = [common.Media("like", {"sticker_id": 369239263222822})]
PHOTO = [common.Media("photo", {"file_id": "AgACAgQAAxkBAAIBR2VhY2hvdG8tbGFyZ2UAAp-wMRtBeA"})]


def tracker(text: str, metadata: dict, slots: dict) -> Tracker:
    now = time.time()
    latest = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 1.0}, "entities": [],
              "metadata": metadata}
    events = [{"event": "session_started", "timestamp": now - 5},
              {"event": "action", "name": "action_listen", "timestamp": now - 5},
              {"event": "user", "text": text, "timestamp": now, "parse_data": latest, "metadata": metadata}]
    return Tracker("messenger:1", {"language": "nl", **slots}, latest, events, False, None,
                   {"name": "feedback_form"}, "action_listen")


def said(dispatcher: CollectingDispatcher) -> list:
    return [m["text"] for m in dispatcher.messages]


@pytest.mark.parametrize("clarified", [None, "score_answer"], ids=["first", "again"])
def test_like_sticker_at_the_score_question_is_no_score(clarified):
    text = common.media_text(LIKE)
    dispatcher = CollectingDispatcher()
    events = ActionClarify().respond(dispatcher, tracker(text, common.media_metadata(LIKE),
                                                         {"requested_slot": "score_answer", "clarified_slot": clarified}), "nl")
    assert events == [], "no score, no score_answer, no slot at all"
    assert said(dispatcher)[0] in catalogue.variants("text_only", "nl")


@pytest.mark.parametrize("slot", ["answer_reason", "answer_impact", "correction", "contact_details"])
def test_photo_is_never_an_answer_even_after_a_clarification(slot):
    text = common.media_text(PHOTO)
    dispatcher = CollectingDispatcher()
    events = ActionClarify().respond(dispatcher, tracker(text, common.media_metadata(PHOTO),
                                                         {"requested_slot": slot, "clarified_slot": slot}), "en")
    assert events == []
    assert said(dispatcher)[0] in catalogue.variants("text_only", "en")


def test_twilio_media_metadata_is_recognised_too():
    text = '/nlu_fallback{"received": "image/jpeg", "message_sid": "MM9c8b"}'
    dispatcher = CollectingDispatcher()
    events = ActionClarify().respond(dispatcher, tracker(text, {"media": [{"content_type": "image/jpeg"}]},
                                                         {"requested_slot": "answer_reason",
                                                          "clarified_slot": "answer_reason"}), "nl")
    assert events == []


def test_gibberish_text_is_still_clarified_once_then_accepted():
    dispatcher = CollectingDispatcher()
    events = ActionClarify().respond(dispatcher, tracker("qwx zzv", {}, {"requested_slot": "answer_reason",
                                                                        "clarified_slot": "answer_reason"}), "nl")
    assert {"event": "slot", "name": "answer_reason", "value": "qwx zzv", "timestamp": None} in events


def test_media_text_names_what_came_with_its_ids():
    assert common.media_text(PHOTO) == (
        '/nlu_fallback{"received": "photo", "file_id": "AgACAgQAAxkBAAIBR2VhY2hvdG8tbGFyZ2UAAp-wMRtBeA"}')
    two = [common.Media("photo", {"url": "https://a"}), common.Media("photo", {"url": "https://b"})]
    assert common.media_text(two) == '/nlu_fallback{"received": "photo, photo", "url": ["https://a", "https://b"]}'
    assert common.text_or_media("  ", PHOTO) == common.media_text(PHOTO)
    assert common.text_or_media("kapot", PHOTO) == "kapot"
    assert common.text_or_media(None, []) is None


def test_an_edit_is_marked_in_the_stored_transcript():
    from bot.store.capture import snapshot_from_events

    now = time.time()
    events = [{"event": "session_started", "timestamp": now},
              {"event": "user", "text": "6", "timestamp": now + 1, "input_channel": "messenger",
               "metadata": {"message_id": "m_6"}},
              {"event": "bot", "text": "Waarom een 6?", "timestamp": now + 2},
              {"event": "user", "text": "7", "timestamp": now + 3, "input_channel": "messenger",
               "metadata": {"edit_of": "m_6", "num_edit": 1}}]
    snapshot = snapshot_from_events("messenger:1", events)
    assert [(m.role, m.text) for m in snapshot.messages] == [("customer", "6"), ("bot", "Waarom een 6?"),
                                                            ("customer", "✎ 7")]
