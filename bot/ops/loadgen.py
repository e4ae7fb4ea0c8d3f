"""Simulated customers for the production profile: used by tests/prod/ and bench/bench_load.py.

    stack = ProdStack.start(var_dir, name="t")       # `gehoor run-prod` on free ports, private
                                                     # PostgreSQL database, Redis prefix, RabbitMQ queue
    results = asyncio.run(run_customers(stack.url, 20))
    stack.stop(); stack.drop_resources()

A customer holds a complete Dutch or English conversation over REST: greeting, score, the
story behind it, follow-ups until the bot summarises, confirmation, and declining (or
accepting) a follow-up by a person. Every customer message is unique (it carries the
customer's number) so the stored story can be checked for loss, duplication and order.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.ops.ports import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("GEHOOR_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

CONFIRM_WORDS = ("klopt", "right", "correct")
MAX_TURNS = 14


def services_unavailable() -> Optional[str]:
    """Why the production profile cannot run here (None when PostgreSQL, Redis, RabbitMQ and nginx are there)."""
    problems = []
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"PostgreSQL ({PG_ADMIN_URL}): {(str(exc).strip().splitlines() or [''])[0]}")
    for name, port in (("Redis", 6379), ("RabbitMQ", 5672)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=3).close()
        except OSError as exc:
            problems.append(f"{name} (127.0.0.1:{port}): {exc}")
    if not (Path("/usr/sbin/nginx").exists() or any(Path(p, "nginx").exists() for p in os.environ.get("PATH", "").split(":"))):
        problems.append("nginx is not installed (bash scripts/install-nginx.sh)")
    return "; ".join(problems) or None


@dataclass(repr=False)
class ProdStack:
    process: subprocess.Popen
    url: str
    var_dir: Path
    db_name: str
    db_url: str
    redis_prefix: str
    queue: str
    exchange: str
    rasa_ports: List[int]
    action_ports: List[int]
    output: Path
    env: Dict[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return f"ProdStack({self.url}, db={self.db_name})"

    @classmethod
    def start(cls, var_dir: Path, name: str = "t", extra_env: Optional[Dict[str, str]] = None,
              timeout: float = 300, wait: bool = True) -> "ProdStack":
        from sqlalchemy.engine.url import make_url

        tag = f"{name}{uuid.uuid4().hex[:10]}"
        db_name = f"gehoor_{tag}"
        db_url = str(make_url(PG_ADMIN_URL).set(database=db_name).render_as_string(hide_password=False))
        rasa_ports, action_ports = [free_port(), free_port()], [free_port(), free_port()]
        public = free_port()
        env = dict(
            os.environ,
            RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
            GEHOOR_VAR_DIR=str(var_dir), GEHOOR_DB_URL=db_url, GEHOOR_TRACKER_DB_URL=db_url,
            GEHOOR_RASA_PORT=str(public),
            GEHOOR_PROD_RASA_PORTS=",".join(map(str, rasa_ports)),
            GEHOOR_PROD_ACTION_PORTS=",".join(map(str, action_ports)),
            GEHOOR_PROD_ACTION_LB_PORT=str(free_port()),
            GEHOOR_REDIS_KEY_PREFIX=tag, GEHOOR_RABBITMQ_QUEUE=f"gehoor_events_{tag}",
            GEHOOR_RABBITMQ_EXCHANGE=f"gehoor-events-{tag}",
            GEHOOR_REST_DEV="1",  # the simulated customers post to plain REST (bot/channels/rest_dev.py)
        )
        env.update(extra_env or {})
        var_dir.mkdir(parents=True, exist_ok=True)
        output = var_dir / "run-prod.out"
        model = latest_model()
        process = subprocess.Popen(
            [str(BIN / "gehoor"), "run-prod", "--only-bot", "--model", str(model)],
            cwd=ROOT, env=env, stdout=open(output, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        stack = cls(process, f"http://127.0.0.1:{public}", var_dir, db_name, env["GEHOOR_DB_URL"], tag,
                    env["GEHOOR_RABBITMQ_QUEUE"], env["GEHOOR_RABBITMQ_EXCHANGE"], rasa_ports, action_ports,
                    output, env)
        if wait:
            try:
                stack.wait_ready(timeout)
            except Exception:
                stack.stop()
                stack.drop_resources()
                raise
        return stack

    def log(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def ready_status(self) -> int:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=3) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError):
            return 0

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gehoor run-prod exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            if self.ready_status() == 200:
                return
            time.sleep(0.5)
        raise RuntimeError(f"gehoor run-prod not ready after {timeout:.0f} s:\n{self.log()[-4000:]}")

    def child_pid(self, port: int) -> Optional[int]:
        """The pid of the child listening on `port` (by its command line), or None."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in argv and str(port).encode() in argv and any(b"rasa" in a or b"bot.ops" in a for a in argv):
                if os.getpgid(int(proc.name)) != os.getpgid(self.process.pid):
                    return int(proc.name)
        return None

    def stop(self, timeout: float = 40) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def drop_resources(self) -> None:
        """Drop the private database, Redis keys and RabbitMQ queue/exchange (best effort)."""
        try:
            from sqlalchemy import create_engine, text

            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
            admin.dispose()
        except Exception:  # noqa: BLE001
            pass
        try:
            import redis

            client = redis.Redis(socket_connect_timeout=3)
            for key in client.scan_iter(f"{self.redis_prefix}*"):
                client.delete(key)
            client.close()
        except Exception:  # noqa: BLE001
            pass
        import threading

        errors: list = []

        def delete() -> None:  # own thread, own event loop (the caller may be inside one)
            try:
                asyncio.run(_delete_amqp(self.queue, self.exchange))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        worker = threading.Thread(target=delete)
        worker.start()
        worker.join(30)
        if errors:
            print(f"loadgen: could not delete RabbitMQ queue {self.queue}: {errors[0]!r}", file=sys.stderr)


