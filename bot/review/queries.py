"""SQL for the inbox, the story page and the dashboard. Aggregates run in the database
(GROUP BY); nothing loops over all stories in Python."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import Integer, and_, case, cast, func, literal, select, text
from sqlalchemy.orm import Session

from bot.review import storeapi
from bot.review.filters import BANDS, Filters, decode_cursor, encode_cursor, keyset_clause
from bot.store.models import StaffUser, Story, StoryAspect, StoryTag, utcnow

PAGE_SIZE = 50


# ---------------------------------------------------------------------------- small cache
class TTLCache:
    """Per-process cache for the filter choices (languages, channels, aspects, tags)."""

    def __init__(self, ttl: float = 60.0):
        self.ttl = ttl
        self._data: dict = {}
        self._lock = threading.Lock()

    def get(self, key, compute):
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
            if hit and hit[0] > now:
                return hit[1]
        value = compute()
        with self._lock:
            self._data[key] = (now + self.ttl, value)
        return value

    def clear(self):
        with self._lock:
            self._data.clear()


def filter_choices(db: Session, cache: TTLCache) -> dict:
    def distinct(col):
        return lambda: [v for (v,) in db.execute(select(col).distinct().order_by(col)) if v]

    def top_tags():
        rows = db.execute(
            select(StoryTag.tag, func.count()).group_by(StoryTag.tag).order_by(func.count().desc()).limit(300)
        )
        return sorted(t for t, _ in rows)

    return {
        "languages": cache.get("languages", distinct(Story.language)),
        "channels": cache.get("channels", distinct(Story.channel)),
        "aspects": cache.get("aspects", distinct(StoryAspect.aspect)),
        "tags": cache.get("tags", top_tags),
        "assignees": cache.get(
            "assignees",
            lambda: [e for (e,) in db.execute(
                select(StaffUser.email).where(StaffUser.role.in_(("reviewer", "admin")), StaffUser.disabled.is_(False))
                .order_by(StaffUser.email))],
        ),
    }


# ---------------------------------------------------------------------------- inbox
def where_clauses(db: Session, filters: Filters) -> list:
    return filters.clauses(lambda q: storeapi.search_clause(db, q))


INBOX_COLUMNS = (
    Story.id, Story.reference, Story.started_at, Story.score, Story.status, Story.review_status,
    Story.aspects, Story.answers, Story.correction, Story.customer_text, Story.repeat_contact,
    Story.handoff_requested, Story.consent_to_contact, Story.language, Story.channel,
    Story.sentiment, Story.assignee, Story.follow_up_state,
)


def inbox_page(db: Session, filters: Filters, before: str = "", after: str = "", limit: int = PAGE_SIZE) -> dict:
    """One page of stories, newest first, keyset-paginated on (started_at, id).

    `before`: cursor of the last row of the previous page (go older);
    `after`: cursor of the first row of the next page (go newer)."""
    clauses = where_clauses(db, filters)
    q = select(*INBOX_COLUMNS).where(*clauses)
    newer = False
    cur = decode_cursor(after) if after else None
    if cur:
        newer = True
        q = q.where(keyset_clause(*cur, older=False)).order_by(Story.started_at.asc(), Story.id.asc())
    else:
        cur = decode_cursor(before) if before else None
        if cur:
            q = q.where(keyset_clause(*cur, older=True))
        q = q.order_by(Story.started_at.desc(), Story.id.desc())
    rows = db.execute(q.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if newer:
        rows.reverse()
    has_older = True if newer else more
    has_newer = more if newer else bool(cur)
    return {
        "rows": rows,
        "older": encode_cursor(rows[-1].started_at, rows[-1].id) if rows and has_older else "",
        "newer": encode_cursor(rows[0].started_at, rows[0].id) if rows and has_newer else "",
    }


def count_stories(db: Session, filters: Filters) -> int:
    return db.execute(select(func.count(Story.id)).where(*where_clauses(db, filters))).scalar() or 0


def matching_ids_query(db: Session, filters: Filters):
    """SELECT id of every story matching the filters, newest first (for export)."""
    return (
        select(Story.id)
        .where(*where_clauses(db, filters))
        .order_by(Story.started_at.desc(), Story.id.desc())
    )


# ---------------------------------------------------------------------------- dashboard
def _band_expr():
    return case(
        (Story.score.is_(None), literal("none")),
        (Story.score <= BANDS["detractor"][1], literal("detractor")),
        (Story.score <= BANDS["passive"][1], literal("passive")),
        else_=literal("promoter"),
    )


def _as_int(expr):
    return func.coalesce(func.sum(cast(expr, Integer)), 0)


def dashboard_totals(db: Session, filters: Filters) -> dict:
    clauses = where_clauses(db, filters)
    row = db.execute(
        select(
            func.count(Story.id).label("stories"),
            func.count(Story.score).label("scored"),
            _as_int(case((Story.score >= 9, 1), else_=0)).label("promoters"),
            _as_int(case((Story.score.between(7, 8), 1), else_=0)).label("passives"),
            _as_int(case((Story.score <= 6, 1), else_=0)).label("detractors"),
            _as_int(case((Story.repeat_contact.is_(True), 1), else_=0)).label("repeat"),
            _as_int(case((Story.summary_confirmed.is_(True), 1), else_=0)).label("confirmed"),
            _as_int(case((Story.correction.isnot(None), 1), else_=0)).label("corrected"),
            func.count(Story.summary_confirmed).label("summary_asked"),
            _as_int(case((Story.handoff_requested.is_(True), 1), else_=0)).label("handoffs"),
            _as_int(case((and_(
                Story.handoff_requested.is_(True),
                Story.follow_up_state != "done",
                Story.review_status != "closed",
            ), 1), else_=0)).label("handoffs_waiting"),
        ).where(*clauses)
    ).one()
    d = dict(row._mapping)
    d["nps"] = nps(d["promoters"], d["detractors"], d["scored"])
    return d


def nps(promoters: int, detractors: int, scored: int) -> Optional[float]:
    if not scored:
        return None
    return 100.0 * (promoters - detractors) / scored


def distribution(db: Session, filters: Filters) -> list[int]:
    f = Filters(**{k: v for k, v in vars(filters).items()})
    f.band, f.score = "", None
    rows = db.execute(
        select(Story.score, func.count()).where(*where_clauses(db, f), Story.score.isnot(None)).group_by(Story.score)
    ).all()
    counts = [0] * 11
    for score, n in rows:
        if score is not None and 0 <= score <= 10:
            counts[score] = n
    return counts


def _bucket_expr(dialect: str, granularity: str):
    if dialect == "sqlite":
        if granularity == "week":  # Monday of the (UTC) week
            return func.date(Story.started_at, text("'-6 days'"), text("'weekday 1'"))
        return func.strftime("%Y-%m-01", Story.started_at)
    return func.to_char(func.date_trunc(granularity, Story.started_at), "YYYY-MM-DD")


def trend_window(filters: Filters, granularity: str, today: Optional[date] = None) -> tuple[date, date]:
    """(first bucket start, last day) shown in the trend chart."""
    end = filters.date_to or today or utcnow().date()
    if granularity == "week":
        last_monday = end - timedelta(days=end.weekday())
        start = filters.date_from or (last_monday - timedelta(weeks=15))
        start = max(start - timedelta(days=start.weekday()), last_monday - timedelta(weeks=103))
    else:
        first = end.replace(day=1)
        y, m = first.year, first.month - 11
        while m <= 0:
            y, m = y - 1, m + 12
        start = filters.date_from or date(y, m, 1)
        start = start.replace(day=1)
        y, m = first.year - 3, first.month
        start = max(start, date(y, m, 1))
    return start, end


def trend(db: Session, filters: Filters, granularity: str) -> list[dict]:
    from bot.review.filters import local_midnight_utc

    start, end = trend_window(filters, granularity)
    bucket = _bucket_expr(db.get_bind().dialect.name, granularity).label("bucket")
    f = Filters(**{k: v for k, v in vars(filters).items()})
    f.band, f.score = "", None
    rows = db.execute(
        select(
            bucket,
            func.count(Story.score),
            _as_int(case((Story.score >= 9, 1), else_=0)),
            _as_int(case((Story.score <= 6, 1), else_=0)),
        )
        .where(*where_clauses(db, f), Story.score.isnot(None),
               Story.started_at >= local_midnight_utc(start),
               Story.started_at < local_midnight_utc(end + timedelta(days=1)))
        .group_by(bucket)
    ).all()
    by_bucket = {str(b)[:10]: (n, p, d) for b, n, p, d in rows}
    points, cur = [], start
    while cur <= end:
        if granularity == "week":
            nxt = cur + timedelta(weeks=1)
        else:
            nxt = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        n, p, d = by_bucket.get(cur.isoformat(), (0, 0, 0))
        points.append({"start": cur, "end": nxt - timedelta(days=1), "responses": n,
                       "promoters": p, "detractors": d, "nps": nps(p, d, n)})
        cur = nxt
    return points


def band_aspects(db: Session, filters: Filters, per_band: int = 6) -> dict:
    """{band: [(aspect, count), …]} — the most frequent aspects per score band."""
    band = _band_expr().label("band")
    rows = db.execute(
        select(band, StoryAspect.aspect, func.count())
        .select_from(StoryAspect)
        .join(Story, Story.id == StoryAspect.story_id)
        .where(*where_clauses(db, filters))
        .group_by(band, StoryAspect.aspect)
    ).all()
    out: dict = {b: [] for b in ("detractor", "passive", "promoter", "none")}
    for b, aspect, n in rows:
        out.setdefault(b, []).append((aspect, n))
    for b in out:
        out[b] = sorted(out[b], key=lambda t: (-t[1], t[0]))[:per_band]
    return out


QUOTE_COLUMNS = (Story.id, Story.reference, Story.score, Story.answers, Story.correction,
                 Story.summary_confirmed, Story.customer_text, Story.started_at, Story.language)


def band_quotes(db: Session, filters: Filters, band: str, aspects: list[str], per_aspect_rows: int = 6) -> list:
    """Recent stories of `band` that talk about each of `aspects` (one quote per aspect)."""
    lo, hi = BANDS[band]
    seen, out = set(), []
    clauses = where_clauses(db, filters)
    for aspect in aspects:
        rows = db.execute(
            select(*QUOTE_COLUMNS)
            .where(*clauses, Story.score.between(lo, hi),
                   Story.id.in_(select(StoryAspect.story_id).where(StoryAspect.aspect == aspect)))
            .order_by(Story.started_at.desc(), Story.id.desc())
            .limit(per_aspect_rows)
        ).all()
        best = None
        for r in rows:
            if r.id in seen:
                continue
            txt = quote_text(r)
            if not txt:
                continue
            goodness = (bool(r.summary_confirmed) or bool(r.correction), 30 <= len(txt) <= 260)
            if best is None or goodness > best[0]:
                best = (goodness, r, aspect)
        if best:
            seen.add(best[1].id)
            out.append((best[1], best[2]))
    return out


def quote_text(row) -> str:
    """The customer's own words: the story behind the score, else the correction, else all text."""
    answers = row.answers if isinstance(row.answers, dict) else {}
    for value in (answers.get("reason"), row.correction, row.customer_text):
        if isinstance(value, str) and value.strip() and not value.strip().isdigit():
            return value.strip()
    return ""
