"""SQL for the inbox, the story page and the dashboard. Aggregates run in the database
(GROUP BY); nothing loops over all stories in Python."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import Integer, and_, cast, func, literal_column, select
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
        if self.ttl <= 0:
            return compute()
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
def where_clauses(db: Session, filters: Filters, ordered: bool = False) -> list:
    return filters.clauses(lambda q: storeapi.search_clause(db, q), ordered=ordered,
                           dialect=db.get_bind().dialect.name)


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
    clauses = where_clauses(db, filters, ordered=True)
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


COUNT_CAP = 1_000


def count_stories(db: Session, filters: Filters, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(number of matching stories, capped). Without filters the exact total; with filters the
    count stops at `cap` (shown as "1 000+"), so a broad filter never costs a long index walk."""
    clauses = where_clauses(db, filters)
    if not clauses:
        return db.execute(select(func.count(Story.id))).scalar() or 0, False
    inner = select(Story.id).where(*clauses).limit(cap + 1).subquery()
    n = db.execute(select(func.count()).select_from(inner)).scalar() or 0
    return min(n, cap), n > cap


def matching_ids_query(db: Session, filters: Filters):
    """SELECT id of every story matching the filters, newest first (for export)."""
    return (
        select(Story.id)
        .where(*where_clauses(db, filters))
        .order_by(Story.started_at.desc(), Story.id.desc())
    )


# ---------------------------------------------------------------------------- dashboard
def _count_if(condition):
    """SUM(CAST(condition AS INTEGER)): cheaper than CASE on SQLite, valid on PostgreSQL."""
    return func.coalesce(func.sum(cast(condition, Integer)), 0)


def dashboard_totals(db: Session, filters: Filters, dist: Optional[list[int]] = None) -> dict:
    """Head-line numbers: one pass over the matching stories plus the score distribution."""
    row = db.execute(
        select(
            func.count(Story.id).label("stories"),
            _count_if(Story.repeat_contact.is_(True)).label("repeat"),
            _count_if(Story.summary_confirmed.is_(True)).label("confirmed"),
            func.count(Story.correction).label("corrected"),
            func.count(Story.summary_confirmed).label("summary_asked"),
            _count_if(Story.handoff_requested.is_(True)).label("handoffs"),
            _count_if(and_(
                Story.handoff_requested.is_(True),
                Story.follow_up_state != "done",
                Story.review_status != "closed",
            )).label("handoffs_waiting"),
        ).where(*where_clauses(db, filters))
    ).one()
    d = dict(row._mapping)
    dist = dist if dist is not None else distribution(db, filters)
    d["scored"] = sum(dist)
    d["detractors"] = sum(dist[0:7])
    d["passives"] = sum(dist[7:9])
    d["promoters"] = sum(dist[9:11])
    d["nps"] = nps(d["promoters"], d["detractors"], d["scored"])
    return d


def nps(promoters: int, detractors: int, scored: int) -> Optional[float]:
    if not scored:
        return None
    return 100.0 * (promoters - detractors) / scored


def distribution(db: Session, filters: Filters) -> list[int]:
    """Number of stories per score 0..10 (GROUP BY score, served by ix_stories_score)."""
    rows = db.execute(
        select(Story.score, func.count()).where(*where_clauses(db, filters), Story.score.isnot(None))
        .group_by(Story.score)
    ).all()
    counts = [0] * 11
    for score, n in rows:
        if score is not None and 0 <= score <= 10:
            counts[score] = n
    return counts


def trend_window(filters: Filters, granularity: str, today: Optional[date] = None) -> tuple[date, date]:
    """(first bucket start, last day) shown in the trend chart: the filter's dates, else the last
    12 months / 16 weeks; at most 36 months / 104 weeks."""
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
        start = (filters.date_from or date(y, m, 1)).replace(day=1)
        start = max(start, date(first.year - 3, first.month, 1))
    return start, end


def _bucket_start(day: date, granularity: str) -> date:
    return day - timedelta(days=day.weekday()) if granularity == "week" else day.replace(day=1)


