"""`gehoor run-prod` (what `make run-prod` calls): the production profile on one machine.

    nginx (child process, config generated under var/prod/)
      :GEHOOR_RASA_PORT (5005)  →  Rasa 1, Rasa 2            (REST, messengers, socket.io)
      :GEHOOR_PROD_ACTION_LB_PORT (5150) /a1/ → action 1 (action 2 as backup)
                                         /a2/ → action 2 (action 1 as backup)
    Rasa: SQL tracker store on PostgreSQL, Redis lock store, RabbitMQ (pika) event broker
          (endpoints.prod.yml; every value from the environment, defaults below)
    action servers: story store on PostgreSQL (GEHOOR_DB_URL), /health, /ready, /metrics
    review app + chat demo page (unless --only-bot)

Routing (docs/deploy.md, "Routing"): REST requests are hashed on the `X-Gehoor-Sender`
header (else `?sender=`), so a conversation stays on one Rasa instance; requests without
either (e.g. Messenger webhooks, whose sender id is inside the JSON body that nginx cannot
read without Lua/njs) are spread. That is *safe* because the tracker lives in PostgreSQL
and the Redis lock store serialises a conversation across instances; stickiness only saves
lock contention. socket.io needs stickiness (its session lives in one process): hashed on
the client address.

Readiness: every child answers its health URL (action servers: /ready, which checks the
story database), the tracker database has Rasa's `events` table, and no Rasa log shows the
silent fallback to the in-memory tracker store (or any other degraded start). Then
var/prod/status/ready.json says so and nginx's /readyz answers 200 (503 before, and after a
problem; nginx proxies /readyz to the supervisor's in-memory answer, so nginx is never
reloaded). The logs are watched afterwards too: a later fallback logs an error and withdraws
readiness for good; PostgreSQL, Redis and RabbitMQ are checked every 5 s (503 while one is
down, ready again when it is back).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot import config
from bot.run import (
    BIN, ROOT, Child, StartError, check_ports, cors_origins, describe_death, healthy, latest_model,
    rasa_env, start, stop_all, tail, train_if_needed,
)

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/gehoor"

# Every variable endpoints.prod.yml expands, with its local default (Rasa refuses to start
# when one is unset, so all are always set).
PROD_DEFAULTS: Dict[str, str] = {
    "GEHOOR_DB_URL": DEFAULT_PG_URL,
    "GEHOOR_REDIS_HOST": "127.0.0.1",
    "GEHOOR_REDIS_PORT": "6379",
    "GEHOOR_REDIS_DB": "0",
    "GEHOOR_REDIS_PASSWORD": "",
    "GEHOOR_REDIS_KEY_PREFIX": "gehoor",
    "GEHOOR_RABBITMQ_HOST": "127.0.0.1",
    "GEHOOR_RABBITMQ_PORT": "5672",
    "GEHOOR_RABBITMQ_USER": "guest",
    "GEHOOR_RABBITMQ_PASSWORD": "guest",
    "GEHOOR_RABBITMQ_EXCHANGE": "gehoor-events",
    "GEHOOR_RABBITMQ_QUEUE": "gehoor_events",
}

# Lines in a Rasa log that mean "running, but not as configured" (never ready):
DEGRADED_PATTERNS: List[Tuple[re.Pattern, str]] = [
    (re.compile(r"Falling back to use\s+the 'InMemoryTrackerStore'|Using `InMemoryTrackerStore` instead"),
     "Rasa fell back to the in-memory tracker store: conversations are NOT being stored in PostgreSQL"),
    (re.compile(r"Could not create tables"), "Rasa could not create its tracker tables"),
    (re.compile(r"Cannot connect to (tracker store|event broker)"), "Rasa cannot reach a backing service"),
    (re.compile(r"Could not load model"), "Rasa could not load the model"),
]
# Lines that explain a slow start (shown when a Rasa instance is not up in time):
WAITING_PATTERNS = [re.compile(r"OperationalError|Connecting to '.*' failed|Connection refused")]

START_TIMEOUT = float(os.environ.get("GEHOOR_PROD_START_TIMEOUT", "240"))


def prod_dir() -> Path:
    path = Path(os.environ.get("GEHOOR_PROD_DIR", config.var_dir() / "prod")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ports(variable: str, default: str) -> List[int]:
    raw = os.environ.get(variable, default)
    try:
        return [int(p) for p in raw.split(",") if p.strip()]
    except ValueError as exc:
        raise StartError(f"{variable} must be comma-separated port numbers, got {raw!r}") from exc


def prod_env() -> Dict[str, str]:
    env = rasa_env()
    for key, value in PROD_DEFAULTS.items():
        env.setdefault(key, value)
    env.setdefault("GEHOOR_TRACKER_DB_URL", env["GEHOOR_DB_URL"])
    env.setdefault("ACTION_SERVER_SANIC_WORKERS", "1")  # metrics registry is per process
    env.setdefault("SANIC_HOST", "127.0.0.1")  # the action servers are reached through nginx only
    return env


# ---------------------------------------------------------------------------- services
def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` when it is missing (needs CREATEDB)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine.url import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    name = parsed.database
    admin_url = parsed.set(database="postgres")
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                print(f"gehoor: created PostgreSQL database {name!r}")
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StartError(
            f"PostgreSQL is not usable at {parsed.render_as_string(hide_password=True)}: {first}\n"
            "  start it (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
            " or set GEHOOR_DB_URL / GEHOOR_TRACKER_DB_URL"
        ) from exc


def check_redis(env: Dict[str, str]) -> None:
    import redis

    try:
        client = redis.Redis(host=env["GEHOOR_REDIS_HOST"], port=int(env["GEHOOR_REDIS_PORT"]),
                             db=int(env["GEHOOR_REDIS_DB"]), password=env["GEHOOR_REDIS_PASSWORD"] or None,
                             socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        raise StartError(
            f"Redis is not reachable at {env['GEHOOR_REDIS_HOST']}:{env['GEHOOR_REDIS_PORT']}: {exc}\n"
            "  start it (redis-server) or set GEHOOR_REDIS_HOST / GEHOOR_REDIS_PORT / GEHOOR_REDIS_PASSWORD"
        ) from exc


def rabbitmq_url(env: Dict[str, str]) -> str:
    from urllib.parse import quote

    return (f"amqp://{quote(env['GEHOOR_RABBITMQ_USER'], safe='')}:{quote(env['GEHOOR_RABBITMQ_PASSWORD'], safe='')}"
            f"@{env['GEHOOR_RABBITMQ_HOST']}:{env['GEHOOR_RABBITMQ_PORT']}/")


def check_rabbitmq(env: Dict[str, str]) -> None:
    import aio_pika

    async def probe() -> None:
        connection = await aio_pika.connect(rabbitmq_url(env), timeout=5)
        await connection.close()

    try:
        asyncio.run(asyncio.wait_for(probe(), 10))
    except Exception as exc:  # noqa: BLE001
        raise StartError(
            f"RabbitMQ is not usable at {env['GEHOOR_RABBITMQ_HOST']}:{env['GEHOOR_RABBITMQ_PORT']}: "
            f"{type(exc).__name__}: {exc}\n"
            "  start it (rabbitmq-server -detached) or set GEHOOR_RABBITMQ_HOST / _PORT / _USER / _PASSWORD"
        ) from exc


def check_postgresql(urls: List[str]) -> Optional[str]:
    """None when every distinct database in `urls` answers `SELECT 1` (3 s timeout), else why not."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine.url import make_url
    from sqlalchemy.pool import NullPool

    for url in dict.fromkeys(urls):
        if make_url(url).get_backend_name() != "postgresql":
            continue
        try:
            engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            finally:
                engine.dispose()
        except Exception as exc:  # noqa: BLE001
            parsed = make_url(url)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            return (f"PostgreSQL is not reachable at {parsed.host}:{parsed.port or 5432}/{parsed.database}: {first}"
                    " — Rasa holds messages for up to GEHOOR_TRACKER_WAIT_SECONDS, story writes go to the"
                    " action servers' outboxes")
    return None


