"""Routes of the review app (one blueprint). Every route except /login, /healthz and /readyz
requires a logged-in staff member (enforced in app.create_app's before_request)."""
from __future__ import annotations

import re
from functools import wraps
from typing import Optional
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
    stream_with_context, url_for,
)
from sqlalchemy import delete, func, select, text

from bot.review import accounts, charts, queries, storeapi
from bot.review.accounts import audit
from bot.review.app import begin_session, db, end_session, has_role, is_known_device, session_token
from bot.review.filters import BANDS, Filters, band_of
from bot.review.formatting import MONTHS
from bot.review.highlight import highlight, mentions
from bot.store import follow_up
from bot.store.models import (
    REVIEW_STATUSES, ROLES, AuditEntry, Note, StaffUser, Story, StoryTag, utcnow,
)

bp = Blueprint("review", __name__)

DIMENSIONS = ("reason", "situation", "expectation", "impact", "priority", "in_our_place", "blind_spot")
DIMENSION_LABELS = {
    "reason": "Reason behind the score", "situation": "What happened", "expectation": "What they expected",
    "impact": "What it meant for them", "priority": "What matters most", "in_our_place": "What they would do in our place",
    "blind_spot": "What we are not seeing",
}
TAG_RE = re.compile(r"^[\w][\w .\-/&+]{0,63}$", re.UNICODE)
REDACTED = "[redacted]"


