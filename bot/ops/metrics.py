"""Prometheus metrics of the action server (prometheus-client, the default registry).

Imported by actions/story_sink.py (no Rasa imports here); exposed at GET /metrics by the
action-server plugin (bot/ops/action_plugin.py). The action server runs one Sanic worker,
so a single process registry is exact.

    gehoor_turns_total                      turns handled (an action stored the story so far)
    gehoor_story_writes_total{outcome}      stored | queued (outbox) | skipped (no customer message yet) | failed
    gehoor_story_write_seconds              story write latency (capture + database or outbox)
    gehoor_story_outbox_depth               snapshots waiting in this server's outbox
    gehoor_errors_total{where}              errors by place (store, readiness, ...)

The Rasa server counts in its own process (GET /metrics on the Rasa port, added by
bot/rasa_patches/store_unavailable.py):

    gehoor_store_unavailable_total{store}   messages refused with 503: tracker | lock store down
    gehoor_duplicate_messages_total{channel} client/platform resends answered without handling again
"""
from __future__ import annotations

from typing import Callable, Optional

from prometheus_client import Counter, Gauge, Histogram

TURNS = Counter("gehoor_turns", "Turns handled by the action server (story persisted after an action)")
STORY_WRITES = Counter("gehoor_story_writes", "Story writes by outcome", ["outcome"])
STORY_WRITE_SECONDS = Histogram(
    "gehoor_story_write_seconds", "Story write latency (capture + database write or outbox append)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_DEPTH = Gauge("gehoor_story_outbox_depth", "Story snapshots waiting in the outbox of this action server")
ERRORS = Counter("gehoor_errors", "Errors by place", ["where"])
STORE_UNAVAILABLE = Counter("gehoor_store_unavailable", "Messages refused (503) because a store was down", ["store"])
DUPLICATE_MESSAGES = Counter("gehoor_duplicate_messages", "Resent messages not handled again", ["channel"])

for _outcome in ("stored", "queued", "superseded", "skipped", "failed"):
    STORY_WRITES.labels(_outcome)
for _where in ("store", "readiness"):
    ERRORS.labels(_where)
for _store in ("tracker", "lock"):
    STORE_UNAVAILABLE.labels(_store)


def track_outbox(depth: Callable[[], Optional[int]]) -> None:
    """Read the outbox depth at scrape time (cheap: the writer's cached count)."""
    OUTBOX_DEPTH.set_function(lambda: float(depth() or 0))