async def _delete_amqp(queue: str, exchange: str) -> None:
    import aio_pika

    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=5)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
    finally:
        await connection.close()


def latest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained model in models/: run `gehoor train`")
    return models[-1]


# ---------------------------------------------------------------------------- customers
@dataclass
class Turn:
    text: str
    status: int
    seconds: float
    reply: str
    answered: bool = False  # 200 with at least one bot message

    @property
    def ok(self) -> bool:
        # Rasa's REST channel answers 200 with an empty list when it could not process the
        # message at all (e.g. Redis lock store down: LockError is logged and swallowed).
        # Gehoor always answers a customer message, so an empty answer is a failure too.
        return self.status == 200 and self.answered


@dataclass
class CustomerResult:
    sender: str
    sent: List[str] = field(default_factory=list)
    turns: List[Turn] = field(default_factory=list)
    finished: bool = False
    error: Optional[str] = None

    @property
    def statuses(self) -> List[int]:
        return [t.status for t in self.turns]


def script_for(index: int, rng: random.Random) -> Dict[str, Any]:
    english = index % 2 == 1
    score = rng.choice([2, 4, 6, 8, 9])
    if english:
        return {
            "language": "en", "score": score,
            "opening": "hello",
            "story": f"customer {index}: the parcel arrived {rng.randint(2, 9)} days late and nobody told me why",
            "followups": [f"customer {index}: I expected a message when it was delayed",
                          f"customer {index}: it cost me a day off work",
                          f"customer {index}: just keep me informed"],
            "done": "that's all", "confirm": "yes", "decline": "no thanks",
        }
    return {
        "language": "nl", "score": score,
        "opening": "hoi",
        "story": f"klant {index}: ik moest {rng.randint(2, 9)} keer bellen voordat mijn factuur werd aangepast",
        "followups": [f"klant {index}: ik had verwacht dat het in één keer geregeld zou zijn",
                      f"klant {index}: het kostte me een hele middag",
                      f"klant {index}: dat iemand het gewoon oplost"],
        "done": "dat was het", "confirm": "ja klopt", "decline": "nee hoor",
    }