def require(role: str):
    def deco(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if not has_role(role):
                abort(403)
            return fn(*args, **kwargs)
        return wrapper
    return deco


def actor() -> str:
    return g.user.email if g.get("user") else "?"


def must_redact() -> bool:
    """Viewers see personal data redacted; reviewers and admins see it in full."""
    return not has_role("reviewer")


def red(value: Optional[str], language: Optional[str] = None) -> Optional[str]:
    """`value` with personal data replaced by markers when the current user is a viewer."""
    return storeapi.redact_text(value, language or "nl") if (value and must_redact()) else value


def _audit_search(s, filters: Filters) -> None:
    """Every search is audited (the query hashed where it holds personal data); a viewer's query
    holding personal data matches nothing, and the viewer is told why."""
    if not filters.q:
        return
    audit(s, actor(), "search", "stories", **storeapi.search_audit(filters.q), redacted=must_redact())
    s.commit()
    if must_redact() and storeapi.personal_terms(filters.q):
        flash("Viewers cannot search for personal data (e-mail addresses, phone numbers, postcodes, "
              "numbers of 4+ digits): nothing matches.", "error")


def client_ip() -> str:
    return request.remote_addr or "?"


def safe_next(raw: Optional[str]) -> str:
    """Only local paths: never redirect to another site after login."""
    if not raw:
        return url_for("review.inbox")
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return url_for("review.inbox")
    return raw


# ---------------------------------------------------------------------------- health
@bp.get("/healthz")
def healthz():
    return Response("ok\n", mimetype="text/plain")


@bp.get("/readyz")
def readyz():
    try:
        with current_app.extensions["gehoor_engine"].connect() as conn:
            conn.execute(text("SELECT 1"))
            conn.execute(select(Story.id).limit(1))  # and migrated
    except Exception:  # noqa: BLE001 - any failure means not ready
        current_app.logger.warning("readyz: database not reachable or not migrated", exc_info=True)
        return Response("database not reachable or not migrated\n", status=503, mimetype="text/plain")
    return Response("ready\n", mimetype="text/plain")


# ---------------------------------------------------------------------------- login
@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    error, status = None, 200
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()[:255]
        password = request.form.get("password") or ""
        result = accounts.authenticate(db(), email, password, client_ip(), known_device=is_known_device(email))
        if result.user is not None:
            if not begin_session(result.user):  # TOTP on: the code comes next
                return redirect(url_for("twofactor.code", next=request.form.get("next") or None))
            return redirect(safe_next(request.form.get("next")))
        if result.locked:
            from bot.review.formatting import fmt_time

            from bot.review import settings

            error = (f"Too many failed attempts. Logging in is blocked until {fmt_time(result.locked_until)}"
                     f" ({settings.lockout_minutes()} minutes after the failures).")
            status = 429
        else:
            error = "That e-mail address and password do not match an active staff account."
            status = 401
    return render_template("login.html", error=error, email=email,
                           next=request.values.get("next", "")), status


@bp.post("/logout")
def logout():
    audit(db(), actor(), "logout", f"ip:{client_ip()}")
    end_session("logout")  # the server-side session is revoked: a copied cookie is useless too
    flash("You are logged out.")
    return redirect(url_for("review.login"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    error = None
    if request.method == "POST":
        user = db().get(StaffUser, g.user.id)
        try:
            accounts.HASHER.verify(user.password_hash, request.form.get("current") or "")
        except Exception:  # noqa: BLE001
            error = "Your current password is not right."
        else:
            new, again = request.form.get("new") or "", request.form.get("again") or ""
            if new != again:
                error = "The two new passwords differ."
            else:
                try:
                    accounts.set_password(db(), user.email, new, actor=user.email, keep_token=session_token())
                except ValueError as exc:
                    error = str(exc).capitalize() + "."
                else:
                    db().commit()
                    flash("Your password is changed.")
                    return redirect(url_for("review.account"))
    return render_template("account.html", error=error), (400 if error else 200)


# ---------------------------------------------------------------------------- inbox
@bp.get("/")
def index():
    return redirect(url_for("review.inbox"))


def _row_view(r, now) -> dict:
    answers = r.answers if isinstance(r.answers, dict) else {}
    story = answers.get("reason") or r.correction or r.customer_text or ""
    return {
        "id": r.id, "reference": r.reference, "started_at": r.started_at, "score": r.score,
        "band": band_of(r.score), "status": r.status, "review_status": r.review_status,
        "review_label": r.review_status.replace("_", " "),
        "aspects": list(r.aspects or [])[:4], "text": red(story, r.language), "repeat": r.repeat_contact,
        "handoff": r.handoff_requested, "consent": r.consent_to_contact, "language": r.language,
        "channel": r.channel, "sentiment": r.sentiment, "assignee": r.assignee,
        "follow_up": follow_up.state_of(r.follow_up_state),
        "overdue": follow_up.is_overdue(r.follow_up_state, r.follow_up_due_at, now),
    }


@bp.get("/inbox")
def inbox():
    s = db()
    filters = Filters.from_args(request.args)
    _audit_search(s, filters)
    page = queries.inbox_page(s, filters, before=request.args.get("before", ""), after=request.args.get("after", ""))
    total, capped = queries.count_stories(s, filters)
    choices = queries.filter_choices(s, current_app.extensions["gehoor_cache"])
    back = urlencode({"back": request.full_path})
    now = utcnow()
    rows = [_row_view(r, now) for r in page["rows"]]
    for row in rows:  # plain string building: url_for per row is measurable on a 50-row page
        row["href"] = f"{request.script_root}/stories/{row['id']}?{back}"
    return render_template(
        "inbox.html", filters=filters, rows=rows, total=total, capped=capped,
        older=page["older"], newer=page["newer"], choices=choices, params=filters.params(),
        review_statuses=REVIEW_STATUSES, first_page=not (request.args.get("before") or request.args.get("after")),
        my_follow_ups=queries.follow_up_counts(s, now, g.user.email),
    )


# ---------------------------------------------------------------------------- story page
def _story_or_404(story_id: int) -> Story:
    story = db().get(Story, story_id)
    if story is None:
        abort(404)
    return story


def story_view(story: Story) -> dict:
    redact = must_redact()
    lang = story.language or "nl"
    answers = story.answers if isinstance(story.answers, dict) else {}
    messages = []
    for m in story.messages:
        body = red(m.text, lang) or ""
        spans = mentions(body, lang) if m.role == "customer" else []
        messages.append({"role": m.role, "html": highlight(body, spans), "at": m.at})
    meta = story.channel_metadata if isinstance(story.channel_metadata, dict) else {}
    if redact:  # by field (bot.store.redact.PERSONAL_FIELDS / SAFE_METADATA_KEYS)
        meta = storeapi.redact_metadata(meta, lang)
    meta_rows = []
    for key, value in sorted(meta.items()):
        if isinstance(value, (dict, list)) or value in (None, ""):
            continue
        meta_rows.append((key.replace("_", " "), str(value)[:300]))
    siblings = 0
    if has_role("admin"):
        siblings = (db().execute(select(func.count(Story.id)).where(
            Story.conversation_id == story.conversation_id)).scalar() or 1) - 1
    return {
        "s": story,
        "band": band_of(story.score),
        "summary": red(story.summary, lang),
        "correction": red(story.correction, lang),
        "answers": [(DIMENSION_LABELS.get(k, k.replace("_", " ")), red(answers[k], lang))
                    for k in list(DIMENSIONS) + sorted(set(answers) - set(DIMENSIONS))
                    if isinstance(answers.get(k), str) and answers.get(k).strip()],
        "contact": storeapi.redact_contact(story.contact, story.contact_kind, lang) if redact else story.contact,
        "messages": messages,
        "meta": meta_rows,
        "notes": [{"author": n.author, "text": red(n.text, lang), "at": n.created_at} for n in story.notes],
        "follow_up_note": red(story.follow_up_note, lang),
        "fu": follow_up_view(story),
        "tags": sorted(t.tag for t in story.tags),
        "siblings": siblings,
    }


@bp.get("/stories/<int:story_id>")
def story(story_id: int):
    s = db()
    st = _story_or_404(story_id)
    if st.review_status == "new" and has_role("reviewer"):
        st.review_status = "read"
        audit(s, actor(), "change", f"story:{st.id}", field="review_status", old="new", new="read", auto=True)
    audit(s, actor(), "view", f"story:{st.id}", redacted=must_redact())
    s.commit()
    choices = queries.filter_choices(s, current_app.extensions["gehoor_cache"])
    back = request.args.get("back", "")
    back = back if back.startswith("/inbox") else url_for("review.inbox")
    return render_template("story.html", v=story_view(st), review_statuses=REVIEW_STATUSES,
                           choices=choices, back=back)


def _clear_caches():
    current_app.extensions["gehoor_cache"].clear()
    current_app.extensions["gehoor_dash_cache"].clear()


def _after_change(story: Story):
    db().commit()
    _clear_caches()
    return redirect(url_for("review.story", story_id=story.id, back=request.form.get("back") or None) + "#staff")


@bp.post("/stories/<int:story_id>/tags")
@require("reviewer")
def story_tags(story_id: int):
    st = _story_or_404(story_id)
    tag = " ".join((request.form.get("tag") or "").split()).lower()
    op = request.form.get("op", "add")
    if not TAG_RE.match(tag):
        flash("A tag is 1–64 letters, digits, spaces or - . / & +, starting with a letter or digit.", "error")
        return redirect(url_for("review.story", story_id=st.id) + "#staff")
    existing = {t.tag for t in st.tags}
    if op == "remove":
        if tag in existing:
            db().execute(delete(StoryTag).where(StoryTag.story_id == st.id, StoryTag.tag == tag))
            audit(db(), actor(), "change", f"story:{st.id}", field="tag", removed=tag)
    elif tag not in existing:
        db().add(StoryTag(story_id=st.id, tag=tag))
        audit(db(), actor(), "change", f"story:{st.id}", field="tag", added=tag)
    return _after_change(st)


@bp.post("/stories/<int:story_id>/notes")
@require("reviewer")
def story_notes(story_id: int):
    st = _story_or_404(story_id)
    body = (request.form.get("text") or "").strip()
    if not body:
        flash("A note cannot be empty.", "error")
        return redirect(url_for("review.story", story_id=st.id) + "#staff")
    db().add(Note(story_id=st.id, author=actor(), text=body[:5000]))
    audit(db(), actor(), "change", f"story:{st.id}", field="note", length=len(body))
    return _after_change(st)


@bp.post("/stories/<int:story_id>/review")
@require("reviewer")
def story_review(story_id: int):
    st = _story_or_404(story_id)
    new = request.form.get("review_status", "")
    if new not in REVIEW_STATUSES:
        abort(400)
    if new != st.review_status:
        audit(db(), actor(), "change", f"story:{st.id}", field="review_status", old=st.review_status, new=new)
        st.review_status = new
        st.updated_at = utcnow()
    return _after_change(st)


def _assignee_from_form() -> tuple[Optional[str], Optional[str]]:
    """(assignee or None for nobody, error): "me" is the current user; only active reviewers
    and admins can own stories."""
    who = (request.form.get("assignee") or "").strip().lower()
    if who == "me":
        who = g.user.email
    if who:
        target = accounts.get_staff(db(), who)
        if target is None or target.disabled or target.role not in ("reviewer", "admin"):
            return None, "Stories can only be assigned to active reviewers or admins."
    return who or None, None


@bp.post("/stories/<int:story_id>/assign")
@require("reviewer")
def story_assign(story_id: int):
    st = _story_or_404(story_id)
    new, error = _assignee_from_form()
    if error:
        flash(error, "error")
        return redirect(url_for("review.story", story_id=st.id) + "#staff")
    if new != st.assignee:
        audit(db(), actor(), "change", f"story:{st.id}", field="assignee", old=st.assignee, new=new)
        st.assignee = new
        st.updated_at = utcnow()
    return _after_change(st)


def follow_up_view(story) -> dict:
    """State, label, due time, overdue flag and the moves staff can make next."""
    state = follow_up.state_of(story.follow_up_state)
    now = utcnow()
    return {
        "state": state, "label": follow_up.LABELS.get(state, state.replace("_", " ")),
        "is_open": state in follow_up.OPEN, "due": story.follow_up_due_at,
        "overdue": follow_up.is_overdue(state, story.follow_up_due_at, now),
        "opened": story.follow_up_opened_at, "first_contact": story.first_contact_at,
        "closed": story.followed_up_at if state in follow_up.CLOSED else None,
        "moves": [(t, follow_up.ACTION_LABELS[t]) for t in follow_up.TRANSITIONS.get(state, ())],
    }


def _move_follow_up(st: Story, new: str, note: str, **audit_extra) -> Optional[str]:
    """Apply one follow-up move with its audit entry; returns an error message or None."""
    if new == "resolved" and not note:
        return "Write down what was done, so colleagues know."
    now = utcnow()
    try:
        changes = follow_up.transition(st, new, now, note=note[:5000] or None)
    except follow_up.TransitionError as exc:
        return str(exc).capitalize() + "."
    if changes:
        old = changes.get("follow_up_state", (new, new))[0]
        audit(db(), actor(), "change", f"story:{st.id}", field="follow_up", old=old, new=new,
              **({"note_length": len(note)} if note else {}), **audit_extra)
        st.updated_at = now
        if note:
            db().add(Note(story_id=st.id, author=actor(), text=f"{follow_up.LABELS[new]}: {note[:5000]}"))
    return None


@bp.post("/stories/<int:story_id>/follow-up")
@require("reviewer")
def story_follow_up(story_id: int):
    st = _story_or_404(story_id)
    note = (request.form.get("note") or "").strip()
    op = request.form.get("op") or "resolved"  # the old form sent only a note: "mark as followed up"
    op = {"reopen": "open"}.get(op, op)
    if op not in follow_up.ACTION_LABELS:
        abort(400)
    error = _move_follow_up(st, op, note)
    if error:
        db().rollback()
        flash(error, "error")
        return redirect(url_for("review.story", story_id=st.id) + "#follow-up")
    return _after_change(st)


# ---------------------------------------------------------------------------- follow-ups
@bp.get("/follow-ups")
def follow_ups():
    """Open follow-ups, overdue first: mine (default) or everybody's (?who=all)."""
    s = db()
    everybody = request.args.get("who") == "all"
    mine = None if everybody else g.user.email
    now = utcnow()
    rows = []
    for r in queries.open_follow_ups(s, mine):
        answers = r.answers if isinstance(r.answers, dict) else {}
        text_ = answers.get("reason") or r.correction or r.customer_text or ""
        state = follow_up.state_of(r.follow_up_state)
        rows.append({
            "id": r.id, "reference": r.reference, "score": r.score, "band": band_of(r.score),
            "text": red(text_, r.language), "assignee": r.assignee, "state": state,
            "label": follow_up.LABELS.get(state, state), "due": r.follow_up_due_at,
            "overdue": follow_up.is_overdue(state, r.follow_up_due_at, now),
            "handoff": r.handoff_requested, "consent": r.consent_to_contact, "channel": r.channel,
        })
    n_open, n_overdue = queries.follow_up_counts(s, now, mine)
    choices = queries.filter_choices(s, current_app.extensions["gehoor_cache"])
    return render_template("follow_ups.html", rows=rows, everybody=everybody, n_open=n_open,
                           n_overdue=n_overdue, choices=choices)


@bp.post("/follow-ups/bulk")
@require("reviewer")
def follow_ups_bulk():
    """Assign or resolve the ticked follow-ups; each story gets its own audit entry."""
    ids = sorted({int(x) for x in request.form.getlist("ids") if x.isdigit()})[:500]
    op = request.form.get("op", "")
    back = url_for("review.follow_ups", who=request.form.get("who") or None)
    if op not in ("assign", "resolve") or not ids:
        flash("Tick at least one follow-up and choose assign or resolve.", "error")
        return redirect(back)
    note = (request.form.get("note") or "").strip()
    who = None
    if op == "assign":
        who, error = _assignee_from_form()
        if error:
            flash(error, "error")
            return redirect(back)
    stories = db().execute(select(Story).where(Story.id.in_(ids))).scalars().all()
    done, skipped = 0, []
    for st in stories:
        if op == "assign":
            if who != st.assignee:
                audit(db(), actor(), "change", f"story:{st.id}", field="assignee", old=st.assignee, new=who, bulk=True)
                st.assignee = who
                st.updated_at = utcnow()
            done += 1
        else:
            error = _move_follow_up(st, "resolved", note, bulk=True)
            if error and not note:
                db().rollback()
                flash(error, "error")
                return redirect(back)
            if error:
                skipped.append(st.reference)
            else:
                done += 1
    db().commit()
    _clear_caches()
    verb = "Assigned" if op == "assign" else "Resolved"
    flash(f"{verb} {done} follow-up{'s' if done != 1 else ''}."
          + (f" Not changed: {', '.join(skipped)}." if skipped else ""))
    return redirect(back)


@bp.post("/stories/<int:story_id>/erase")
@require("admin")
def story_erase(story_id: int):
    st = _story_or_404(story_id)
    if (request.form.get("confirm") or "").strip().upper() != st.reference.upper():
        flash("Type the story's reference to confirm the erasure.", "error")
        return redirect(url_for("review.story", story_id=st.id) + "#erase")
    conversation = st.conversation_id
    db().commit()  # end our transaction: the store's forget() works in its own sessions
    report = storeapi.forget_conversation(current_app.extensions["gehoor_sessions"], conversation, actor())
    _clear_caches()
    refs = ", ".join(report.stories) or "nothing"
    flash(f"Erased: {refs} ({report.messages} messages).")
    if report.tracker_error:
        flash(f"The conversation's Rasa tracker events could not be removed: {report.tracker_error}", "error")
    return redirect(url_for("review.inbox"))


# ---------------------------------------------------------------------------- dashboard
@bp.get("/dashboard")
def dashboard():
    s = db()
    filters = Filters.from_args(request.args)
    _audit_search(s, filters)
    granularity = "week" if request.args.get("per") == "week" else "month"
    params = filters.params()
    data = current_app.extensions["gehoor_dash_cache"].get(
        (tuple(sorted(params.items())), granularity), lambda: queries.dashboard_data(s, filters, granularity, current_app.extensions["gehoor_sessions"]))
    dist, totals, points, aspects = data["dist"], data["totals"], [dict(p) for p in data["points"]], data["aspects"]
    dist_links = [url_for("review.inbox", **filters.params(score=i, band="")) for i in range(11)]
    dist_svg = charts.distribution(dist, dist_links, [band_of(i) for i in range(11)])
    for p in points:
        p["label"] = (f"week of {p['start'].strftime('%d-%m-%Y')}" if granularity == "week"
                      else p["start"].strftime("%m-%Y"))
        p["short"] = (p["start"].strftime("%d-%m") if granularity == "week"
                      else f"{MONTHS[p['start'].month - 1]}" + (f" ’{p['start']:%y}" if p["start"].month == 1 or p is points[0] else ""))
        p["href"] = url_for("review.inbox", **filters.params(**{"from": p["start"].isoformat(), "to": p["end"].isoformat()}))
    trend_svg = charts.nps_trend(points)
    bands = []
    for band in ("detractor", "passive", "promoter"):
        top = aspects.get(band, [])
        quotes = data["quotes"][band]
        peak = top[0][1] if top else 0
        count = {"detractor": totals["detractors"], "passive": totals["passives"], "promoter": totals["promoters"]}[band]
        bands.append({
            "name": band, "range": BANDS[band], "count": count,
            "href": url_for("review.inbox", **filters.params(band=band, score="")),
            "aspects": [{"name": a, "count": n, "bar": charts.hbar(n, peak, band),
                         "href": url_for("review.inbox", **filters.params(band=band, score="", aspect=a))}
                        for a, n in top],
            "quotes": [{"text": red(queries.quote_text(r), r.language), "reference": r.reference, "id": r.id,
                        "score": r.score, "aspect": a, "confirmed": bool(r.summary_confirmed),
                        "at": r.started_at} for r, a in quotes],
        })
    choices = queries.filter_choices(s, current_app.extensions["gehoor_cache"])
    return render_template(
        "dashboard.html", filters=filters, params=params, totals=totals, dist_svg=dist_svg,
        trend_svg=trend_svg, bands=bands, granularity=granularity, choices=choices, as_of=data["as_of"],
        split_svg=charts.score_split(totals["detractors"], totals["passives"], totals["promoters"]),
        review_statuses=REVIEW_STATUSES,
        fu=queries.follow_up_stats(s, filters, utcnow()),  # not cached: overdue changes by the minute
    )


# ---------------------------------------------------------------------------- export
@bp.get("/export")
def export():
    s = db()
    filters = Filters.from_args(request.args)
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "jsonl"):
        abort(400)
    redact = must_redact()
    audit(s, actor(), "export", "stories", format=fmt, filters=storeapi.audit_filters(filters.params()), redacted=redact)
    s.commit()
    ids_query = queries.matching_ids_query(s, filters)
    factory = current_app.extensions["gehoor_sessions"]

    def generate():
        with factory() as export_session:
            yield from storeapi.export_stream(export_session, ids_query, fmt, redact)

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        mimetype, name = "text/csv; charset=utf-8", f"gehoor-stories-{stamp}.csv"
    else:
        mimetype, name = "application/x-ndjson; charset=utf-8", f"gehoor-stories-{stamp}.jsonl"
    resp = Response(stream_with_context(generate()), content_type=mimetype)  # charset given once
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# ---------------------------------------------------------------------------- admin: staff
@bp.route("/staff", methods=["GET", "POST"])
@require("admin")
def staff():
    s = db()
    error, generated = None, None
    if request.method == "POST":
        op = request.form.get("op", "")
        email = (request.form.get("email") or "").strip().lower()
        try:
            if op == "add":
                role = request.form.get("role", "viewer")
                password = request.form.get("password") or ""
                if not password:
                    password = generated = accounts.generate_password()
                accounts.add_staff(s, email, role, password, actor=actor())
                flash_msg = f"Staff account {email} added as {role}."
            elif op == "role":
                accounts.set_role(s, email, request.form.get("role", ""), actor=actor())
                flash_msg = f"{email} is now {request.form.get('role')}."
            elif op in ("disable", "enable"):
                if email == g.user.email:
                    raise ValueError("you cannot disable your own account")
                accounts.set_disabled(s, email, op == "disable", actor=actor())
                flash_msg = f"{email} is {op}d."
            elif op == "reset":
                generated = accounts.generate_password()
                accounts.set_password(s, email, generated, actor=actor())
                flash_msg = f"New password for {email}."
            elif op == "unlock":
                accounts.unlock(s, email, actor=actor())
                flash_msg = f"Logins for {email} are unblocked."
            elif op == "end_sessions":
                n = accounts.end_sessions(s, email, actor=actor())
                flash_msg = f"Ended {n} session{'' if n == 1 else 's'} of {email}."
            elif op == "remove":
                if email == g.user.email:
                    raise ValueError("you cannot remove your own account")
                accounts.remove_staff(s, email, actor=actor())
                flash_msg = f"{email} is removed."
            else:
                abort(400)
            s.commit()
            _clear_caches()
            if not generated:
                flash(flash_msg)
                return redirect(url_for("review.staff"))
            # A generated password is shown once, in this response only (never in a cookie).
            generated = {"email": email, "password": generated, "message": flash_msg}
        except ValueError as exc:
            s.rollback()
            error = str(exc)[:1].upper() + str(exc)[1:] + "."
            generated = None
    return render_template("staff.html", users=accounts.list_staff(s), roles=ROLES, error=error,
                           generated=generated, active=accounts.session_counts(s)), (400 if error else 200)


# ---------------------------------------------------------------------------- admin: audit
@bp.get("/audit")
@require("admin")
def audit_log():
    s = db()
    q = select(AuditEntry)
    who = (request.args.get("actor") or "").strip()[:255]
    action = (request.args.get("action") or "").strip()[:32]
    target = (request.args.get("target") or "").strip()[:255]
    if who:
        q = q.where(AuditEntry.actor == who.lower())
    if action:
        q = q.where(AuditEntry.action == action)
    if target:
        q = q.where(AuditEntry.target == target)
    before = request.args.get("before", "")
    if before.isdigit():
        q = q.where(AuditEntry.id < int(before))
    rows = s.execute(q.order_by(AuditEntry.id.desc()).limit(101)).scalars().all()
    more = len(rows) > 100
    rows = rows[:100]
    params = {k: v for k, v in (("actor", who), ("action", action), ("target", target)) if v}
    return render_template("audit.html", rows=rows, more=more, params=params,
                           older=rows[-1].id if rows and more else None,
                           actions=("view", "export", "change", "erase", "forget", "login", "login_failed",
                                    "login_locked", "logout", "staff_add", "staff_remove", "staff_role",
                                    "staff_disable", "staff_enable", "staff_password"))


# ---------------------------------------------------------------------------- admin: erasure
@bp.route("/forget", methods=["GET", "POST"])
@require("admin")
def forget():
    report, error = None, None
    if request.method == "POST":
        contact = (request.form.get("contact") or "").strip()[:255]
        if (request.form.get("confirm") or "").strip().lower() != "forget":
            error = "Type FORGET to confirm: this erases every story of this customer."
        else:
            try:
                report = storeapi.forget_customer(current_app.extensions["gehoor_sessions"], contact, actor())
            except ValueError as exc:
                error = str(exc)[:1].upper() + str(exc)[1:] + "."
            _clear_caches()
    return render_template("forget.html", report=report, error=error), (400 if error else 200)
