"""The notification worker: claims due jobs, sends them, logs every attempt, backs off.

    worker = NotifyWorker(factory)            # a sessionmaker of the story database
    worker.run_once() -> RunReport            # enqueue due follow-ups, send what is due
    worker.start_thread(interval=5.0); worker.stop()

Durable retries: a failed attempt sets the job's `next_attempt_at` (30 s, 60 s, 120 s, …,
capped; alerts file `retry`), so a restart continues where the last process stopped. A job is
claimed with a lease (`locked_until`, set by a guarded UPDATE) before it is sent: two workers
(the action server's thread and `gehoor notify work`, or two action servers) never send the
same job; a worker that died mid-send leaves a lease that runs out and the job is retried.
Delivery is therefore at least once: a crash after the receiver answered but before the
result was recorded sends it again, with the same Gehoor-Delivery id.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, Optional

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.notify import events, rules, senders
from bot.store.models import NotificationAttempt, NotificationJob, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)


@dataclass
class RunReport:
    enqueued: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


class NotifyWorker:
    def __init__(self, factory: Optional[sessionmaker] = None, *,
                 alerts: Optional[Callable[[], Optional[rules.Alerts]]] = None,
                 clock: Callable[[], datetime] = utcnow,
                 send: Optional[Dict[str, Callable]] = None, batch: int = 20):
        if factory is None:
            from bot.store.db import session_factory

            factory = session_factory()
        self.factory = factory
        self.alerts = alerts or rules.current  # re-read when the file changes
        self.clock = clock  # injectable: tests move time instead of sleeping
        self.send = send or senders.SENDERS
        self.batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by a commit that enqueued jobs, and by stop()
        self._thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------------ one pass
    def run_once(self) -> RunReport:
        report = RunReport()
        alerts = self.alerts()
        if alerts is None:
            return report
        with self.factory() as session:
            report.enqueued = events.enqueue_due_follow_ups(session, alerts, self.clock())
            session.commit()
        for job_id in self._claim():
            outcome = self._deliver(job_id, alerts)
            setattr(report, outcome, getattr(report, outcome) + 1)
        return report

    def _claim(self) -> list:
        now = self.clock()
        j = NotificationJob.__table__
        claimed = []
        with self.factory() as session:
            due = [i for (i,) in session.execute(
                select(j.c.id).where(j.c.state == "pending", j.c.next_attempt_at <= now,
                                     or_(j.c.locked_until.is_(None), j.c.locked_until < now))
                .order_by(j.c.next_attempt_at, j.c.id).limit(self.batch))]
            for job_id in due:
                result = session.execute(update(j).where(
                    j.c.id == job_id, j.c.state == "pending",
                    or_(j.c.locked_until.is_(None), j.c.locked_until < now),
                ).values(locked_until=now + LEASE))
                session.commit()  # the lease holds before anything is sent
                if result.rowcount == 1:
                    claimed.append(job_id)
        return claimed

    def _deliver(self, job_id: int, alerts: rules.Alerts) -> str:
        j = NotificationJob.__table__
        with self.factory() as session:
            job = session.execute(select(j).where(j.c.id == job_id)).first()
        if job is None:  # erased with its story meanwhile
            return "failed"
        started = time.perf_counter()
        ok, status, error, permanent = False, None, None, False
        dest = alerts.destinations.get(job.destination)
        try:
            if dest is None:
                raise senders.DeliveryError(f"destination {job.destination!r} is no longer in the alerts file")
            sent = self.send[dest.kind](dest, alerts, job.id, job.payload)
            ok, status, error = True, sent.status, sent.note
        except senders.DeliveryError as exc:
            status, error, permanent = exc.status, str(exc), exc.permanent
        except rules.AlertsFileError as exc:  # a secret or URL missing from the environment
            error = str(exc)
        except Exception as exc:  # noqa: BLE001  one broken job must not stop the others
            log.exception("notification %s to %s failed unexpectedly", job.id, job.destination)
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.perf_counter() - started) * 1000)
        now = self.clock()
        attempts = job.attempts + 1
        if ok:
            state, outcome, next_at = "delivered", "delivered", job.next_attempt_at
        elif permanent or attempts >= alerts.retry.max_attempts:
            state, outcome, next_at = "failed", "failed", job.next_attempt_at
            log.error("notification %s (%s to %s) given up after %d attempt(s): %s",
                      job.id, job.event, job.destination, attempts, error)
        else:
            state, outcome = "pending", "retrying"
            next_at = now + timedelta(seconds=alerts.retry.delay_after(attempts))
            log.warning("notification %s to %s failed (attempt %d), next at %s: %s",
                        job.id, job.destination, attempts, next_at, error)
        with self.factory() as session:
            session.execute(update(j).where(j.c.id == job.id).values(
                state=state, attempts=attempts, next_attempt_at=next_at, locked_until=None,
                last_status=status, last_error=error, delivered_at=now if ok else None))
            session.execute(insert(NotificationAttempt.__table__).values(
                job_id=job.id, at=now, ok=ok, status=status, error=error, duration_ms=duration_ms))
            session.commit()
        return outcome

    # ------------------------------------------------------------------ background
    def start_thread(self, interval: float = 5.0) -> threading.Thread:
        """Work in a daemon thread (the action server's event loop never waits on a send): a
        pass every `interval` seconds, and at once when this process commits new jobs."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            events.wake_on_enqueue(self._wake.set)
            self._thread = threading.Thread(target=self.run_forever, args=(interval,),
                                            name="gehoor-notify", daemon=True)
            self._thread.start()
        return self._thread

    def run_forever(self, interval: float = 5.0) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
                busy = report.delivered + report.retrying + report.failed >= self.batch
            except Exception:  # noqa: BLE001  database briefly away: try again next round
                log.warning("notification worker pass failed; retrying", exc_info=True)
                busy = False
            if not busy:
                self._wake.wait(interval)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


_in_process: Optional[NotifyWorker] = None


def start_in_process(factory: Optional[sessionmaker] = None, interval: float = 5.0) -> Optional[NotifyWorker]:
    """Start the worker thread of this process (the action server calls this at start-up) when
    alerts are configured and GEHOOR_NOTIFY_WORKER is not `off`. Idempotent."""
    global _in_process
    from bot import config

    try:
        if config.alerts_file() is None or config.notify_worker() == "off":
            return None
    except ValueError as exc:  # a mistyped setting must not stop the story writer
        log.error("notification worker not started: %s", exc)
        return None
    if _in_process is None:
        _in_process = NotifyWorker(factory)
        _in_process.start_thread(interval)
        log.info("notification worker started (alerts file %s)", config.alerts_file())
    return _in_process