def backing_service_problem(env: Dict[str, str]) -> Optional[str]:
    """A cheap run-time check (every few seconds): PostgreSQL answers, Redis answers PING,
    RabbitMQ accepts TCP. With Redis down, Rasa answers 503 so that clients and platforms
    send the message again (bot/rasa_patches/store_unavailable.py); with PostgreSQL down,
    messages wait (and get 503 after GEHOOR_TRACKER_WAIT_SECONDS). Either way the stack is
    not ready."""
    import socket

    problem = check_postgresql([env["GEHOOR_TRACKER_DB_URL"], env["GEHOOR_DB_URL"]])
    if problem:
        return problem
    try:
        check_redis(env)
    except StartError as exc:
        return str(exc).splitlines()[0] + " — Rasa answers 503 meanwhile (clients send again)"
    try:
        socket.create_connection((env["GEHOOR_RABBITMQ_HOST"], int(env["GEHOOR_RABBITMQ_PORT"])), timeout=2).close()
    except OSError as exc:
        return (f"RabbitMQ is not reachable at {env['GEHOOR_RABBITMQ_HOST']}:{env['GEHOOR_RABBITMQ_PORT']}: {exc}"
                " — Rasa keeps events in memory until it is back")
    return None


def tracker_table_exists(url: str) -> Optional[str]:
    """None when Rasa's `events` table is in the tracker database, else why not."""
    from sqlalchemy import create_engine, inspect

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3} if url.startswith("postgres") else {})
        try:
            if not inspect(engine).has_table("events"):
                return "the tracker database has no `events` table (Rasa could not create it)"
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001
        return f"the tracker database is unreachable: {(str(exc).strip().splitlines() or [''])[0]}"
    return None


