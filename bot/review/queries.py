"""SQL for the inbox, the story page and the dashboard. Aggregates run in the database
(GROUP BY); nothing loops over all stories in Python."""
from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import Optional

from sqlalchemy import Integer, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from bot.review import storeapi
from bot.review.filters import (
    BANDS, OPEN_STATES, Filters, decode_cursor, encode_cursor, keyset_clause,
)
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
def where_clauses(db: Session, filters: Filters, ordered: bool = False, scan: bool = False) -> list:
    return filters.clauses(lambda q: storeapi.search_clause(db, q), ordered=ordered, scan=scan,
                           dialect=db.get_bind().dialect.name)


INBOX_COLUMNS = (
    Story.id, Story.reference, Story.started_at, Story.score, Story.status, Story.review_status,
    Story.aspects, Story.answers, Story.correction, Story.customer_text, Story.repeat_contact,
    Story.handoff_requested, Story.consent_to_contact, Story.language, Story.channel,
    Story.sentiment, Story.assignee, Story.follow_up_state, Story.follow_up_due_at,
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


def _totals_columns():
    return (
        func.count(Story.id).label("stories"),
        _count_if(Story.repeat_contact.is_(True)).label("repeat"),
        _count_if(Story.summary_confirmed.is_(True)).label("confirmed"),
        func.count(Story.correction).label("corrected"),
        func.count(Story.summary_confirmed).label("summary_asked"),
        _count_if(Story.handoff_requested.is_(True)).label("handoffs"),
        # CASE first tests the hand-off flag, so the later columns are only read for hand-offs
        func.coalesce(func.sum(case(
            (Story.handoff_requested.is_(True),
             cast(Story.follow_up_state.in_(OPEN_STATES), Integer)),
            else_=0,
        )), 0).label("handoffs_waiting"),
    )


def _with_bands(d: dict, dist: list[int]) -> dict:
    d["scored"] = sum(dist)
    d["detractors"] = sum(dist[0:7])
    d["passives"] = sum(dist[7:9])
    d["promoters"] = sum(dist[9:11])
    d["nps"] = nps(d["promoters"], d["detractors"], d["scored"])
    return d


def dashboard_numbers(db: Session, filters: Filters) -> tuple[list[int], dict]:
    """(score distribution 0..10, head-line totals).

    Unfiltered: the distribution from ix_stories_score alone, the totals in one pass. Filtered:
    both in one pass, grouped by score (each extra pass would repeat the filter's work)."""
    clauses = where_clauses(db, filters, scan=True)
    if not clauses:
        dist = distribution(db, filters)
        d = dict(db.execute(select(*_totals_columns())).one()._mapping)
        return dist, _with_bands(d, dist)
    score = Story.score
    if db.get_bind().dialect.name == "sqlite":
        score = literal_column("+stories.score", type_=Story.score.type)  # no walk of ix_stories_score
    score = score.label("score")
    rows = db.execute(select(score, *_totals_columns()).where(*clauses).group_by(score)).all()
    dist = [0] * 11
    d = {k: 0 for k in ("stories", "repeat", "confirmed", "corrected", "summary_asked", "handoffs", "handoffs_waiting")}
    for row in rows:
        m = row._mapping
        if m["score"] is not None and 0 <= m["score"] <= 10:
            dist[m["score"]] += m["stories"]
        for k in d:
            d[k] += m[k] or 0
    return dist, _with_bands(d, dist)


def dashboard_totals(db: Session, filters: Filters, dist: Optional[list[int]] = None) -> dict:
    """Head-line numbers (see dashboard_numbers)."""
    return dashboard_numbers(db, filters)[1]


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


_INDEX_CHECK: dict = {}


def has_started_score_index(db: Session) -> bool:
    """Whether the store has an index on stories (started_at, score) (recommended, see
    docs/review.md): the trend then reads one index range per bucket, without a table pass."""
    bind = db.get_bind()
    key = str(bind.url)
    if key not in _INDEX_CHECK:
        from sqlalchemy import inspect

        import warnings

        try:
            with warnings.catch_warnings():  # PostgreSQL: expression indexes (full-text) are not reflected
                warnings.simplefilter("ignore")
                indexes = inspect(bind).get_indexes("stories")
        except Exception:  # noqa: BLE001
            indexes = []
        _INDEX_CHECK[key] = any(list(ix.get("column_names") or [])[:2] == ["started_at", "score"] for ix in indexes)
    return _INDEX_CHECK[key]


def _trend_per_bucket(db: Session, start: date, end: date, granularity: str) -> list[dict]:
    from bot.review.filters import local_midnight_utc

    points = []
    for cur, nxt in _buckets(start, end, granularity):
        n, p, d = db.execute(
            select(func.count(Story.score), _count_if(Story.score >= 9), _count_if(Story.score <= 6))
            .where(Story.started_at >= local_midnight_utc(cur), Story.started_at < local_midnight_utc(nxt),
                   Story.score.isnot(None))
        ).one()
        points.append({"start": cur, "end": nxt - timedelta(days=1), "responses": n,
                       "promoters": p, "detractors": d, "nps": nps(p, d, n)})
    return points


def _buckets(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    out, cur = [], start
    while cur <= end:
        nxt = cur + timedelta(weeks=1) if granularity == "week" else date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        out.append((cur, nxt))
        cur = nxt
    return out


def trend(db: Session, filters: Filters, granularity: str) -> list[dict]:
    """NPS per local week or month, in one GROUP BY. Each story's bucket is found with a CASE
    over the buckets' start instants (local midnight in UTC), so the buckets are exact local
    weeks/months, also across daylight-saving changes, without date functions per row."""
    from bot.review.filters import local_midnight_utc

    start, end = trend_window(filters, granularity)
    buckets = _buckets(start, end, granularity)
    lo, hi = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    f = Filters(**vars(filters))
    f.band, f.score, f.date_from, f.date_to = "", None, None, None
    clauses = where_clauses(db, f, scan=True)
    if not clauses and has_started_score_index(db):
        return _trend_per_bucket(db, start, end, granularity)
    started, score = Story.started_at, Story.score
    if db.get_bind().dialect.name == "sqlite":
        # The window usually covers most of the table: a plain scan then beats the
        # started_at index plus a table lookup per row (see docs/review.md, "Numbers").
        in_window = db.execute(select(func.count()).where(Story.started_at >= lo, Story.started_at < hi)).scalar()
        total = db.execute(select(func.count(Story.id))).scalar() or 1
        if in_window / total > 0.3:
            started = literal_column("+stories.started_at", type_=Story.started_at.type)
            score = literal_column("+stories.score", type_=Story.score.type)
    whens = [(Story.started_at < local_midnight_utc(nxt), i) for i, (_, nxt) in enumerate(buckets[:-1])]
    aggregates = (func.count(Story.score), _count_if(Story.score >= 9), _count_if(Story.score <= 6))
    window = (*clauses, score.isnot(None), started >= lo, started < hi)
    if whens:
        bucket = case(*whens, else_=len(buckets) - 1).label("bucket")
        rows = db.execute(select(bucket, *aggregates).where(*window).group_by(bucket)).all()
    else:  # one bucket
        rows = [(0, *db.execute(select(*aggregates).where(*window)).one())]
    by_bucket = {int(b): (n, p, d) for b, n, p, d in rows}
    points = []
    for i, (cur, nxt) in enumerate(buckets):
        n, p, d = by_bucket.get(i, (0, 0, 0))
        points.append({"start": cur, "end": nxt - timedelta(days=1), "responses": n,
                       "promoters": p, "detractors": d, "nps": nps(p, d, n)})
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
        .where(*where_clauses(db, filters, scan=True), Story.score.isnot(None))
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

        _POOL.append(ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard"))
    return _POOL[0]


def dashboard_data(db: Session, filters: Filters, granularity: str, factory=None) -> dict:
    """Everything the dashboard shows, unredacted (the view redacts per role).

    With a session `factory`, the three heavy aggregates (distribution + totals, trend, aspects
    per band) run at the same time on their own connections (SQLite in WAL mode and PostgreSQL
    both serve concurrent readers; the sqlite3 driver releases the GIL while a query runs)."""
    def on_own_session(fn, *args):
        with factory() as own:
            return fn(own, *args)

    def quotes_for(aspects):
        return {band: band_quotes(db, filters, band, [a for a, _ in aspects.get(band, [])[:3]])
                for band in ("detractor", "passive", "promoter")}

    if factory is not None:
        pool = _pool()
        f_numbers = pool.submit(on_own_session, dashboard_numbers, filters)
        f_trend = pool.submit(on_own_session, trend, filters, granularity)
        aspects = band_aspects(db, filters)
        quotes = quotes_for(aspects)
        (dist, totals), points = f_numbers.result(), f_trend.result()
    else:
        dist, totals = dashboard_numbers(db, filters)
        aspects = band_aspects(db, filters)
        quotes = quotes_for(aspects)
        points = trend(db, filters, granularity)
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


# ---------------------------------------------------------------------------- follow-ups
FOLLOW_UP_COLUMNS = (
    Story.id, Story.reference, Story.started_at, Story.score, Story.language, Story.answers,
    Story.correction, Story.customer_text, Story.handoff_requested, Story.consent_to_contact,
    Story.assignee, Story.follow_up_state, Story.follow_up_due_at, Story.follow_up_opened_at,
    Story.first_contact_at, Story.channel,
)


def open_follow_ups(db: Session, assignee: Optional[str] = None, limit: int = 200) -> list:
    """Open and contacted follow-ups (of `assignee` when given), the earliest due first, so the
    overdue ones lead; follow-ups without a due time come last."""
    query = select(*FOLLOW_UP_COLUMNS).where(Story.follow_up_state.in_(OPEN_STATES))
    if assignee is not None:
        query = query.where(Story.assignee == assignee)
    query = query.order_by(Story.follow_up_due_at.is_(None), Story.follow_up_due_at, Story.id)
    return db.execute(query.limit(limit)).all()


def follow_up_counts(db: Session, now, assignee: Optional[str] = None) -> tuple[int, int]:
    """(open, overdue) follow-ups, of `assignee` when given."""
    query = select(
        func.count(Story.id), _count_if(and_(Story.follow_up_due_at.isnot(None), Story.follow_up_due_at < now))
    ).where(Story.follow_up_state.in_(OPEN_STATES))
    if assignee is not None:
        query = query.where(Story.assignee == assignee)
    n_open, n_overdue = db.execute(query).one()
    return int(n_open or 0), int(n_overdue or 0)


def _median(values: list) -> Optional[float]:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def follow_up_stats(db: Session, filters: Filters, now, weeks: int = 8) -> dict:
    """Follow-ups of the stories matching `filters`: open and overdue now, and per week in
    which follow-ups were opened (the last `weeks` weeks, Monday first): opened, still open,
    overdue, and the median hours from opening to first contact over the n contacted."""
    clauses = where_clauses(db, filters)
    n_open, n_overdue = db.execute(
        select(func.count(Story.id),
               _count_if(and_(Story.follow_up_due_at.isnot(None), Story.follow_up_due_at < now)))
        .where(*clauses, Story.follow_up_state.in_(OPEN_STATES))
    ).one()
    today = now.date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    buckets = [{"start": first + timedelta(weeks=i), "opened": 0, "open": 0, "overdue": 0, "hours": []}
               for i in range(weeks)]
    rows = db.execute(
        select(Story.follow_up_opened_at, Story.first_contact_at, Story.follow_up_state, Story.follow_up_due_at)
        .where(*clauses, Story.follow_up_opened_at >= first)
    )
    for opened, contacted, state, due in rows:
        bucket = buckets[min((opened.date() - first).days // 7, weeks - 1)]
        bucket["opened"] += 1
        if state in OPEN_STATES:
            bucket["open"] += 1
            if due is not None and due < now:
                bucket["overdue"] += 1
        if contacted is not None:
            bucket["hours"].append(max(0.0, (contacted - opened).total_seconds() / 3600))
    for bucket in buckets:
        hours = bucket.pop("hours")
        bucket["contacted"] = len(hours)
        bucket["median_hours"] = _median(hours)
    return {"open": int(n_open or 0), "overdue": int(n_overdue or 0), "weeks": buckets}
