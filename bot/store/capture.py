"""Capture: Rasa tracker events (plain JSON dicts) → a `StorySnapshot` (docs/architecture.md).

    snapshot_from_events(conversation_id, events) -> StorySnapshot | None
    reference_for(conversation_id, session_started_at) -> str     # "GH-7K3M-9QXD"
    reference_from_events(conversation_id, events) -> str | None  # same, cheap (no analysis)
    normalize_reference(text) -> str                              # what a customer/staff typed → canonical form
    StorySnapshot.to_dict() / StorySnapshot.from_dict(d)          # JSON round trip (outbox)

Rules (the capture contract):
- the story is the *latest* Rasa session: it starts at the last `session_started` event
  (no `session_started` → at the first event's time); `slot` events after it are replayed
  (`reset_slots`/`restart` clear them);
- transcript = `user` events (role "customer") and `bot` events (role "bot") with their text
  and timestamp, in event order; events without text (None) are skipped, an empty
  customer message is kept as ""; a customer's edit of an earlier message (metadata
  `edit_of`, docs/channels.md) is a message of its own that starts with "✎ ";
- channel = the first user event's `input_channel` (None → "unknown"); channel metadata =
  that event's `metadata` without Rasa-internal keys (`model_id`, `assistant_id`);
- score, answers, summary, correction, consent, contact, status, end reason come from slots;
- aspects, sentiment, emotions, repeat contact from `bot.listening.analyze_story`;
- a session without any customer message yields None (nothing to store yet).
All text is made storable (see textsafe.py: U+FFFD for NUL/lone surrogates, 20,000-char cap).
"""
from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from bot import config
from bot.store.models import STATUSES
from bot.store.textsafe import clean_json, clean_optional, clean_text, clip

log = logging.getLogger(__name__)

DIMENSIONS = ("reason", "situation", "expectation", "impact", "priority", "in_our_place", "blind_spot")
ANSWER_SLOTS = {f"answer_{d}": d for d in DIMENSIONS}
END_REASONS = ("completed", "customer_stopped", "handed_off", "idle")
RASA_INTERNAL_METADATA_KEYS = frozenset({"model_id", "assistant_id"})
EDIT_MARK = "✎ "  # starts a customer message that edits an earlier one (metadata "edit_of")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "GH-"


# ---------------------------------------------------------------------------- references


def _b32(digest: bytes, n: int) -> str:
    num = int.from_bytes(digest, "big")
    out = []
    for _ in range(n):
        out.append(CROCKFORD[num & 31])
        num >>= 5
    return "".join(out)


def _ts_key(session_started_at: datetime) -> str:
    if session_started_at.tzinfo is not None:
        session_started_at = session_started_at.astimezone(timezone.utc).replace(tzinfo=None)
    return session_started_at.isoformat(timespec="microseconds")


def reference_for(conversation_id: str, session_started_at: datetime, *, long: bool = False) -> str:
    """Deterministic short code for one story, computable before anything is written.

    "GH-" + 8 Crockford base32 characters of sha256(conversation_id | session start), shown
    as GH-XXXX-XXXX (40 bits: ~0.5 % chance of any collision among 100,000 stories). In the
    rare case of a collision the repository stores the second story with `long=True`
    (GH-XXXX-XXXX-XX), which still starts with the code the customer was told.
    """
    digest = hashlib.sha256(f"{conversation_id}|{_ts_key(session_started_at)}".encode("utf-8", "replace")).digest()
    code = _b32(digest, 10 if long else 8)
    ref = f"{REFERENCE_PREFIX}{code[:4]}-{code[4:8]}"
    return f"{ref}-{code[8:]}" if long else ref


