"""Realistic demo/test stories, fast (bulk inserts): `seed(n, factory=None, seed=42) -> int`.

Dutch (~70 %) and English stories over the last year: every status, scores in every NPS band
(and refusals), aspects from bot/listening/lexicon.yml, sentiment and emotions, repeat
contact ("weer", "again"), consent with contact details, follow-up answers per dimension,
confirmed summaries and corrections, staff tags, notes, review and follow-up states.
Deterministic for a given `seed`. 100,000 stories take about a minute on SQLite.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import sessionmaker

from bot.store.capture import reference_for
from bot.store import follow_up
from bot.store.models import Message, Note, Story, StoryAspect, StoryTag, utcnow
from bot.store.repository import customer_text_of

ASPECTS = {
    "delivery": {
        "nl": ["mijn pakket is {weer}niet bezorgd", "de bezorger heeft het pakket bij de buren gelaten zonder briefje",
               "de levering was twee dagen te laat", "het pakket kwam beschadigd aan"],
        "en": ["my parcel was {again}not delivered", "the courier left it at the neighbours without a note",
               "delivery was two days late", "the box arrived damaged"],
    },
    "customer_service": {
        "nl": ["ik moest {weer}drie keer bellen voordat iemand mijn factuur wilde aanpassen",
               "de klantenservice luisterde echt naar me", "niemand belde terug terwijl dat wel beloofd was"],
        "en": ["I had to call three times {again}before anyone fixed my invoice",
               "customer service really listened", "nobody called back although they promised"],
    },
    "waiting_time": {
        "nl": ["ik heb 45 minuten in de wacht gestaan", "het duurde twee weken voor ik antwoord kreeg"],
        "en": ["I was on hold for 45 minutes", "it took two weeks to get an answer"],
    },
    "price_billing": {
        "nl": ["er stond {weer}een verkeerd bedrag op mijn factuur", "de prijs is prima voor wat je krijgt",
               "ik ben dubbel afgeschreven"],
        "en": ["my invoice had the wrong amount {again}", "the price is fair for what you get", "I was charged twice"],
    },
    "product_quality": {
        "nl": ["de kwaliteit van de jas is echt goed", "na een week was de rits al kapot"],
        "en": ["the quality of the jacket is great", "the zip broke after a week"],
    },
    "website_app": {
        "nl": ["de app werkt eigenlijk prima", "inloggen in de app lukt {weer}niet", "de website is overzichtelijk"],
        "en": ["honestly the app is fine", "I can't log in to the app {again}", "the website is easy to use"],
    },
    "staff_attitude": {
        "nl": ["de bezorgers zijn onbeleefd", "de medewerker in de winkel was heel vriendelijk"],
        "en": ["your delivery guys are rude", "the person in the shop was really friendly"],
    },
    "communication": {
        "nl": ["ik kreeg geen enkele mail over de vertraging", "de updates per sms waren duidelijk"],
        "en": ["I never got an e-mail about the delay", "the text updates were clear"],
    },
    "contract_subscription": {
        "nl": ["opzeggen van mijn abonnement was onnodig ingewikkeld"],
        "en": ["cancelling my subscription was far too complicated"],
    },
    "returns_refunds": {
        "nl": ["ik wacht {weer}op mijn terugbetaling", "retourneren ging snel en makkelijk"],
        "en": ["I'm still waiting for my refund {again}", "returning it was quick and easy"],
    },
}
FOLLOW_UPS = {
    "situation": {"nl": ("Wat gebeurde er precies?", "Vorige week dinsdag, ik was de hele dag thuis."),
                  "en": ("What happened exactly?", "Last Tuesday, I was home all day.")},
    "expectation": {"nl": ("Wat had je verwacht?", "Dat het de eerste keer gewoon goed zou gaan."),
                    "en": ("What did you expect?", "That it would just work the first time.")},
    "impact": {"nl": ("Wat betekende dat voor jou?", "Het kostte me een vrije dag en veel ergernis."),
               "en": ("What did that mean for you?", "It cost me a day off and a lot of stress.")},
    "priority": {"nl": ("Wat is voor jou het belangrijkste?", "Dat ik één keer hoef uit te leggen wat er mis is."),
                 "en": ("What matters most to you?", "Not having to explain it all over again.")},
    "in_our_place": {"nl": ("Wat zou jij doen als je in onze schoenen stond?", "Gewoon even terugbellen als je het belooft."),
                     "en": ("What would you do in our place?", "Just call back when you promise to.")},
    "blind_spot": {"nl": ("Is er iets dat wij niet zien?", "Jullie bezorgers hebben veel te weinig tijd per adres."),
                   "en": ("Is there something we're not seeing?", "Your couriers have far too little time per address.")},
}
TEXT = {
    "nl": {"open": "Hoi! Ik ben de feedbackbot van Acme. Hoe waarschijnlijk is het dat je ons aanbeveelt, op een schaal van 0 tot 10?",
           "reason": "Dank je. Wat is de belangrijkste reden voor je {score}?",
           "summary": "Ik wil zeker weten dat ik je goed begrijp: {story}. Klopt dat?",
           "yes": "Ja, klopt", "no": "Niet helemaal", "correction": "Het ging vooral om {story}, niet om de prijs.",
           "consent": "Wil je dat een collega contact met je opneemt?", "consent_yes": "Ja graag, via {contact}",
           "close": "Dank je wel! Je verhaal wordt gelezen door mensen van Acme. Je referentie is {ref}.",
           "handoff": "Ik wil graag een medewerker spreken", "stop": "stop", "refuse": "liever niet"},
    "en": {"open": "Hi! I'm Acme's feedback bot. How likely are you to recommend us, on a scale of 0 to 10?",
           "reason": "Thanks. What's the main reason for your {score}?",
           "summary": "Let me check I understood you: {story}. Is that right?",
           "yes": "Yes, that's right", "no": "Not quite", "correction": "It was mostly about {story}, not the price.",
           "consent": "Would you like a colleague to contact you?", "consent_yes": "Yes please, at {contact}",
           "close": "Thank you! People at Acme read your story. Your reference is {ref}.",
           "handoff": "I want to talk to a person", "stop": "stop", "refuse": "rather not say"},
}
CHANNELS = [("socketio", 45), ("rest", 10), ("telegram", 12), ("facebook", 13), ("twilio", 12), ("slack", 8)]
PAGES = ["/bestelling/bevestigd", "/account/facturen", "/retour", "/app/home", "/klantenservice"]
TAGS = ["urgent", "bezorging-q4", "prijs", "app-bug", "compliment", "terugbellen", "escalatie", "idee"]
STAFF = ["anna@acme.example", "bram@acme.example", "chris@acme.example"]
NOTES = ["Klant teruggebeld, excuses aangeboden.", "Doorgezet naar logistiek.", "Called back, issue resolved.",
         "Patroon: derde melding deze week over dezelfde bezorger."]
EMOTIONS_NEG = ["frustration", "anger", "disappointment", "worry"]
EMOTIONS_POS = ["relief", "satisfaction", "gratitude"]


def _weighted(rng: random.Random, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for value, w in pairs:
        x -= w
        if x <= 0:
            return value
    return pairs[-1][0]


def _follow_up(rng: random.Random, now: datetime, opened: datetime, score, handoff, consent) -> dict:
    """A follow-up as staff would have left it by `now` (a hand-off or consent opens one, like a
    capture): older ones mostly contacted and closed, recent ones still open, some overdue.
    Uses its own random stream so the rest of the seed stays the same."""
    fields = {"follow_up_state": "none", "follow_up_note": None, "followed_up_at": None,
              "follow_up_opened_at": None, "follow_up_due_at": None, "first_contact_at": None, "owner": False}
    if not follow_up.wanted(handoff, consent):
        return fields
    fields.update(follow_up.opening(opened, score, handoff))
    fields["owner"] = rng.random() < 0.8
    age_hours = (now - opened).total_seconds() / 3600
    contact_after = rng.uniform(0.5, 96)
    if contact_after > age_hours or rng.random() < 0.1:
        return fields  # still open
    if rng.random() < 0.12:
        fields.update(follow_up_state="could_not_reach", followed_up_at=opened + timedelta(hours=contact_after),
                      follow_up_note="Twee keer gebeld, geen gehoor.")
        return fields
    fields["first_contact_at"] = opened + timedelta(hours=contact_after)
    close_after = contact_after + rng.uniform(0, 48)
    if close_after > age_hours or rng.random() < 0.15:
        fields["follow_up_state"] = "contacted"
    else:
        fields.update(follow_up_state="resolved", followed_up_at=opened + timedelta(hours=close_after),
                      follow_up_note=rng.choice(NOTES))
    return fields


def _story(rng: random.Random, story_id: int, now: datetime, used_refs: set) -> tuple:
    lang = "nl" if rng.random() < 0.7 else "en"
    t = TEXT[lang]
    conv = f"seed-{rng.getrandbits(64):016x}"
    started = now - timedelta(seconds=rng.randint(60, 365 * 86400), microseconds=rng.randint(0, 999_999))
    ref = reference_for(conv, started)
    if ref in used_refs:
        ref = reference_for(conv, started, long=True)
    used_refs.add(ref)
    score = None if rng.random() < 0.08 else _weighted(rng, [(s, w) for s, w in zip(range(11), (3, 2, 3, 4, 5, 6, 7, 9, 14, 12, 9), strict=True)])
    aspects = rng.sample(sorted(ASPECTS), k=1 if rng.random() < 0.7 else 2)
    repeat = rng.random() < 0.3
    weer = ("weer " if lang == "nl" else "again ") if repeat else ""
    reason = rng.choice(ASPECTS[aspects[0]][lang]).format(weer=weer, again=weer).replace("  ", " ").strip()
    if len(aspects) > 1:
        reason += (" en " if lang == "nl" else " and ") + rng.choice(ASPECTS[aspects[1]][lang]).format(weer="", again="")
    status = _weighted(rng, [("complete", 60), ("abandoned", 15), ("in_progress", 8), ("handed_off", 17)])
    sentiment = ("negative" if score is not None and score <= 6 else "positive" if score is not None and score >= 9
                 else rng.choice(["neutral", "mixed"]))
    emotions = (rng.sample(EMOTIONS_NEG, k=rng.randint(0, 2)) if sentiment in ("negative", "mixed")
                else rng.sample(EMOTIONS_POS, k=rng.randint(0, 1)))

    msgs = []
    clock = started

    def say(role, text_):
        nonlocal clock
        clock += timedelta(seconds=rng.randint(3, 90) if role == "customer" else 1)
        msgs.append((role, text_, clock))

    say("bot", t["open"])
    answers = {}
    if score is None:
        say("customer", t["refuse"])
    else:
        say("customer", rng.choice([str(score), f"{score}/10", f"een {score}" if lang == "nl" else f"I'd give it a {score}"]))
    say("bot", t["reason"].format(score=score if score is not None else "antwoord"))
    say("customer", reason)
    answers["reason"] = reason
    n_follow = {"complete": rng.randint(1, 3), "handed_off": rng.randint(0, 2), "abandoned": rng.randint(0, 1),
                "in_progress": rng.randint(0, 2)}[status]
    for dim in rng.sample(sorted(FOLLOW_UPS), k=n_follow):
        q, a = FOLLOW_UPS[dim][lang]
        say("bot", q)
        if status == "abandoned" and rng.random() < 0.5:
            break
        say("customer", a)
        answers[dim] = a
    summary = summary_confirmed = correction = None
    consent = contact = contact_kind = None
    handoff = status == "handed_off"
    end_reason = None
    if status in ("complete", "handed_off"):
        summary = t["summary"].format(story=reason)
        say("bot", summary)
        if rng.random() < 0.8:
            summary_confirmed = True
            say("customer", t["yes"])
        else:
            summary_confirmed = False
            say("customer", t["no"])
            correction = t["correction"].format(story=reason)
            say("customer", correction)
        if handoff or (score is not None and score <= 6 and rng.random() < 0.5):
            say("bot", t["consent"])
            consent = rng.random() < 0.7
            if consent:
                if rng.random() < 0.6:
                    contact, contact_kind = f"klant{story_id}@example.com", "email"
                else:
                    contact, contact_kind = f"+3161{rng.randint(0, 9999999):07d}", "phone"
                say("customer", t["consent_yes"].format(contact=contact))
            else:
                say("customer", "nee, hoeft niet" if lang == "nl" else "no thanks")
        say("bot", t["close"].format(ref=ref))
        end_reason = "handed_off" if handoff else "completed"
    elif status == "abandoned":
        end_reason = rng.choice(["idle", "idle", "customer_stopped"])
        if end_reason == "customer_stopped":
            say("customer", t["stop"])
    last_customer = max((m[2] for m in msgs if m[0] == "customer"), default=None)
    review = _weighted(rng, [("new", 50), ("read", 30), ("in_follow_up", 8), ("closed", 12)])
    follow_up_fields = _follow_up(random.Random(f"follow-up-{story_id}"), now, clock, score, handoff, consent)
    owned = follow_up_fields.pop("owner")
    if follow_up_fields["follow_up_state"] in follow_up.OPEN and review == "closed":
        review = "in_follow_up"
    channel = _weighted(rng, CHANNELS)
    story = {
        "id": story_id, "reference": ref, "conversation_id": conv, "session_started_at": started,
        "channel": channel,
        "channel_metadata": {"page": rng.choice(PAGES), "touchpoint": rng.choice(["after_delivery", "after_call", "web"]),
                             **({"order_ref": f"A{rng.randint(10000, 99999)}"} if rng.random() < 0.4 else {})},
        "language": lang, "status": status, "end_reason": end_reason, "started_at": started,
        "updated_at": clock, "last_customer_at": last_customer,
        "ended_at": clock if status != "in_progress" else None,
        "score": score, "answers": answers, "summary": summary, "summary_confirmed": summary_confirmed,
        "correction": correction, "aspects": sorted(aspects), "sentiment": sentiment,
        "sentiment_score": round({"negative": -0.6, "positive": 0.7, "neutral": 0.0, "mixed": 0.1}[sentiment]
                                 + rng.uniform(-0.3, 0.3), 3),
        "emotions": emotions, "repeat_contact": repeat, "consent_to_contact": consent, "contact": contact,
        "contact_kind": contact_kind, "handoff_requested": handoff,
        "customer_text": customer_text_of(m[1] for m in msgs if m[0] == "customer"),
        "review_status": review, "assignee": rng.choice(STAFF) if review != "new" and rng.random() < 0.6 else None,
        **follow_up_fields,
    }
    if owned and not story["assignee"]:
        story["assignee"] = STAFF[story_id % len(STAFF)]
    messages = [{"story_id": story_id, "seq": i, "role": r, "text": x, "at": at} for i, (r, x, at) in enumerate(msgs)]
    tags = [{"story_id": story_id, "tag": g} for g in (rng.sample(TAGS, k=rng.randint(1, 2)) if rng.random() < 0.3 else [])]
    notes = ([{"story_id": story_id, "author": rng.choice(STAFF), "text": rng.choice(NOTES), "created_at": clock + timedelta(hours=5)}]
             if rng.random() < 0.1 else [])
    aspect_rows = [{"story_id": story_id, "aspect": a} for a in sorted(aspects)]
    return story, messages, tags, notes, aspect_rows


def seed(n: int, factory: Optional[sessionmaker] = None, *, seed: int = 42, batch: int = 2000,
         now: Optional[datetime] = None, progress=None) -> int:
    """Insert `n` generated stories; returns the number inserted."""
    if n < 0:
        raise ValueError("the number of stories must be zero or more")
    from bot.store.db import session_factory

    factory = factory or session_factory()
    rng = random.Random(seed)
    now = now or utcnow()
    with factory() as session:
        start_id = (session.execute(select(func.max(Story.id))).scalar() or 0) + 1
        used = {r[0] for r in session.execute(select(Story.reference))} if start_id > 1 else set()
    done = 0
    t0 = time.perf_counter()
    while done < n:
        k = min(batch, n - done)
        stories, messages, tags, notes, aspects = [], [], [], [], []
        for i in range(k):
            s, m, t, no, a = _story(rng, start_id + done + i, now, used)
            stories.append(s)
            messages += m
            tags += t
            notes += no
            aspects += a
        with factory() as session:
            session.execute(insert(Story.__table__), stories)
            session.execute(insert(Message.__table__), messages)
            if tags:
                session.execute(insert(StoryTag.__table__), tags)
            if notes:
                session.execute(insert(Note.__table__), notes)
            session.execute(insert(StoryAspect.__table__), aspects)
            session.commit()
        done += k
        if progress:
            progress(done, n, time.perf_counter() - t0)
    if n:
        with factory() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT setval(pg_get_serial_sequence('stories', 'id'), (SELECT max(id) FROM stories))"))
                session.commit()
    return done