# ---------------------------------------------------------------------------- nginx
def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise StartError("nginx is not installed: run `bash scripts/install-nginx.sh` (make run-prod does)")
    return found


def nginx_config(public_port: int, bind: str, rasa_ports: List[int], action_lb_port: int,
                 action_ports: List[int], directory: Path, status_port: int) -> str:
    log = directory / "log"
    tmp = directory / "nginx-tmp"
    status = directory / "status"
    for path in (log, tmp, status):
        path.mkdir(parents=True, exist_ok=True)
    rasa_servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in rasa_ports)
    action_upstreams = []
    action_locations = []
    for i, port in enumerate(action_ports, start=1):
        backups = "\n".join(f"    server 127.0.0.1:{p} backup;" for p in action_ports if p != port)
        action_upstreams.append(
            f"  upstream gehoor_actions_{i} {{\n    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n"
            f"{backups}\n    keepalive 32;\n  }}"
        )
        action_locations.append(
            f"    location /a{i}/ {{\n      proxy_pass http://gehoor_actions_{i}/;\n"
            "      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n"
            "      # An action run is safe to repeat (stateless; the story write is an idempotent\n"
            "      # upsert), so a request cut off by a dying action server is retried once.\n"
            "      proxy_next_upstream error timeout http_502 http_503 non_idempotent;\n"
            "      proxy_next_upstream_tries 2;\n      proxy_read_timeout 60s;\n    }"
        )
    return f"""# Generated by `gehoor run-prod` (bot/run_prod.py) — do not edit; regenerated on start.
worker_processes 1;
pid {directory}/nginx.pid;
error_log {log}/nginx-error.log warn;
events {{ worker_connections 4096; }}

http {{
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  log_format gehoor '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent '
                    'up=$upstream_addr rt=$request_time urt=$upstream_response_time key=$gehoor_route';
  access_log {log}/nginx-access.log gehoor buffer=64k flush=2s;
  client_max_body_size 1m;
  # Bodies and responses stay in memory (no temp files: nginx's workers run as another user
  # and need no write access to var/).
  client_body_buffer_size 1m;
  proxy_max_temp_file_size 0;
  server_tokens off;

  # Conversation key: X-Gehoor-Sender header, else ?sender=, else the request id (spread).
  map $http_x_gehoor_sender $gehoor_sender_hint {{ default $http_x_gehoor_sender; "" $arg_sender; }}
  map $gehoor_sender_hint $gehoor_route {{ default $gehoor_sender_hint; "" $request_id; }}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" ""; }}
  # A POST without a body (no Content-Length or 0, not chunked) is never a valid webhook
  # call; Rasa's REST channel answers it with a 500 (AttributeError), so nginx says 400.
  map "$request_method:$content_length:$http_transfer_encoding" $gehoor_empty_post {{
    default 0; "POST::" 1; "POST:0:" 1;
  }}

  upstream gehoor_rasa {{
    hash $gehoor_route consistent;
{rasa_servers}
    keepalive 64;
  }}
  upstream gehoor_rasa_socketio {{
    hash $remote_addr consistent;
{rasa_servers}
  }}
{chr(10).join(action_upstreams)}

  server {{
    listen {bind}:{public_port};
    location = /nginx-health {{ default_type text/plain; return 200 "ok\\n"; }}
    # The supervisor's current answer (StatusServer, from memory): a readiness change needs no
    # nginx reload. A reload closes idle keep-alive connections, and a request racing that
    # close fails (the fault suite saw a pooled Rasa→action call lose the action's events).
    location = /readyz {{
      proxy_pass http://127.0.0.1:{status_port}/readyz;
      proxy_connect_timeout 2s;
      proxy_read_timeout 5s;
      error_page 502 504 = @readyz_down;
    }}
    location @readyz_down {{
      default_type application/json;
      return 503 '{{"ready": false, "reason": "the gehoor run-prod supervisor does not answer"}}\n';
    }}
    location /socket.io/ {{
      proxy_pass http://gehoor_rasa_socketio;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
    }}
    location / {{
      if ($gehoor_empty_post) {{ return 400 '{{"error": "empty request body"}}\n'; }}
      proxy_pass http://gehoor_rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # Never resend a customer's message once an instance got it (it would be stored
      # twice); only "could not connect" goes to the next instance.
      proxy_next_upstream error timeout;
      proxy_read_timeout 60s;
    }}
  }}

  server {{
    listen 127.0.0.1:{action_lb_port};
    # Rasa sends the whole tracker to the action server: far more than one message (a
    # 100 KB customer message appears several times in it). Kept in memory (see above).
    client_max_body_size 64m;
    client_body_buffer_size 64m;
    location = /nginx-health {{ default_type text/plain; return 200 "ok\\n"; }}
{chr(10).join(action_locations)}
  }}
}}
"""


