"""The story store's schema (SQLAlchemy 1.4 declarative). No Rasa imports.

One `Story` per Rasa conversation *session*: (conversation_id, session_started_at) is unique.
Customer/bot messages live in `Message` rows ordered by `seq` (the position in the
transcript), so an idempotent upsert of the transcript never duplicates or reorders.
Columns that the review app filters on carry an index. Schema changes go through
Alembic (bot/store/migrations); never create tables with metadata.create_all in the app.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

STATUSES = ("in_progress", "complete", "abandoned", "handed_off")
REVIEW_STATUSES = ("new", "read", "in_follow_up", "closed")
# none -> open -> contacted -> resolved | could_not_reach (see bot/store/follow_up.py)
FOLLOW_UP_STATES = ("none", "open", "contacted", "resolved", "could_not_reach")
ROLES = ("viewer", "reviewer", "admin")


def utcnow() -> datetime:
    """Naive UTC (stored as UTC everywhere; exports add the 'Z')."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Story(Base):
    __tablename__ = "stories"
    __table_args__ = (
        UniqueConstraint("conversation_id", "session_started_at", name="uq_story_session"),
        Index("ix_stories_started_id", "started_at", "id"),  # inbox keyset pagination
        Index("ix_stories_started_score", "started_at", "score"),  # dashboard trend (migration 0002)
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    reference = Column(String(16), nullable=False, unique=True)  # short code told to the customer
    conversation_id = Column(String(255), nullable=False, index=True)  # Rasa sender id
    session_started_at = Column(DateTime, nullable=False)  # Rasa session_started event time
    channel = Column(String(64), nullable=False, default="unknown", index=True)
    channel_metadata = Column(JSON, nullable=False, default=dict)  # page, touchpoint, order_ref, …
    language = Column(String(8), nullable=False, default="nl", index=True)
    status = Column(String(16), nullable=False, default="in_progress", index=True)
    end_reason = Column(String(32))  # completed | customer_stopped | handed_off | idle
    started_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    last_customer_at = Column(DateTime)  # drives the idle sweeper
    ended_at = Column(DateTime)

    score = Column(Integer, index=True)  # 0..10 or NULL (refused / not asked)
    answers = Column(JSON, nullable=False, default=dict)  # dimension -> customer's text
    summary = Column(Text)  # the summary the bot gave
    summary_confirmed = Column(Boolean)  # None = not asked
    correction = Column(Text)  # the customer's correction: authoritative when present
    aspects = Column(JSON, nullable=False, default=list)  # ["delivery", …]
    sentiment = Column(String(16), index=True)  # negative | neutral | positive | mixed
    sentiment_score = Column(Float)
    emotions = Column(JSON, nullable=False, default=list)  # ["frustration", …]
    repeat_contact = Column(Boolean, nullable=False, default=False, index=True)
    consent_to_contact = Column(Boolean, index=True)
    contact = Column(String(255), index=True)  # normalised e-mail or E.164 phone (indexed: erasure by contact)
    contact_kind = Column(String(8))  # email | phone
    handoff_requested = Column(Boolean, nullable=False, default=False, index=True)
    customer_text = Column(Text, nullable=False, default="")  # all customer text, for search

    # Staff data
    review_status = Column(String(16), nullable=False, default="new", index=True)
    assignee = Column(String(255), index=True)
    follow_up_state = Column(String(16), nullable=False, default="none", index=True)
    follow_up_note = Column(Text)
    followed_up_at = Column(DateTime)  # when the follow-up was closed (resolved / could not reach)
    follow_up_opened_at = Column(DateTime)  # set once: a capture never reopens a follow-up staff handled
    follow_up_due_at = Column(DateTime, index=True)  # opened + SLA of the band (migration 0003)
    first_contact_at = Column(DateTime)  # first "contacted" (or resolved): time to first contact

    messages = relationship(
        "Message", back_populates="story", order_by="Message.seq", cascade="all, delete-orphan"
    )
    tags = relationship("StoryTag", back_populates="story", cascade="all, delete-orphan")
    notes = relationship(
        "Note", back_populates="story", order_by="Note.created_at", cascade="all, delete-orphan"
    )
    aspect_rows = relationship("StoryAspect", back_populates="story", cascade="all, delete-orphan")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("story_id", "seq", name="uq_message_seq"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    story_id = Column(Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False)
    seq = Column(Integer, nullable=False)  # 0-based position in the transcript
    role = Column(String(8), nullable=False)  # customer | bot
    text = Column(Text, nullable=False)
    at = Column(DateTime, nullable=False)
    story = relationship("Story", back_populates="messages")


class StoryAspect(Base):
    """Denormalised aspects, one row per (story, aspect), so the aspect filter uses an index."""

    __tablename__ = "story_aspects"
    story_id = Column(Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    aspect = Column(String(64), primary_key=True, index=True)
    story = relationship("Story", back_populates="aspect_rows")


class StoryTag(Base):
    __tablename__ = "story_tags"
    story_id = Column(Integer, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    tag = Column(String(64), primary_key=True, index=True)
    story = relationship("Story", back_populates="tags")


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True, autoincrement=True)
    story_id = Column(Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(255), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    story = relationship("Story", back_populates="notes")


class StaffUser(Base):
    __tablename__ = "staff_users"
    id = Column(Integer, primary_key=True, autoincrement=True)
    email = Column(String(255), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="viewer")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    disabled = Column(Boolean, nullable=False, default=False)
    totp_secret = Column(String(255))  # TOTP secret, encrypted with a key outside the DB (migration 0005)


class StaffSession(Base):
    """A logged-in staff session (migration 0004). The cookie carries a random token; only its
    SHA-256 is stored here, so a copy of the database cannot be used to log in."""

    __tablename__ = "staff_sessions"
    id = Column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    revoked_at = Column(DateTime)
    revoked_reason = Column(String(32))  # logout | password | role | disabled | admin | idle | expired
    ip = Column(String(64))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(255), nullable=False)  # staff e-mail, or "cli" / "system"
    action = Column(String(32), nullable=False)  # view | export | change | erase | login | …
    target = Column(String(255))  # e.g. "story:42"
    detail = Column(JSON, nullable=False, default=dict)


class NotificationJob(Base):
    """One notification for one destination (migration 0006), enqueued in the transaction that
    wrote the story; worked by bot.notify.worker. `key` (event + destination) is unique, so a
    retried save or a second worker never enqueues or sends the same notification twice."""

    __tablename__ = "notification_jobs"
    __table_args__ = (
        UniqueConstraint("key", name="uq_notification_job_key"),
        Index("ix_notification_jobs_due", "state", "next_attempt_at"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(255), nullable=False)
    event = Column(String(32), nullable=False)  # story.created | story.updated | story.completed | follow_up.due
    story_id = Column(Integer, ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    destination = Column(String(64), nullable=False)  # its name in the alerts file
    kind = Column(String(16), nullable=False)  # webhook | slack | email
    payload = Column(JSON, nullable=False, default=dict)  # the event as sent to webhooks
    state = Column(String(16), nullable=False, default="pending")  # pending | delivered | failed
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    locked_until = Column(DateTime)  # a worker's lease while it sends
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    delivered_at = Column(DateTime)
    last_status = Column(Integer)  # HTTP or SMTP status of the last attempt
    last_error = Column(Text)


class NotificationAttempt(Base):
    """The delivery log: one row per attempt (read-only in the review app, /notifications)."""

    __tablename__ = "notification_attempts"
    id = Column(Integer, primary_key=True, autoincrement=True)
    job_id = Column(Integer, ForeignKey("notification_jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    ok = Column(Boolean, nullable=False)
    status = Column(Integer)
    error = Column(Text)
    duration_ms = Column(Integer)
