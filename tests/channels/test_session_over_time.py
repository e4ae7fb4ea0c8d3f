"""Conversations over time: on Messenger, WhatsApp (Twilio), Telegram and Slack a customer who
answers hours later continues the same session (the same story, the open form at its
question) with a short reminder; the widget and REST expire exactly as stock Rasa does.

Rasa's real MessageProcessor from the trained model; trackers built from Rasa events whose
customer message is N minutes old."""
from __future__ import annotations

import time

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_patches import session_windows
from bot.store.capture import snapshot_from_events

from model_agent import loaded_agent

QUESTION = "What happened?"


@pytest.fixture(scope="module")
def processor():
    session_windows.install()
    return loaded_agent().processor


def tracker_idle_for(processor, minutes: float, sender: str, channel: str) -> DialogueStateTracker:
    """A conversation in the feedback form, its open question asked, the customer's last
    message `minutes` old."""
    then = time.time() - minutes * 60
    events = [
        ActionExecuted("action_session_start", timestamp=then - 5), SessionStarted(timestamp=then - 5),
        ActionExecuted("action_listen", timestamp=then - 4),
        UserUttered("6", {"name": "inform", "confidence": 1.0}, input_channel=channel, timestamp=then),
        ActiveLoop("feedback_form", timestamp=then), SlotSet("score", 6, timestamp=then),
        SlotSet("requested_slot", "answer_reason", timestamp=then),
        BotUttered(f"Thanks. {QUESTION}", timestamp=then + 1),
        ActionExecuted("action_listen", timestamp=then + 1),
    ]
    return DialogueStateTracker.from_events(sender, events, processor.domain.slots)


WIDGET_CASES = [(minutes, sender, channel) for minutes in (1, 59, 61, 180, 25 * 60)
                for sender, channel in (("0f8fad5b-d9cb-469f-a165-70867728950e", "socketio"), ("rest:abc", "rest"))]


@pytest.mark.parametrize("minutes,sender,channel", WIDGET_CASES)
def test_widget_and_rest_expire_as_stock_rasa(processor, minutes, sender, channel):
    tracker = tracker_idle_for(processor, minutes, sender, channel)
    rasas_own = processor._has_session_expired.rasas_own
    assert processor._has_session_expired(tracker) == rasas_own(processor, tracker) == (minutes > 60)


@pytest.mark.parametrize("sender,channel", [("messenger:123", "messenger"), ("twilio:whatsapp:+31612345678", "twilio"),
                                            ("telegram:42", "telegram"), ("slack:U1", "slack")])
def test_asynchronous_channels_keep_the_session_for_24_hours(processor, sender, channel):
    assert not processor._has_session_expired(tracker_idle_for(processor, 5 * 60, sender, channel))  # stock: expired
    assert not processor._has_session_expired(tracker_idle_for(processor, 23.9 * 60, sender, channel))
    assert processor._has_session_expired(tracker_idle_for(processor, 24.1 * 60, sender, channel))


def test_windows_are_configurable(processor, monkeypatch):
    monkeypatch.setenv("GEHOOR_SESSION_HOURS", "6")
    monkeypatch.setenv("GEHOOR_SESSION_HOURS_TWILIO", "48")
    monkeypatch.setenv("GEHOOR_SESSION_MINUTES", "15")
    assert processor._has_session_expired(tracker_idle_for(processor, 7 * 60, "messenger:1", "messenger"))
    assert not processor._has_session_expired(tracker_idle_for(processor, 30 * 60, "twilio:+316", "twilio"))
    assert processor._has_session_expired(tracker_idle_for(processor, 20, "rest:1", "rest"))
    monkeypatch.setenv("GEHOOR_SESSION_HOURS", "soon")
    with pytest.raises(ValueError, match="GEHOOR_SESSION_HOURS must be a number"):
        processor._has_session_expired(tracker_idle_for(processor, 1, "telegram:1", "telegram"))


@pytest.mark.asyncio
async def test_hours_later_the_form_resumes_with_a_reminder_in_one_story(processor):
    tracker = tracker_idle_for(processor, 5 * 60, "messenger:123", "messenger")
    output = CollectingOutputChannel()
    await processor._update_tracker_session(tracker, output)
    assert not [e for e in tracker.events if isinstance(e, SessionStarted)][1:], "a new session was started"
    assert tracker.active_loop_name == "feedback_form"
    assert tracker.get_slot("requested_slot") == "answer_reason" and tracker.get_slot("score") == 6
    [sent] = output.messages
    assert sent["text"] == f"Welkom terug! We waren bezig met je feedback. Mijn laatste vraag was: “{QUESTION}”"
    assert tracker.latest_bot_utterance.metadata == {"gehoor": "resume_reminder"}
    # the customer's answer hours later lands in the same stored story
    tracker.update(UserUttered("The parcel came a week late", {"name": "inform"}, input_channel="messenger"))
    story = snapshot_from_events("messenger:123", [e.as_dict() for e in tracker.events])
    texts = story.customer_texts
    assert texts[0] == "6" and texts[-1] == "The parcel came a week late"


@pytest.mark.asyncio
async def test_within_the_hour_no_reminder(processor):
    tracker = tracker_idle_for(processor, 20, "messenger:123", "messenger")
    output = CollectingOutputChannel()
    await processor._update_tracker_session(tracker, output)
    assert output.messages == [] and tracker.latest_bot_utterance.text == f"Thanks. {QUESTION}"
