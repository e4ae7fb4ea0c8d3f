"""Inbox filters: parsed from the query string, applied as SQL, and turned back into URLs.

Every filter combines with every other (AND). The filter state lives entirely in the URL
(GET form), so a filtered inbox, a dashboard click and an export share the same parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Optional
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, literal_column, or_, select

from bot.review import settings
from bot.store import follow_up
from bot.store.models import REVIEW_STATUSES, STATUSES, Story, StoryAspect, StoryTag, utcnow

# stored values of open / closed follow-ups, including those written before migration 0003
OPEN_STATES = follow_up.OPEN + tuple(k for k, v in follow_up.LEGACY.items() if v in follow_up.OPEN)
CLOSED_STATES = follow_up.CLOSED + tuple(k for k, v in follow_up.LEGACY.items() if v in follow_up.CLOSED)

BANDS = {
    "detractor": (0, 6),
    "passive": (7, 8),
    "promoter": (9, 10),
}
BAND_CHOICES = ("detractor", "passive", "promoter", "none")
SENTIMENTS = ("negative", "neutral", "positive", "mixed")
YES_NO = ("yes", "no")


def band_of(score: Optional[int]) -> str:
    if score is None:
        return "none"
    for name, (lo, hi) in BANDS.items():
        if lo <= score <= hi:
            return name
    return "none"


def _date(raw: str) -> Optional[date]:
    try:
        return date.fromisoformat(raw.strip()) if raw and raw.strip() else None
    except ValueError:
        return None


def local_midnight_utc(day: date) -> datetime:
    """Local (display time zone) midnight of `day` as naive UTC, the way the store keeps times."""
    tz = ZoneInfo(settings.display_timezone())
    local = datetime(day.year, day.month, day.day, tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


@dataclass
class Filters:
    q: str = ""  # full-text search
    date_from: Optional[date] = None  # inclusive, local date
    date_to: Optional[date] = None  # inclusive, local date
    band: str = ""  # detractor | passive | promoter | none
    score: Optional[int] = None  # one exact score (dashboard distribution bar)
    aspect: str = ""
    sentiment: str = ""
    language: str = ""
    channel: str = ""
    status: str = ""  # conversation status
    review: str = ""  # review status
    tag: str = ""
    repeat: str = ""  # yes | no
    consent: str = ""  # yes | no
    handoff: str = ""  # yes | no
    assignee: str = ""  # an e-mail, or "none"
    followup: str = ""  # open (open or contacted) | overdue (open past its due time) | done (closed)

    # URL parameter name for each field
    PARAMS = {
        "q": "q", "date_from": "from", "date_to": "to", "band": "band", "score": "score",
        "aspect": "aspect", "sentiment": "sentiment", "language": "language",
        "channel": "channel", "status": "status", "review": "review", "tag": "tag",
        "repeat": "repeat", "consent": "consent", "handoff": "handoff", "assignee": "assignee",
        "followup": "followup",
    }
    LABELS = {
        "q": "Search", "from": "From", "to": "To", "band": "Band", "score": "Score", "aspect": "Aspect",
        "sentiment": "Sentiment", "language": "Language", "channel": "Channel", "status": "Conversation",
        "review": "Review", "tag": "Tag", "repeat": "Repeat contact", "consent": "Consent",
        "handoff": "Hand-off", "assignee": "Assignee", "followup": "Follow-up",
    }

    @classmethod
    def from_args(cls, args) -> "Filters":
        def get(name: str) -> str:
            return (args.get(name) or "").strip()[:200]

        f = cls()
        f.q = get("q")
        f.date_from = _date(get("from"))
        f.date_to = _date(get("to"))
        f.band = get("band") if get("band") in BAND_CHOICES else ""
        raw_score = get("score")
        if raw_score.isdigit() and 0 <= int(raw_score) <= 10:
            f.score = int(raw_score)
        f.aspect = get("aspect")[:64]
        f.sentiment = get("sentiment") if get("sentiment") in SENTIMENTS else ""
        f.language = get("language")[:8]
        f.channel = get("channel")[:64]
        f.status = get("status") if get("status") in STATUSES else ""
        f.review = get("review") if get("review") in REVIEW_STATUSES else ""
        f.tag = get("tag")[:64]
        for name in ("repeat", "consent", "handoff"):
            setattr(f, name, get(name) if get(name) in YES_NO else "")
        f.assignee = get("assignee")[:255].lower()
        f.followup = get("followup") if get("followup") in ("open", "overdue", "done") else ""
        return f

    def params(self, **override) -> dict:
        """The non-empty filter parameters (for links), with `override` applied."""
        out = {}
        for attr, name in self.PARAMS.items():
            value = getattr(self, attr)
            if isinstance(value, date):
                value = value.isoformat()
            if value not in (None, ""):
                out[name] = str(value)
        for key, value in override.items():
            if value in (None, ""):
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out

    def query_string(self, **override) -> str:
        return urlencode(self.params(**override))

    def active(self) -> bool:
        return bool(self.params())

    def active_count(self) -> int:
        return len([k for k in self.params() if k != "q"])

    def chips(self) -> list[tuple[str, str, str]]:
        """[(param, label, value)] of the active filters, for removable chips."""
        return [(k, self.LABELS.get(k, k), v) for k, v in self.params().items()]

    def clauses(self, search: Callable[[str], object], *, ordered: bool = False, scan: bool = False,
                dialect: str = "") -> list:
        """SQL conditions on Story. `search(text)` returns a condition for the full-text query.

        ordered=True is for "newest N" queries (inbox page, quotes): on SQLite the plain columns
        are then written as `+column`, so the planner walks ix_stories_started_id backwards and
        stops after N rows instead of collecting and sorting every match of a low-selectivity
        index (score band, language, …); aspects and tags become correlated EXISTS probes.
        ordered=False (counts) lets every index drive, aspects/tags as IN (…), unless there is a
        date range: then the started_at index drives, as for ordered=True.
        scan=True (dashboard aggregates over many rows): plain columns as `+column` too, so a
        weak index (a channel with half the stories) does not drive with a lookup per row;
        SQLite then reads the table once, which is cheaper.
        """
        # A date range is usually the most selective condition: let the time index drive then too.
        by_time = ordered or bool(self.date_from or self.date_to)

        def col(column):
            if (by_time or scan) and dialect == "sqlite":
                return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)
            return column

        def via(table, column, value):
            # EXISTS probes when the time index drives (time order, or a date range); IN (…) to
            # let the aspect/tag index drive otherwise.
            if by_time:
                return exists().where(and_(table.story_id == Story.id, column == value))
            return Story.id.in_(select(table.story_id).where(column == value))

        c = []
        if self.date_from:
            c.append(Story.started_at >= local_midnight_utc(self.date_from))
        if self.date_to:
            c.append(Story.started_at < local_midnight_utc(self.date_to + timedelta(days=1)))
        score = col(Story.score)
        if self.band == "none":
            c.append(score.is_(None))
        elif self.band in BANDS:
            lo, hi = BANDS[self.band]
            c.append(score.between(lo, hi))
        if self.score is not None:
            c.append(score == self.score)
        if self.aspect:
            c.append(via(StoryAspect, StoryAspect.aspect, self.aspect))
        if self.tag:
            c.append(via(StoryTag, StoryTag.tag, self.tag))
        for value, column in ((self.sentiment, Story.sentiment), (self.language, Story.language),
                              (self.channel, Story.channel), (self.status, Story.status),
                              (self.review, Story.review_status)):
            if value:
                c.append(col(column) == value)
        if self.repeat:
            c.append(col(Story.repeat_contact).is_(self.repeat == "yes"))
        consent = col(Story.consent_to_contact)
        if self.consent == "yes":
            c.append(consent.is_(True))
        elif self.consent == "no":
            c.append(or_(consent.is_(False), consent.is_(None)))
        if self.handoff:
            c.append(col(Story.handoff_requested).is_(self.handoff == "yes"))
        assignee = col(Story.assignee)
        if self.assignee == "none":
            c.append(assignee.is_(None))
        elif self.assignee:
            c.append(assignee == self.assignee)
        state = col(Story.follow_up_state)
        if self.followup in ("open", "overdue"):
            c.append(state.in_(OPEN_STATES))
            if self.followup == "overdue":
                c.append(col(Story.follow_up_due_at) < utcnow())
        elif self.followup == "done":
            c.append(state.in_(CLOSED_STATES))
        if self.q:
            c.append(search(self.q))
        return c


def keyset_clause(started_at: datetime, story_id: int, older: bool = True):
    """Rows strictly after (older=True: before in time) the cursor in (started_at, id) order."""
    if older:
        return and_(
            Story.started_at <= started_at,
            or_(Story.started_at < started_at, Story.id < story_id),
        )
    return and_(
        Story.started_at >= started_at,
        or_(Story.started_at > started_at, Story.id > story_id),
    )


def encode_cursor(started_at: datetime, story_id: int) -> str:
    return f"{started_at.strftime('%Y%m%dT%H%M%S.%f')}_{story_id}"


def decode_cursor(raw: str) -> Optional[tuple[datetime, int]]:
    try:
        ts, sid = (raw or "").split("_", 1)
        return datetime.strptime(ts, "%Y%m%dT%H%M%S.%f"), int(sid)
    except ValueError:
        return None
