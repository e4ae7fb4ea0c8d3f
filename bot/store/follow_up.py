"""The follow-up workflow of a story (no Rasa, no Flask).

    none -> open -> contacted -> resolved
                 \\            \\-> could_not_reach
                  \\-> resolved | could_not_reach
    resolved | could_not_reach -> open   (reopen)
    none -> contacted | resolved | could_not_reach   (staff acted without a request)

A capture opens a follow-up once, when the customer asked for a person (hand-off) or
agreed to be contacted; `follow_up_opened_at` records that, so a later capture of the same
conversation never reopens or overrides what staff decided. The due time is the opening
time plus the SLA of the story's band (bot.config.follow_up_sla_hours).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from bot import config

OPEN = ("open", "contacted")  # waiting for staff: counted as open, can be overdue
CLOSED = ("resolved", "could_not_reach")
LEGACY = {"requested": "open", "done": "resolved"}  # values written before migration 0003
LABELS = {
    "none": "Not requested", "open": "Open", "contacted": "Contacted",
    "resolved": "Resolved", "could_not_reach": "Could not reach",
}
TRANSITIONS = {
    "none": ("open", "contacted", "resolved", "could_not_reach"),
    "open": ("contacted", "resolved", "could_not_reach"),
    "contacted": ("resolved", "could_not_reach"),
    "resolved": ("open",),
    "could_not_reach": ("open",),
}
ACTION_LABELS = {  # button text per target state
    "open": "Open follow-up", "contacted": "Mark contacted", "resolved": "Resolve",
    "could_not_reach": "Could not reach",
}


class TransitionError(ValueError):
    """A move the workflow does not allow (e.g. resolving a follow-up never opened)."""


def state_of(value: Optional[str]) -> str:
    """The current name of a stored state (old rows may still say requested/done)."""
    value = value or "none"
    return LEGACY.get(value, value)


def wanted(handoff_requested, consent_to_contact) -> bool:
    """Does the conversation ask for a follow-up? A hand-off or consent to be contacted."""
    return bool(handoff_requested) or consent_to_contact is True


def due_at(opened_at: datetime, score: Optional[int], handoff_requested) -> datetime:
    return opened_at + timedelta(hours=config.follow_up_sla_hours(score, bool(handoff_requested)))


def opening(opened_at: datetime, score: Optional[int], handoff_requested) -> dict:
    """Column values of a follow-up opened at `opened_at`."""
    return {
        "follow_up_state": "open",
        "follow_up_opened_at": opened_at,
        "follow_up_due_at": due_at(opened_at, score, handoff_requested),
    }


def is_overdue(state: Optional[str], due: Optional[datetime], now: datetime) -> bool:
    return state_of(state) in OPEN and due is not None and due < now


def transition(story, new: str, now: datetime, note: Optional[str] = None) -> dict:
    """Apply a staff move to `story` (a Story or anything with its attributes); returns the
    changed fields {name: (old, new)} for the audit log. Raises TransitionError."""
    old = state_of(story.follow_up_state)
    if new not in TRANSITIONS.get(old, ()):
        raise TransitionError(f"a follow-up that is {LABELS.get(old, old).lower()} cannot become "
                              f"{LABELS.get(new, new).lower()}")
    values: dict = {"follow_up_state": new}
    if new == "open":
        values["followed_up_at"] = None
        values["follow_up_due_at"] = due_at(now, story.score, story.handoff_requested)
        if story.follow_up_opened_at is None:
            values["follow_up_opened_at"] = now
    else:
        if story.follow_up_opened_at is None:  # staff acted first: a capture must not reopen it
            values["follow_up_opened_at"] = now
        if story.first_contact_at is None and new in ("contacted", "resolved"):
            values["first_contact_at"] = now
        if new in CLOSED:
            values["followed_up_at"] = now
    if note:
        values["follow_up_note"] = note
    changes = {}
    for name, value in values.items():
        before = getattr(story, name)
        if before != value:
            changes[name] = (before, value)
            setattr(story, name, value)
    return changes