# ---------------------------------------------------------------------------- children
class Topology:
    def __init__(self, model: Path, env: Dict[str, str], only_bot: bool = False):
        self.directory = prod_dir()
        self.log_dir = self.directory / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.status_dir = self.directory / "status"
        self.status_dir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.public_port = config.rasa_port()
        self.bind = os.environ.get("GEHOOR_BIND", "127.0.0.1")
        self.rasa_ports = _ports("GEHOOR_PROD_RASA_PORTS", "5101,5102")
        self.action_ports = _ports("GEHOOR_PROD_ACTION_PORTS", "5151,5152")
        self.action_lb_port = _ports("GEHOOR_PROD_ACTION_LB_PORT", "5150")[0]
        if len(self.action_ports) != len(self.rasa_ports):
            raise StartError("GEHOOR_PROD_RASA_PORTS and GEHOOR_PROD_ACTION_PORTS need as many ports each")
        self.nginx_conf = self.directory / "nginx.conf"
        self.children: List[Child] = []
        python = sys.executable
        rasa = str(BIN / "rasa")
        for i, port in enumerate(self.action_ports, start=1):
            own_var = self.directory / f"action-{i}"  # own outbox per action server
            own_var.mkdir(parents=True, exist_ok=True)
            self.children.append(Child(
                f"action-{i}", [python, "-m", "bot.ops.action_server", "--actions", "actions", "--port", str(port)],
                port, "GEHOOR_PROD_ACTION_PORTS", "/ready", env={"GEHOOR_VAR_DIR": str(own_var)},
            ))
        for i, port in enumerate(self.rasa_ports, start=1):
            argv = [rasa, "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1",
                    "--endpoints", "endpoints.prod.yml", "--credentials", "credentials.yml",
                    "--cors", *cors_origins()]
            token = os.environ.get("GEHOOR_RASA_API_TOKEN")
            if token:
                argv += ["--enable-api", "--auth-token", token]
            self.children.append(Child(
                f"rasa-{i}", argv, port, "GEHOOR_PROD_RASA_PORTS", "/",
                env={"GEHOOR_ACTION_URL": f"http://127.0.0.1:{self.action_lb_port}/a{i}/webhook"},
            ))
        self.children.append(Child(
            "nginx", [nginx_binary(), "-p", str(self.directory), "-c", str(self.nginx_conf),
                      "-e", str(self.log_dir / "nginx-error.log"), "-g", "daemon off;"],
            self.public_port, "GEHOOR_RASA_PORT", "/nginx-health",
        ))
        self.nginx_action_child = Child("nginx (action routing)", [], self.action_lb_port,
                                        "GEHOOR_PROD_ACTION_LB_PORT", "/nginx-health")
        if not only_bot:
            self.children.append(Child("review app", [python, "-m", "bot.review"], config.review_port(),
                                       "GEHOOR_REVIEW_PORT", "/readyz"))
            self.children.append(Child("chat demo page", [python, "-m", "http.server", str(config.web_port()),
                                                          "--bind", "127.0.0.1", "--directory", str(ROOT / "web")],
                                       config.web_port(), "GEHOOR_WEB_PORT", "/"))

    def write_nginx_config(self, status_port: int) -> None:
        self.nginx_conf.write_text(nginx_config(self.public_port, self.bind, self.rasa_ports, self.action_lb_port,
                                                self.action_ports, self.directory, status_port))
        test = subprocess.run([nginx_binary(), "-t", "-q", "-p", str(self.directory), "-c", str(self.nginx_conf),
                               "-e", str(self.log_dir / "nginx-error.log")], capture_output=True, text=True)
        if test.returncode != 0:
            raise StartError(f"the generated nginx config {self.nginx_conf} is invalid:\n{test.stderr}")

    @property
    def nginx(self) -> Child:
        return next(c for c in self.children if c.name == "nginx")

    @property
    def rasa_children(self) -> List[Child]:
        return [c for c in self.children if c.name.startswith("rasa-")]