async def say(session, url: str, sender: str, text: str, sticky: bool, timeout: float = 60) -> Turn:
    import aiohttp

    headers = {"Content-Type": "application/json"}
    if sticky:
        headers["X-Gehoor-Sender"] = sender
    started = time.perf_counter()
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", data=json.dumps({"sender": sender, "message": text}),
                                headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            body = await response.text()
            status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return Turn(text, 0, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    reply, answered = body, False
    if status == 200:
        try:
            messages = [m for m in json.loads(body) if isinstance(m, dict)]
            reply = "\n".join(m.get("text", "") for m in messages)
            answered = bool(messages)
        except (ValueError, TypeError):
            reply = body
    return Turn(text, status, seconds, reply, answered)


async def customer(session, url: str, index: int, *, sticky: bool = True, seed: int = 0,
                   think_seconds: float = 0.0, run_tag: str = "", retries: int = 0) -> CustomerResult:
    """One simulated customer. `retries`: after a 5xx/connection error the customer presses
    send again (up to that many times, 1 s apart); `sent` then lists the messages that were
    answered with 200, each once — what the stored story must hold."""
    rng = random.Random(seed * 100003 + index)
    script = script_for(index, rng)
    sender = f"load{run_tag}-{index}-{uuid.uuid4().hex[:6]}"
    result = CustomerResult(sender)

    async def send(text: str) -> Turn:
        if think_seconds:
            await asyncio.sleep(rng.uniform(0, think_seconds))
        for attempt in range(retries + 1):
            turn = await say(session, url, sender, text, sticky)
            result.turns.append(turn)
            if turn.ok or attempt == retries or 0 < turn.status < 500 and turn.status != 200:
                break
            await asyncio.sleep(1.0)
        if not turn.ok:
            result.sent.append(text)  # may or may not have been processed: the check shows it
            what = "an empty answer (message not processed)" if turn.status == 200 else f"HTTP {turn.status}"
            raise RuntimeError(f"{what} for {text!r}: {turn.reply[:200]}")
        result.sent.append(text)
        return turn

    try:
        await send(script["opening"])
        await send(str(script["score"]))
        reply = (await send(script["story"])).reply
        followups = list(script["followups"])
        while not any(w in reply.lower() for w in CONFIRM_WORDS):
            if len(result.sent) >= MAX_TURNS:
                raise RuntimeError(f"no summary after {len(result.sent)} messages; last reply {reply[:200]!r}")
            reply = (await send(followups.pop(0) if followups else script["done"])).reply
        reply = (await send(script["confirm"])).reply
        if "?" in reply:  # offered a follow-up by a person
            reply = (await send(script["decline"])).reply
        result.finished = True
    except Exception as exc:  # noqa: BLE001
        result.error = str(exc)
    return result


async def run_customers(url: str, count: int, *, sticky_ratio: float = 0.5, seed: int = 0,
                        think_seconds: float = 0.0, connections: int = 0, retries: int = 0) -> List[CustomerResult]:
    import aiohttp

    tag = uuid.uuid4().hex[:4]
    connector = aiohttp.TCPConnector(limit=connections or count)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await asyncio.gather(*[
            customer(session, url, i, sticky=(i < count * sticky_ratio), seed=seed,
                     think_seconds=think_seconds, run_tag=tag, retries=retries)
            for i in range(count)
        ])


def stored_stories(db_url: str, senders: List[str]) -> Dict[str, Dict[str, Any]]:
    """{sender: {"status", "customer": [texts in order], "stories": n, "all_customer": [...]}}:
    the newest story of each conversation, and the customer texts of all its stories."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from bot.store.models import Story

    engine = create_engine(db_url)
    found: Dict[str, Dict[str, Any]] = {}
    try:
        with Session(engine) as session:
            for story in session.query(Story).filter(Story.conversation_id.in_(senders)).order_by(Story.id):
                entry = found.setdefault(story.conversation_id, {"stories": 0})
                entry["stories"] += 1
                entry["status"] = story.status
                entry["customer"] = [m.text for m in story.messages if m.role == "customer"]
                entry["all_customer"] = entry.get("all_customer", []) + entry["customer"]
    finally:
        engine.dispose()
    return found


def percentile(values: List[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def wait_for_stories(db_url: str, expected: Dict[str, List[str]], *, status: Optional[str] = None,
                     timeout: float = 30.0) -> Dict[str, Dict[str, Any]]:
    """Poll the store until every sender's newest story holds exactly `expected[sender]` as its
    customer messages (and `status`, if given), or `timeout` passes; return what is stored.

    The action server stores a story *after* answering (an ordered background write), so
    right after the reply the story may still lack the last message."""
    deadline = time.monotonic() + timeout
    while True:
        found = stored_stories(db_url, list(expected))
        done = all(
            s in found and found[s]["customer"] == texts and (status is None or found[s]["status"] == status)
            for s, texts in expected.items()
        )
        if done or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def conversation_problems(db_url: str, results: List[CustomerResult], *, status: str = "complete",
                          timeout: float = 60.0) -> List[str]:
    """Everything wrong with a load run: failed conversations, 5xx or connection errors, and
    stories that do not hold every customer message exactly once, in order, with `status`."""
    problems = [f"{r.sender}: conversation failed: {r.error}" for r in results if r.error]
    problems += [f"{r.sender}: HTTP {t.status or 'connection error'} for {t.text!r}: {t.reply[:120]}"
                 for r in results for t in r.turns if t.status >= 500 or t.status == 0]
    problems += [f"{r.sender}: HTTP 200 without an answer (dropped) for {t.text!r}"
                 for r in results for t in r.turns if t.status == 200 and not t.answered]
    stories = wait_for_stories(db_url, {r.sender: r.sent for r in results}, status=status, timeout=timeout)
    for r in results:
        story = stories.get(r.sender)
        if story is None:
            problems.append(f"{r.sender}: no story stored")
            continue
        if story["stories"] != 1:
            problems.append(f"{r.sender}: {story['stories']} stories for one conversation")
        if story["customer"] != r.sent:
            problems.append(f"{r.sender}: stored customer messages differ from what was sent:\n"
                            f"   sent   {r.sent}\n   stored {story['customer']}")
        if story["status"] != status:
            problems.append(f"{r.sender}: final status {story['status']!r}, expected {status!r}")
    return problems