def normalize_reference(text: str) -> str:
    """'gh 7k3m 9qxd', 'GH-7K3M-9QXD', '7K3M9QXD' → 'GH-7K3M-9QXD' (O→0, I/L→1, U→V)."""
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if raw.startswith("GH"):
        raw = raw[2:]
    raw = raw.translate(str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"}))
    if not raw:
        return ""
    parts = [raw[:4], raw[4:8]] + ([raw[8:]] if len(raw) > 8 else [])
    return REFERENCE_PREFIX + "-".join(p for p in parts if p)


# ---------------------------------------------------------------------------- snapshot


@dataclass
class TranscriptMessage:
    role: str  # "customer" | "bot"
    text: str
    at: datetime  # naive UTC


@dataclass
class StorySnapshot:
    conversation_id: str
    session_started_at: datetime  # naive UTC
    reference: str
    channel: str = "unknown"
    channel_metadata: dict = field(default_factory=dict)
    language: str = "nl"
    status: str = "in_progress"
    end_reason: Optional[str] = None
    started_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None  # time of the latest event in the session
    last_customer_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    score: Optional[int] = None
    score_answer: Optional[str] = None
    answers: dict = field(default_factory=dict)
    summary: Optional[str] = None
    summary_confirmed: Optional[bool] = None
    correction: Optional[str] = None
    consent_to_contact: Optional[bool] = None
    contact: Optional[str] = None
    contact_kind: Optional[str] = None
    handoff_requested: bool = False
    aspects: list = field(default_factory=list)
    sentiment: Optional[str] = None
    sentiment_score: Optional[float] = None
    emotions: list = field(default_factory=list)
    repeat_contact: bool = False
    messages: list = field(default_factory=list)  # [TranscriptMessage]

    @property
    def customer_texts(self) -> list:
        return [m.text for m in self.messages if m.role == "customer"]

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("session_started_at", "started_at", "updated_at", "last_customer_at", "ended_at"):
            d[key] = d[key].isoformat() if d[key] else None
        d["messages"] = [{"role": m.role, "text": m.text, "at": m.at.isoformat()} for m in self.messages]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "StorySnapshot":
        d = dict(d)
        for key in ("session_started_at", "started_at", "updated_at", "last_customer_at", "ended_at"):
            if d.get(key):
                d[key] = datetime.fromisoformat(d[key])
        d["messages"] = [
            TranscriptMessage(m["role"], m["text"], datetime.fromisoformat(m["at"])) for m in d.get("messages", [])
        ]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


# ---------------------------------------------------------------------------- helpers


def to_utc(ts: Any) -> Optional[datetime]:
    """Rasa event timestamp (epoch seconds float) → naive UTC datetime (microseconds)."""
    if ts is None or isinstance(ts, bool):
        return None
    if isinstance(ts, datetime):
        return ts.astimezone(timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts
    try:
        value = float(ts)
    except (TypeError, ValueError):
        try:
            return to_utc(datetime.fromisoformat(str(ts).replace("Z", "+00:00")))
        except ValueError:
            return None
    if not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(round(value, 6), tz=timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def _score(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f) or f < 0 or f > 10:
        return None
    return int(math.floor(f + 0.5))


def _bool(value: Any) -> Optional[bool]:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "yes", "ja", "1"):
            return True
        if v in ("false", "no", "nee", "0"):
            return False
        return None
    return bool(value)


def _channel_metadata(metadata: Any) -> dict:
    if not isinstance(metadata, dict):
        return {}
    return clean_json({k: v for k, v in metadata.items() if k not in RASA_INTERNAL_METADATA_KEYS})


def _analysis(customer_texts: list, language: str) -> dict:
    """bot.listening.analyze_story, tolerant of its return type (dict or object)."""
    empty = {"aspects": [], "sentiment": None, "sentiment_score": None, "emotions": [], "repeat_contact": False}
    try:
        from bot.listening import analyze_story  # noqa: WPS433 (optional until bot/listening exists)
    except ImportError:
        return empty
    if not customer_texts:
        return empty
    try:
        return _parse_analysis(analyze_story(customer_texts, language))
    except Exception:  # the store must never lose a story because analysis failed
        log.exception("analyze_story failed; storing the story without analysis")
        return empty


def _parse_analysis(result: Any) -> dict:
    """A StoryAnalysis (bot.listening) or a dict with the same keys → plain values."""

    def get(name: str, default: Any = None) -> Any:
        if isinstance(result, dict):
            return result.get(name, default)
        return getattr(result, name, default)

    aspects = get("aspects") or []
    if isinstance(aspects, dict):
        aspects = list(aspects)
    aspects = [a if isinstance(a, str) else (get_name(a)) for a in aspects]
    sentiment = get("sentiment")
    sentiment_score = get("sentiment_score")
    if sentiment is not None and not isinstance(sentiment, str):  # e.g. an object/tuple (label, score)
        label = getattr(sentiment, "label", None) or (sentiment[0] if isinstance(sentiment, (tuple, list)) else None)
        score = getattr(sentiment, "score", None) or (sentiment[1] if isinstance(sentiment, (tuple, list)) else None)
        sentiment, sentiment_score = label, score if sentiment_score is None else sentiment_score
    emotions = get("emotions") or []
    if isinstance(emotions, dict):
        emotions = list(emotions)
    try:
        sentiment_score = float(sentiment_score) if sentiment_score is not None else None
    except (TypeError, ValueError):
        sentiment_score = None
    return {
        "aspects": list(dict.fromkeys(clip(a, 64) for a in aspects if a)),  # first-mentioned order
        "sentiment": clip(sentiment, 16),
        "sentiment_score": sentiment_score,
        "emotions": [clip(e if isinstance(e, str) else get_name(e), 64) for e in emotions if e],
        "repeat_contact": bool(get("repeat_contact", False)),
    }


def get_name(obj: Any) -> str:
    for attr in ("name", "aspect", "label", "key"):
        value = obj.get(attr) if isinstance(obj, dict) else getattr(obj, attr, None)
        if isinstance(value, str):
            return value
    return str(obj)


def split_sessions(events: Iterable[dict]) -> list:
    """Split one sender's events into sessions at `session_started` events. Events before the
    first one form a session of their own when they contain a message (a conversation from
    before sessions were enabled); otherwise they join the next session."""
    sessions: list = [[]]
    for ev in events:
        if isinstance(ev, dict) and ev.get("event") == "session_started":
            current = sessions[-1]
            if current and not any(isinstance(e, dict) and e.get("event") in ("user", "bot") for e in current):
                # e.g. the `action_session_start` action that precedes session_started: same session
                current.append(ev)
            else:
                sessions.append([ev])
        else:
            sessions[-1].append(ev)
    return [s for s in sessions if s]


# ---------------------------------------------------------------------------- snapshot_from_events


def _session_start(events: list) -> tuple:
    """(index of the latest session_started or 0, its time as naive UTC)."""
    start = 0
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "session_started":
            start = i
            break
    session = events[start:]
    started = to_utc(session[0].get("timestamp")) if session else None
    if started is None:
        started = next((t for t in (to_utc(e.get("timestamp")) for e in session) if t), None)
    return start, started or datetime(1970, 1, 1)


def reference_from_events(conversation_id: str, events: list) -> Optional[str]:
    """The reference of the story `snapshot_from_events` would build, without the analysis
    (cheap: for telling the customer). None when the session has no customer message yet."""
    events = [e for e in (events or []) if isinstance(e, dict)]
    if not events:
        return None
    start, started = _session_start(events)
    if not any(e.get("event") == "user" and e.get("text") is not None for e in events[start:]):
        return None
    return reference_for(clip(conversation_id, 255) or "", started)


def snapshot_from_events(conversation_id: str, events: list) -> Optional[StorySnapshot]:
    """The story of the latest Rasa session in `events`, or None when it has no customer message."""
    events = [e for e in (events or []) if isinstance(e, dict)]
    if not events:
        return None
    start, session_started_at = _session_start(events)
    session = events[start:]

    slots: dict = {}
    slot_times: dict = {}
    messages: list = []
    first_user: Optional[dict] = None
    last_time = session_started_at
    for ev in session:
        kind = ev.get("event")
        t = to_utc(ev.get("timestamp"))
        if t is not None and t > last_time:
            last_time = t
        at = t or last_time
        if kind == "slot":
            name = ev.get("name")
            if isinstance(name, str):
                slots[name] = ev.get("value")
                slot_times[name] = at
        elif kind in ("reset_slots", "restart"):
            slots.clear()
        elif kind == "user":
            if first_user is None:
                first_user = ev
            text = ev.get("text")
            if text is not None:
                if isinstance(ev.get("metadata"), dict) and ev["metadata"].get("edit_of"):
                    text = EDIT_MARK + text  # an edit of an earlier message (Messenger, Telegram)
                messages.append(TranscriptMessage("customer", clean_text(text), at))
        elif kind == "bot":
            text = ev.get("text")
            if text:
                messages.append(TranscriptMessage("bot", clean_text(text), at))

    if first_user is None or not any(m.role == "customer" for m in messages):
        return None

    conversation_id = clip(conversation_id, 255) or ""
    language = clip(slots.get("language") or config.default_language(), 8) or "nl"
    status = slots.get("story_status")
    handoff = bool(_bool(slots.get("handoff_requested")))
    if status not in STATUSES:
        status = "handed_off" if handoff else "in_progress"
    end_reason = clip(slots.get("end_reason"), 32)
    ended_at = None
    if status != "in_progress":
        ended_at = slot_times.get("story_status") or last_time

    contact = slots.get("contact_details")
    contact_kind = clip(slots.get("contact_kind"), 8)
    if not isinstance(contact, str) or not contact.strip() or contact.strip().lower() == "declined":
        contact, contact_kind = None, None
    else:
        contact = clip(contact.strip(), 255)
        if contact_kind is None:
            contact_kind = "email" if "@" in contact else "phone"

    answers = {}
    for slot_name, dim in ANSWER_SLOTS.items():
        value = slots.get(slot_name)
        if value is not None and not isinstance(value, (dict, list)):
            answers[dim] = clean_text(value)

    customer_at = [m.at for m in messages if m.role == "customer"]
    snap = StorySnapshot(
        conversation_id=conversation_id,
        session_started_at=session_started_at,
        reference=reference_for(conversation_id, session_started_at),
        channel=clip(first_user.get("input_channel") or "unknown", 64) or "unknown",
        channel_metadata=_channel_metadata(first_user.get("metadata")),
        language=language,
        status=status,
        end_reason=end_reason,
        started_at=session_started_at,
        updated_at=last_time,
        last_customer_at=max(customer_at) if customer_at else None,
        ended_at=ended_at,
        score=_score(slots.get("score")),
        score_answer=clean_optional(slots.get("score_answer")),
        answers=answers,
        summary=clean_optional(slots.get("summary")),
        summary_confirmed=_bool(slots.get("summary_confirmed")),
        correction=clean_optional(slots.get("correction")),
        consent_to_contact=_bool(slots.get("contact_consent")),
        contact=contact,
        contact_kind=contact_kind,
        handoff_requested=handoff,
        messages=messages,
    )
    analysis = _analysis(snap.customer_texts, language)
    snap.aspects = analysis["aspects"]
    snap.sentiment = analysis["sentiment"]
    snap.sentiment_score = analysis["sentiment_score"]
    snap.emotions = analysis["emotions"]
    snap.repeat_contact = analysis["repeat_contact"]
    return snap
