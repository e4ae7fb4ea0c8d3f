"""Language at the first word (issue #13): the opening follows a greeting's language,
the channel hint wins, and the opening says in one short clause that the other language
is fine too."""
from __future__ import annotations

import pytest

from actions.flow import ActionOpening
from test_actions import run, slot_events, store, texts, tracker  # noqa: F401  (store: autouse fixture)


@pytest.mark.parametrize("greeting", ["hey", "hello", "good evening", "yo", "hi"])
def test_an_english_greeting_gets_an_english_opening_that_offers_dutch(greeting, monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "nl")
    events, dispatcher = run(ActionOpening(), tracker(greeting, "greet", sender=f"open-{greeting}"))
    assert slot_events(events)["language"] == "en"
    said = texts(dispatcher)
    assert "feedback bot" in said and "Nederlands" in said


def test_a_dutch_greeting_gets_a_dutch_opening_that_offers_english(monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "nl")
    events, dispatcher = run(ActionOpening(), tracker("hoi", "greet", sender="open-hoi"))
    said = texts(dispatcher)
    assert slot_events(events).get("language", "nl") == "nl"
    assert "feedbackbot" in said and "English" in said
    assert len(dispatcher.messages) == 1, "one opening message, the clause inside it"


def test_the_browser_hint_wins_over_the_greeting(monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "nl")
    events, dispatcher = run(ActionOpening(), tracker("hello", "greet", sender="open-hint",
                                                      metadata={"browser_language": "nl-NL"}))
    assert slot_events(events).get("language", "nl") == "nl"
    assert "English" in texts(dispatcher)


def test_an_opening_story_in_english_offers_dutch(monkeypatch):
    monkeypatch.setenv("GEHOOR_DEFAULT_LANGUAGE", "nl")
    events, dispatcher = run(ActionOpening(), tracker(
        "my parcel never arrived and nobody called me back", "inform", sender="open-story"))
    assert slot_events(events)["language"] == "en" and "Nederlands" in texts(dispatcher)