def trend(db: Session, filters: Filters, granularity: str) -> list[dict]:
    """NPS per week or month. The database groups per day (or month); the ≤ 730 day rows are
    folded into weeks here."""
    from bot.review.filters import local_midnight_utc

    start, end = trend_window(filters, granularity)
    lo, hi = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    dialect = db.get_bind().dialect.name
    f = Filters(**vars(filters))
    f.band, f.score, f.date_from, f.date_to = "", None, None, None
    clauses = where_clauses(db, f)
    started, score = Story.started_at, Story.score
    if dialect == "sqlite":
        # The window usually covers most of the table: a plain scan then beats the
        # started_at index plus a table lookup per row (see docs/review.md, "Numbers").
        in_window = db.execute(select(func.count()).where(Story.started_at >= lo, Story.started_at < hi)).scalar()
        total = db.execute(select(func.count(Story.id))).scalar() or 1
        if in_window / total > 0.3:
            started = literal_column("+stories.started_at", type_=Story.started_at.type)
            score = literal_column("+stories.score", type_=Story.score.type)
        width = 7 if granularity == "month" else 10
        bucket = func.substr(Story.started_at, 1, width)
    else:
        bucket = func.to_char(func.date_trunc("month" if granularity == "month" else "day", Story.started_at),
                              "YYYY-MM-DD")
    bucket = bucket.label("bucket")
    rows = db.execute(
        select(bucket, func.count(Story.score), _count_if(Story.score >= 9), _count_if(Story.score <= 6))
        .where(*clauses, score.isnot(None), started >= lo, started < hi)
        .group_by(bucket)
    ).all()
    by_bucket: dict = {}
    for b, n, p, d in rows:
        raw = str(b)
        day = date.fromisoformat(raw + "-01" if len(raw) == 7 else raw[:10])
        key = _bucket_start(day, granularity)
        acc = by_bucket.setdefault(key, [0, 0, 0])
        acc[0] += n
        acc[1] += p
        acc[2] += d
    points, cur = [], start
    while cur <= end:
        nxt = cur + timedelta(weeks=1) if granularity == "week" else date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        n, p, d = by_bucket.get(cur, (0, 0, 0))
        points.append({"start": cur, "end": nxt - timedelta(days=1), "responses": n,
                       "promoters": p, "detractors": d, "nps": nps(p, d, n)})
        cur = nxt
    return points


def band_aspects(db: Session, filters: Filters, per_band: int = 6) -> dict:
    """{band: [(aspect, count), …]} — the most frequent aspects per score band (one GROUP BY
    aspect with a conditional count per band)."""
    group = StoryAspect.aspect
    if db.get_bind().dialect.name == "sqlite":
        # `+aspect`: stops SQLite from walking ix_story_aspects_aspect (to skip the sort) with a
        # table lookup per row; it then reads ix_stories_score and the (story_id, aspect) key only.
        group = literal_column("+story_aspects.aspect", type_=StoryAspect.aspect.type)
    rows = db.execute(
        select(
            StoryAspect.aspect,
            _count_if(Story.score <= BANDS["detractor"][1]),
            _count_if(Story.score.between(*BANDS["passive"])),
            _count_if(Story.score >= BANDS["promoter"][0]),
        )
        .select_from(Story)
        .join(StoryAspect, StoryAspect.story_id == Story.id)
        .where(*where_clauses(db, filters), Story.score.isnot(None))
        .group_by(group)
    ).all()
    out: dict = {"detractor": [], "passive": [], "promoter": []}
    for aspect, det, pas, pro in rows:
        for band, n in (("detractor", det), ("passive", pas), ("promoter", pro)):
            if n:
                out[band].append((aspect, n))
    for b in out:
        out[b] = sorted(out[b], key=lambda t: (-t[1], t[0]))[:per_band]
    return out


_POOL: list = []


def _pool():
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(max_workers=3, thread_name_prefix="dashboard"))
    return _POOL[0]


def dashboard_data(db: Session, filters: Filters, granularity: str, factory=None) -> dict:
    """Everything the dashboard shows, unredacted (the view redacts per role).

    With a session `factory`, the three heavy aggregates (totals, trend, aspects per band) run
    at the same time on their own connections (SQLite in WAL mode and PostgreSQL both serve
    concurrent readers; the sqlite3 driver releases the GIL while a query runs)."""
    def on_own_session(fn, *args):
        with factory() as own:
            return fn(own, *args)

    if factory is not None:
        pool = _pool()
        f_totals = pool.submit(on_own_session, dashboard_totals, filters, None)
        f_trend = pool.submit(on_own_session, trend, filters, granularity)
        f_aspects = pool.submit(on_own_session, band_aspects, filters)
        dist = distribution(db, filters)
        aspects = f_aspects.result()
        quotes = {band: band_quotes(db, filters, band, [a for a, _ in aspects.get(band, [])[:3]])
                  for band in ("detractor", "passive", "promoter")}
        totals, points = f_totals.result(), f_trend.result()
    else:
        dist = distribution(db, filters)
        aspects = band_aspects(db, filters)
        quotes = {band: band_quotes(db, filters, band, [a for a, _ in aspects.get(band, [])[:3]])
                  for band in ("detractor", "passive", "promoter")}
        totals, points = dashboard_totals(db, filters, dist), trend(db, filters, granularity)
    return {"as_of": utcnow(), "dist": dist, "totals": totals, "points": points, "aspects": aspects,
            "quotes": quotes}


QUOTE_COLUMNS = (Story.id, Story.reference, Story.score, Story.answers, Story.correction,
                 Story.summary_confirmed, Story.customer_text, Story.started_at, Story.language)


def band_quotes(db: Session, filters: Filters, band: str, aspects: list[str], per_aspect_rows: int = 6) -> list:
    """Recent stories of `band` that talk about each of `aspects` (one quote per aspect)."""
    lo, hi = BANDS[band]
    seen, out = set(), []
    f = Filters(**vars(filters))
    f.band, f.score = band, None
    for aspect in aspects:
        f.aspect = aspect
        rows = db.execute(
            select(*QUOTE_COLUMNS)
            .where(*where_clauses(db, f, ordered=True))
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
