"""Non-blocking story writes for the action server.

    writer = StoryWriter()                       # default store (GEHOOR_DB_URL) and outbox (var/)
    await writer.save(snapshot) -> WriteOutcome  # never blocks the event loop, never raises
    await writer.save_events(conversation_id, events) -> WriteOutcome | None   # capture on the worker too
    writer.save_sync(snapshot) -> WriteOutcome
    writer.flush_outbox() -> FlushReport
    writer.start_background(flush_seconds=10, sweep_seconds=60)   # asyncio task: flush + idle sweep
    await writer.aclose()

Writes run one at a time on a dedicated worker thread, in the order they were submitted.
`save_events` snapshots are the whole story so far: when a newer one of the same story is
already queued behind an older one, the older one is skipped (outcome `superseded`) instead
of being analysed and written only to be overwritten.
When the database is unreachable (connection refused, locked, timeout) the snapshot goes to
the durable outbox; later saves first flush the outbox in order (so an older queued snapshot
never lands after a newer one), and the background task retries while it is non-empty.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

from bot.store.capture import StorySnapshot, reference_from_events, snapshot_from_events
from bot.store.outbox import FlushReport, Outbox, is_temporary
from bot.store.repository import StoryRepository, SaveResult

log = logging.getLogger(__name__)


@dataclass
class WriteOutcome:
    stored: bool  # True: in the database; False: queued in the outbox (or dead-lettered)
    reference: str
    result: Optional[SaveResult] = None
    outbox_depth: int = 0
    error: Optional[str] = None
    superseded: bool = False  # a newer snapshot of the same story was queued; this one skipped


class StoryWriter:
    def __init__(self, repository: Optional[StoryRepository] = None, outbox: Optional[Outbox] = None):
        self._repository = repository
        self.outbox = outbox or Outbox()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gehoor-store")
        self._task: Optional[asyncio.Task] = None
        self._pending = self.outbox.depth()
        self._newest: dict = {}  # (conversation, reference) -> sequence number of the newest save_events
        self._sequence = 0
        self._newest_lock = threading.Lock()
        if self._pending:
            log.warning("story outbox holds %d snapshot(s) from an earlier run", self._pending)

    @property
    def repository(self) -> StoryRepository:
        if self._repository is None:
            self._repository = StoryRepository()
        return self._repository

    @repository.setter
    def repository(self, repo: StoryRepository) -> None:
        self._repository = repo

    # ------------------------------------------------------------------ sync (worker thread)
    def save_sync(self, snapshot: StorySnapshot) -> WriteOutcome:
        if self._pending:
            report = self.flush_outbox()
            if report.remaining:
                depth = self._queue(snapshot)
                return WriteOutcome(False, snapshot.reference, outbox_depth=depth, error=report.error)
        try:
            result = self.repository.save(snapshot)
            return WriteOutcome(True, result.reference, result=result)
        except Exception as exc:  # noqa: BLE001  never lose a story
            if not is_temporary(exc):
                log.exception("story %s could not be saved (not a connection problem); queued", snapshot.reference)
            depth = self._queue(snapshot)
            return WriteOutcome(False, snapshot.reference, outbox_depth=depth, error=str(exc).splitlines()[0][:300])

    def _queue(self, snapshot: StorySnapshot) -> int:
        try:
            depth = self.outbox.append(snapshot)
        except Exception:  # noqa: BLE001
            log.critical("story %s could neither be stored nor queued; it stays in Rasa's tracker "
                         "store (run `gehoor stories reconcile`)", snapshot.reference, exc_info=True)
            return self._pending
        self._pending = depth
        return depth

    def flush_outbox(self) -> FlushReport:
        report = self.outbox.flush(self.repository.save)
        self._pending = report.remaining
        if report.remaining:
            log.warning("story outbox depth %d (store still unavailable: %s)", report.remaining, report.error)
        return report

    # ------------------------------------------------------------------ async
    async def save(self, snapshot: StorySnapshot) -> WriteOutcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.save_sync, snapshot)

    async def save_events(self, conversation_id: str, events: list,
                          reference: Optional[str] = None) -> Optional[WriteOutcome]:
        """Capture (snapshot_from_events, incl. the listening analysis: a few ms of CPU) *and*
        save on the worker thread. None when the session has no customer message yet.
        Use capture.reference_from_events() for the reference without waiting (and pass it as
        `reference` when you have it)."""
        loop = asyncio.get_running_loop()
        events = list(events)
        reference = reference or reference_from_events(conversation_id, events)
        if reference is None:
            return None
        key = (conversation_id, reference)
        with self._newest_lock:
            self._sequence += 1
            sequence = self._newest[key] = self._sequence

        def work() -> Optional[WriteOutcome]:
            with self._newest_lock:
                if self._newest.get(key) != sequence:
                    return WriteOutcome(True, reference, superseded=True)
                del self._newest[key]  # a save_events from now on is newer than this one
            snapshot = snapshot_from_events(conversation_id, events)
            return None if snapshot is None else self.save_sync(snapshot)

        return await loop.run_in_executor(self._executor, work)

    async def flush(self) -> FlushReport:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.flush_outbox)

    def start_background(self, flush_seconds: float = 10.0, sweep_seconds: Optional[float] = 60.0) -> asyncio.Task:
        """Periodically flush a non-empty outbox and (optionally) run the idle sweeper."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._background(flush_seconds, sweep_seconds))
        return self._task

    async def _background(self, flush_seconds: float, sweep_seconds: Optional[float]) -> None:
        loop = asyncio.get_running_loop()
        since_sweep = 0.0
        while True:
            await asyncio.sleep(flush_seconds)
            since_sweep += flush_seconds
            try:
                if self._pending:
                    await self.flush()
                if sweep_seconds is not None and since_sweep >= sweep_seconds:
                    since_sweep = 0.0
                    await loop.run_in_executor(self._executor, self._sweep)
            except Exception:  # noqa: BLE001
                log.warning("story store background task failed; retrying", exc_info=True)

    def _sweep(self) -> int:
        from bot.store.repository import sweep_idle

        session = self.repository.factory()
        try:
            n = sweep_idle(session)
            session.commit()
            return n
        finally:
            session.close()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._executor.shutdown(wait=True)
