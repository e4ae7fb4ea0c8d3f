"""An example consumer of Rasa's event stream: count events per conversation from RabbitMQ.

    gehoor events count [--queue Q | --tap] [--idle-seconds 2] [--max-messages N] [--json]

Rasa's pika event broker (endpoints.prod.yml, `event_broker`) publishes every tracker event
as a JSON message — the event dict plus `sender_id` — to the fanout exchange
GEHOOR_RABBITMQ_EXCHANGE, which Rasa binds to the durable queue GEHOOR_RABBITMQ_QUEUE.

Two ways to read it, and why:

* default — consume the durable queue Rasa declared, acknowledging each message after it is
  counted. This is the "work queue" pattern: events published while no consumer ran are
  still there, but every message goes to exactly ONE consumer (a second consumer of the
  same queue splits the stream), and acknowledged messages are gone for everyone.
* `--tap` — declare a private, exclusive, auto-deleted queue bound to the exchange and
  count what arrives from now on. Nothing is taken from the durable queue, any number of
  taps can run side by side (fanout), but events from before the tap started are not seen.

A real consumer (analytics, a data warehouse) would use its own durable queue bound to the
exchange, acknowledge after its write succeeded, and be idempotent per event (redelivery
after a crash is normal in RabbitMQ: at-least-once delivery).

Stops after --idle-seconds without a message (or --max-messages). Output: a table, or with
--json one object {sender_id: {"total": n, "by_type": {event: n}}}.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional
from urllib.parse import quote


def broker_url() -> str:
    if os.environ.get("GEHOOR_RABBITMQ_URL"):
        return os.environ["GEHOOR_RABBITMQ_URL"]
    user = quote(os.environ.get("GEHOOR_RABBITMQ_USER", "guest"), safe="")
    password = quote(os.environ.get("GEHOOR_RABBITMQ_PASSWORD", "guest"), safe="")
    host = os.environ.get("GEHOOR_RABBITMQ_HOST", "127.0.0.1")
    port = os.environ.get("GEHOOR_RABBITMQ_PORT", "5672")
    return f"amqp://{user}:{password}@{host}:{port}/"


def default_queue() -> str:
    return os.environ.get("GEHOOR_RABBITMQ_QUEUE", "gehoor_events")


def default_exchange() -> str:
    return os.environ.get("GEHOOR_RABBITMQ_EXCHANGE", "gehoor-events")


@dataclass
class EventCounts:
    per_sender: Dict[str, Counter] = field(default_factory=dict)
    unreadable: int = 0

    def add(self, body: bytes) -> None:
        try:
            event = json.loads(body)
            sender = event["sender_id"]
            kind = event.get("event") or "unknown"
            if not isinstance(sender, str):
                raise TypeError("sender_id is not a string")
        except (ValueError, KeyError, TypeError):
            self.unreadable += 1
            return
        self.per_sender.setdefault(sender, Counter())[str(kind)] += 1

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.per_sender.values())

    def as_dict(self) -> dict:
        return {s: {"total": sum(c.values()), "by_type": dict(sorted(c.items()))}
                for s, c in sorted(self.per_sender.items())}


def count_bodies(bodies: Iterable[bytes]) -> EventCounts:
    counts = EventCounts()
    for body in bodies:
        counts.add(body)
    return counts


async def consume(url: Optional[str] = None, queue: Optional[str] = None, *, tap: bool = False,
                  exchange: Optional[str] = None, idle_seconds: float = 2.0,
                  max_messages: Optional[int] = None, ready: Optional[asyncio.Event] = None) -> EventCounts:
    """Count events until `idle_seconds` pass without one (or `max_messages` were read).

    `ready` is set once the consumer is subscribed (for a tap: bound to the exchange)."""
    import aio_pika

    counts = EventCounts()
    connection = await aio_pika.connect(url or broker_url(), timeout=10)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=200)
        if tap:
            # Rasa declares the exchange (fanout, not durable): look it up, do not redeclare.
            ex = await channel.get_exchange(exchange or default_exchange(), ensure=True)
            q = await channel.declare_queue("", exclusive=True, auto_delete=True)
            await q.bind(ex)
        else:
            # passive=False with Rasa's own arguments (durable) so we also work before Rasa ran
            q = await channel.declare_queue(queue or default_queue(), durable=True)
        seen = 0
        async with q.iterator() as messages:
            if ready is not None:
                ready.set()
            while max_messages is None or seen < max_messages:
                try:
                    message = await asyncio.wait_for(messages.__anext__(), timeout=idle_seconds)
                except (asyncio.TimeoutError, StopAsyncIteration):
                    break
                async with message.process():  # ack after counting (nack + requeue on error)
                    counts.add(message.body)
                seen += 1
    finally:
        await connection.close()
    return counts


def print_table(counts: EventCounts, out=sys.stdout) -> None:
    if not counts.per_sender:
        print("no events", file=out)
    else:
        width = max(12, *(len(s) for s in counts.per_sender))
        print(f"{'conversation':<{width}}  {'events':>6}  by type", file=out)
        for sender, info in counts.as_dict().items():
            kinds = ", ".join(f"{k} {n}" for k, n in info["by_type"].items())
            print(f"{sender:<{width}}  {info['total']:>6}  {kinds}", file=out)
    print(f"{len(counts.per_sender)} conversation(s), {counts.total} event(s)"
          + (f", {counts.unreadable} unreadable message(s)" if counts.unreadable else ""), file=out)


def count_command(args: argparse.Namespace) -> int:
    try:
        counts = asyncio.run(consume(args.url, args.queue, tap=args.tap, exchange=args.exchange,
                                     idle_seconds=args.idle_seconds, max_messages=args.max_messages))
    except (OSError, ConnectionError) as exc:
        print(f"gehoor: RabbitMQ not reachable at {args.url or broker_url()}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001  aio_pika's connection errors are not all OSErrors
        print(f"gehoor: could not read events: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"conversations": counts.as_dict(), "unreadable": counts.unreadable}, indent=1))
    else:
        print_table(counts)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("events", help="Rasa's event stream on RabbitMQ (production profile)")
    sub = parser.add_subparsers(dest="events_command", metavar="COMMAND")
    sub.required = True
    count = sub.add_parser("count", help="count events per conversation from the RabbitMQ queue")
    count.add_argument("--url", help="AMQP URL (default from GEHOOR_RABBITMQ_HOST/_PORT/_USER/_PASSWORD)")
    count.add_argument("--queue", help="queue to consume (default GEHOOR_RABBITMQ_QUEUE or gehoor_events); "
                                       "messages are acknowledged, i.e. removed")
    count.add_argument("--tap", action="store_true",
                       help="read a private copy of the stream from now on instead (takes nothing away)")
    count.add_argument("--exchange", help="exchange for --tap (default GEHOOR_RABBITMQ_EXCHANGE or gehoor-events)")
    count.add_argument("--idle-seconds", type=float, default=2.0, help="stop after this long without an event")
    count.add_argument("--max-messages", type=int, help="stop after this many messages")
    count.add_argument("--json", action="store_true", help="print JSON instead of a table")
    count.set_defaults(func=count_command)