def wait_until_healthy(child: Child, stopping: threading.Event, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping.is_set():
        if child.process.poll() is not None:
            return False
        if healthy(child):
            return True
        stopping.wait(0.5)
    return False


class LogWatcher:
    """Reads what was appended to each Rasa log since the last call; finds degraded starts."""

    def __init__(self) -> None:
        self.offsets: Dict[Path, int] = {}

    def new_problems(self, children: List[Child]) -> List[str]:
        problems = []
        for child in children:
            path = child.log_path
            if path is None or not path.exists():
                continue
            offset = self.offsets.get(path, 0)
            with open(path, "rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
            self.offsets[path] = offset + len(chunk)
            for line in chunk.decode(errors="replace").splitlines():
                for pattern, meaning in DEGRADED_PATTERNS:
                    if pattern.search(line):
                        problems.append(f"{child.name}: {meaning}\n    log: {line.strip()[:400]}")
        return problems


class RestartPolicy:
    """Rasa and action servers are redundant: one that dies is restarted (at most
    GEHOOR_PROD_MAX_RESTARTS times in 5 minutes, default 5), while nginx sends its traffic to
    the other instance. nginx, the review app and the demo page are not: their death stops all."""

    WINDOW = 300.0

    def __init__(self) -> None:
        self.limit = int(os.environ.get("GEHOOR_PROD_MAX_RESTARTS", "5"))
        self.history: Dict[str, List[float]] = {}
        self.recent: List[str] = []  # restarted since every instance was last up

    def allow(self, child: Child) -> bool:
        if not (child.name.startswith("rasa-") or child.name.startswith("action-")):
            return False
        now = time.monotonic()
        times = [t for t in self.history.get(child.name, []) if now - t < self.WINDOW]
        if len(times) >= self.limit:
            print(f"gehoor: the {child.name} died {len(times)} times in {self.WINDOW / 60:.0f} minutes; giving up",
                  file=sys.stderr, flush=True)
            return False
        self.history[child.name] = times + [now]
        self.recent = list(dict.fromkeys(self.recent + [child.name]))
        return True


def waiting_reason(child: Child) -> str:
    lines = [ln for ln in tail(child.log_path, 200).splitlines() if any(p.search(ln) for p in WAITING_PATTERNS)]
    return lines[-1].strip()[:400] if lines else ""


class StatusServer:
    """The supervisor's readiness answer for nginx's /readyz: `GET /readyz` on an ephemeral
    127.0.0.1 port, served from memory by a daemon thread (nginx proxies to it; its workers
    never read var/). Changing it needs no nginx reload — a reload closes idle keep-alive
    connections, and a request racing that close fails."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self._lock = threading.Lock()
        self._answer: Tuple[int, bytes] = (503, b'{"ready": false, "reason": "starting"}\n')
        status = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                code, body = status.answer() if self.path.split("?")[0] == "/readyz" else (404, b"{}\n")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="gehoor-readyz", daemon=True).start()

    def answer(self) -> Tuple[int, bytes]:
        with self._lock:
            return self._answer

    def set(self, ready: bool, details: Dict) -> None:
        body = (json.dumps({"ready": ready, **details}) + "\n").encode()
        with self._lock:
            self._answer = (200 if ready else 503, body)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def write_ready(directory: Path, ready: bool, details: Dict, status_server: Optional[StatusServer] = None) -> None:
    """Record readiness: status/ready.json (for people and scripts) and nginx's /readyz."""
    status = directory / "status"
    status.mkdir(parents=True, exist_ok=True)
    tmp = status / "ready.json.tmp"
    tmp.write_text(json.dumps({"ready": ready, **details}, indent=1))
    tmp.replace(status / "ready.json")
    if status_server is not None:
        status_server.set(ready, details)


def choose_model(args: argparse.Namespace, env: Dict[str, str]) -> Path:
    explicit = getattr(args, "model", None) or os.environ.get("GEHOOR_MODEL")
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise StartError(f"model {path} does not exist")
        return path
    if getattr(args, "no_train", False) and latest_model() is not None:
        return latest_model()
    return train_if_needed(env)


def preflight(env: Dict[str, str]) -> None:
    os.environ.update({k: env[k] for k in ("GEHOOR_DB_URL", "GEHOOR_TRACKER_DB_URL")})
    ensure_database(env["GEHOOR_DB_URL"])
    if env["GEHOOR_TRACKER_DB_URL"] != env["GEHOOR_DB_URL"]:
        ensure_database(env["GEHOOR_TRACKER_DB_URL"])
    check_redis(env)
    check_rabbitmq(env)
    from bot.store.db import make_engine, migrate

    engine = make_engine(env["GEHOOR_DB_URL"])
    try:
        migrate(engine)
    finally:
        engine.dispose()


def run_prod(args: argparse.Namespace) -> int:
    env = prod_env()
    try:
        preflight(env)
        model = choose_model(args, env)
        topology = Topology(model, env, only_bot=getattr(args, "only_bot", False))
        check_ports(topology.children + [topology.nginx_action_child])
        status_server = StatusServer()
        topology.write_nginx_config(status_server.port)
    except StartError as exc:
        print(f"gehoor: {exc}", file=sys.stderr)
        return 1

    stopping = threading.Event()
    received: List[int] = []

    def on_signal(signum, frame):  # noqa: ARG001
        received.append(signum)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    write_ready(topology.directory, False, {"reason": "starting"}, status_server)
    children = topology.children
    print(f"gehoor: production profile, model {model.name}; logs in {topology.log_dir}/", flush=True)
    # The first Rasa instance creates the tracker tables in a new database; started together,
    # the others race it and fail with "relation events already exists". So the other Rasa
    # instances start once the first one answers.
    rasa_children = [c for c in children if c.name.startswith("rasa-")]
    for child in children:
        if child not in rasa_children[1:]:
            start(child, env, topology.log_dir)
    if rasa_children and not wait_until_healthy(rasa_children[0], stopping):
        print(describe_death(rasa_children[0]) if rasa_children[0].process.poll() is not None
              else f"gehoor: {rasa_children[0].name} did not come up", file=sys.stderr, flush=True)
    for child in rasa_children[1:]:
        start(child, env, topology.log_dir)

    watcher = LogWatcher()
    restarts = RestartPolicy()
    was_ready = False
    service_problem: Optional[str] = None
    last_service_check = 0.0
    up: set = set()
    ready = False
    degraded: List[str] = []
    started = time.monotonic()
    last_wait_note = 0.0
    exit_code = 0
    try:
        while not stopping.is_set():
            for child in children:
                if child.process.poll() is not None:
                    print(describe_death(child), file=sys.stderr, flush=True)
                    if restarts.allow(child):
                        # A redundant instance: the other one carries the traffic meanwhile.
                        print(f"gehoor: restarting the {child.name} (the other instance serves meanwhile)",
                              file=sys.stderr, flush=True)
                        up.discard(child.name)
                        start(child, env, topology.log_dir)
                        continue
                    exit_code = 1
                    stopping.set()
                    break
            if stopping.is_set():
                break
            problems = watcher.new_problems(topology.rasa_children)
            if problems:
                degraded.extend(problems)
                for problem in problems:
                    print(f"gehoor: ERROR {problem}", file=sys.stderr, flush=True)
                if ready:
                    print("gehoor: ERROR readiness withdrawn (/readyz now 503)", file=sys.stderr, flush=True)
                ready = False
                write_ready(topology.directory, False, {"reason": problems[0]}, status_server)
            if was_ready and not degraded and time.monotonic() - last_service_check >= 5:
                last_service_check = time.monotonic()
                problem = backing_service_problem(env)
                if problem and service_problem is None:
                    print(f"gehoor: ERROR {problem}; readiness withdrawn (/readyz 503)", file=sys.stderr, flush=True)
                    write_ready(topology.directory, False, {"reason": problem}, status_server)
                    ready = False
                elif service_problem is not None and problem is None:
                    print(f"gehoor: backing services reachable again ({service_problem.split(' is not ')[0]} was "
                          "down); ready", flush=True)
                    write_ready(topology.directory, True, {"model": model.name}, status_server)
                    ready = True
                service_problem = problem
            if ready and restarts.recent:
                for child in children:
                    if child.name not in up and healthy(child):
                        up.add(child.name)
                if len(up) == len(children):
                    print(f"gehoor: every instance is up again (restarted: {', '.join(restarts.recent)})", flush=True)
                    restarts.recent = []
            if not ready and not degraded and not was_ready:
                for child in children:
                    if child.name not in up and healthy(child):
                        up.add(child.name)
                if len(up) == len(children):
                    reason = tracker_table_exists(env["GEHOOR_TRACKER_DB_URL"])
                    if reason:
                        degraded.append(reason)
                        print(f"gehoor: ERROR {reason}: not ready", file=sys.stderr, flush=True)
                    elif healthy(topology.nginx_action_child):
                        ready = was_ready = True
                        seconds = time.monotonic() - started
                        write_ready(topology.directory, True, {"model": model.name, "started_s": round(seconds, 1)},
                                    status_server)
                        print_ready(topology, seconds)
                elif time.monotonic() - started > START_TIMEOUT and time.monotonic() - last_wait_note > 30:
                    last_wait_note = time.monotonic()
                    for child in children:
                        if child.name not in up:
                            why = waiting_reason(child)
                            print(f"gehoor: ERROR the {child.name} is not up after {time.monotonic() - started:.0f} s"
                                  + (f"; its log says: {why}" if why else f" (log: {child.log_path})"),
                                  file=sys.stderr, flush=True)
            stopping.wait(0.5)
    finally:
        why = f" (signal {signal.Signals(received[0]).name})" if received else ""
        print(f"gehoor: stopping all services{why}…", flush=True)
        write_ready(topology.directory, False, {"reason": "stopped"}, status_server)
        stop_all(children)
        status_server.close()
    return exit_code


def print_ready(topology: Topology, seconds: float) -> None:
    base = f"http://{topology.bind}:{topology.public_port}"
    extra = ""
    names = {c.name: c for c in topology.children}
    if "review app" in names:
        extra = (f"  review app        {names['review app'].url}/\n"
                 f"  chat demo page    {names['chat demo page'].url}/\n")
    rest = (f"{base}/webhooks/rest/webhook   (header X-Gehoor-Sender: <sender> keeps a conversation on one instance)"
            if config.rest_dev_enabled() else f"{base}/webhooks/<channel>/webhook   (plain REST off; GEHOOR_REST_DEV=1 for tests)")
    print(
        f"\ngehoor: production profile ready in {seconds:.0f} s\n"
        f"  Rasa via nginx    {rest}\n"
        f"  socket.io         {base}/socket.io\n"
        f"  readiness         {base}/readyz\n"
        f"  Rasa instances    {', '.join(str(p) for p in topology.rasa_ports)}\n"
        f"  action servers    {', '.join(f'http://127.0.0.1:{p}/metrics' for p in topology.action_ports)}  (/ready, /health)\n"
        f"{extra}"
        f"  logs              {topology.log_dir}/\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run-prod", help="production profile: PostgreSQL, Redis, RabbitMQ, 2 Rasa + 2 action servers behind nginx")
    parser.add_argument("--model", help="model archive (default: GEHOOR_MODEL, else train if needed like `gehoor run`)")
    parser.add_argument("--no-train", action="store_true", help="use the newest models/*.tar.gz as it is")
    parser.add_argument("--only-bot", action="store_true", help="without the review app and the chat demo page")
    parser.set_defaults(func=run_prod)

    from bot.ops import event_consumer  # `gehoor events count` belongs to the same profile

    event_consumer.register(subparsers)
