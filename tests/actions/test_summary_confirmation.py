"""A summary is stored as confirmed only when the customer said yes to it (user test,
finding 5): "Klopt dat?" -> "nee bedankt" -> "Wat klopt er niet?" -> "ja" is no yes."""
from __future__ import annotations

import pytest

from actions.feedback_form import NOTHING_TO_ADD
from test_actions import next_slot, store, validate  # noqa: F401  (store: autouse fixture)

SAID_NO = {"score_answer": "3", "score": 3.0, "answer_reason": "2 dagen te laat en niemand belde",
           "followups_done": True, "summary_feedback": "nee bedankt", "summary_confirmed": False}


@pytest.mark.parametrize("reply, intent", [("ja", "affirm"), ("nee", "deny"), ("nee bedankt", "deny"),
                                           ("ok", "affirm"), ("yes", "affirm"), ("no thanks", "deny")])
def test_a_bare_reply_to_what_is_wrong_is_neither_a_yes_nor_a_correction(reply, intent):
    slots = dict(SAID_NO)
    result = validate("correction", reply, intent, slots)
    assert result.get("summary_confirmed") is not True, "a bare reply never confirms a summary they said no to"
    assert result["correction"] == NOTHING_TO_ADD, "no correction given: nothing to re-summarise"
    slots.update(result)
    assert slots["summary_confirmed"] is False
    assert next_slot(slots) not in ("correction", "resummary_feedback"), "asked once; no loop, no re-summary"


def test_saying_it_is_right_after_all_still_confirms():
    slots = dict(SAID_NO)
    result = validate("correction", "het klopt wel", "affirm", slots)
    assert result == {"correction": None, "summary_confirmed": True}


def test_a_correction_after_no_is_kept():
    result = validate("correction", "het waren drie dagen", "inform", dict(SAID_NO))
    assert result == {"correction": "het waren drie dagen"}
