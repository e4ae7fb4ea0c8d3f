"""`gehoor run` (what `make run` calls): train if needed, start every service, supervise them.

Children: the action server, the Rasa server (REST + socketio), the staff review app and a
static server for the website widget's demo page. Each logs to var/log/<name>.log. If one
dies, the supervisor says which and why (exit code and the end of its log) and stops the
rest; Ctrl-C or SIGTERM stops them all. Rasa is started as a subprocess, never imported.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import config

ROOT = config.ROOT
BIN = Path(sys.executable).parent  # the venv's bin/, where `rasa` lives


class StartError(RuntimeError):
    """Something the operator must fix before Gehoor can start; the message says what."""


@dataclass
class Child:
    name: str
    argv: List[str]
    port: int
    port_variable: str
    health_path: str
    env: Dict[str, str] = field(default_factory=dict)
    process: Optional[subprocess.Popen] = None
    log_path: Optional[Path] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def rasa_env() -> Dict[str, str]:
    """Environment for Rasa and the action server: offline, and the values endpoints.yml expands."""
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("GEHOOR_ACTION_URL", f"http://127.0.0.1:{config.action_port()}/webhook")
    env.setdefault("GEHOOR_TRACKER_DB", str(config.tracker_db_path()))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports(children: List[Child]) -> None:
    for child in children:
        if not port_free(child.port):
            raise StartError(
                f"port {child.port} (the {child.name}) is already in use. "
                f"Stop what uses it, or choose another port: {child.port_variable}=<port> make run"
            )


def latest_model(root: Path = ROOT) -> Optional[Path]:
    models = sorted((root / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


# What a model is trained from. Rasa 3's own `rasa train --dry-run` decides from its local
# training cache, which here never holds DIET's output (a permanent cache miss), so it
# always answers "retrain". We fingerprint the same inputs ourselves instead.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data")


def training_fingerprint(root: Path = ROOT) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(f"rasa {version('rasa')}".encode())
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def up_to_date_model(fingerprint: str, root: Path = ROOT) -> Optional[Path]:
    try:
        recorded = json.loads((root / "models" / "fingerprint.json").read_text())
    except (OSError, ValueError):
        return None
    model = root / "models" / str(recorded.get("model", ""))
    return model if recorded.get("fingerprint") == fingerprint and model.is_file() else None


def train_if_needed(env: Dict[str, str], root: Path = ROOT) -> Path:
    """Train only when data, domain or config changed since the last trained model."""
    rasa = str(BIN / "rasa")
    fingerprint = training_fingerprint(root)
    model = up_to_date_model(fingerprint, root)
    if model is not None:
        print(f"gehoor: model is up to date ({model.name}); not retraining")
        return model
    print("gehoor: validating training data (rasa data validate --fail-on-warnings)")
    if subprocess.run([rasa, "data", "validate", "--fail-on-warnings"], cwd=root, env=env).returncode != 0:
        raise StartError("the training data is invalid (see Rasa's messages above); nothing was started")
    print("gehoor: training the model (rasa train) — this takes a minute or two")
    started = time.monotonic()
    if subprocess.run([rasa, "train", "--skip-validation"], cwd=root, env=env).returncode != 0:
        raise StartError("training failed (see Rasa's messages above); nothing was started")
    print(f"gehoor: trained in {time.monotonic() - started:.0f} s")
    model = latest_model(root)
    assert model is not None
    (root / "models" / "fingerprint.json").write_text(json.dumps({"fingerprint": fingerprint, "model": model.name}))
    return model


def cors_origins() -> List[str]:
    return config.cors_origins()  # the widget's channel defaults to the same list


def build_children(model: Path) -> List[Child]:
    python = sys.executable
    rasa = str(BIN / "rasa")
    rasa_argv = [
        rasa, "run", "--model", str(model), "--port", str(config.rasa_port()),
        "--interface", os.environ.get("GEHOOR_BIND", "127.0.0.1"),
        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
        "--cors", *cors_origins(),
    ]
    token = os.environ.get("GEHOOR_RASA_API_TOKEN")
    if token:  # Rasa's HTTP API only with authentication
        rasa_argv += ["--enable-api", "--auth-token", token]
    return [
        # `rasa run actions` plus /ready, /metrics and the story writes on stop (bot/ops/action_plugin.py)
        Child("action server", [python, "-m", "bot.ops.action_server", "--actions", "actions",
                                "--port", str(config.action_port())],
              config.action_port(), "GEHOOR_ACTION_PORT", "/health"),
        # `make run` is for development: plain REST on unless GEHOOR_REST_DEV=0 (bot/channels/rest_dev.py)
        Child("Rasa server", rasa_argv, config.rasa_port(), "GEHOOR_RASA_PORT", "/",
              env={"GEHOOR_REST_DEV": os.environ.get("GEHOOR_REST_DEV", "1")}),
        Child("review app", [python, "-m", "bot.review"], config.review_port(), "GEHOOR_REVIEW_PORT", "/healthz"),
        Child("chat demo page", [python, "-m", "http.server", str(config.web_port()), "--bind", "127.0.0.1",
                                 "--directory", str(ROOT / "web")],
              config.web_port(), "GEHOOR_WEB_PORT", "/"),
    ]


def start(child: Child, env: Dict[str, str], log_dir: Path) -> None:
    child.log_path = log_dir / (child.name.replace(" ", "-") + ".log")
    log = open(child.log_path, "ab")
    child.process = subprocess.Popen(child.argv, cwd=ROOT, env={**env, **child.env}, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)


def healthy(child: Child) -> bool:
    try:
        with urllib.request.urlopen(child.url + child.health_path, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def tail(path: Optional[Path], lines: int = 15) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def describe_death(child: Child) -> str:
    code = child.process.returncode if child.process else None
    reason = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return f"gehoor: the {child.name} stopped ({reason}). Last lines of {child.log_path}:\n{tail(child.log_path)}"


def stop_all(children: List[Child], timeout: float = 10.0) -> None:
    for child in children:
        if child.process and child.process.poll() is None:
            try:
                os.killpg(child.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(child.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.process.wait()


def run(args: argparse.Namespace) -> int:
    env = rasa_env()
    log_dir = config.var_dir() / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        from bot.store.db import make_engine, migrate

        migrate(make_engine())
        model = train_if_needed(env)
        children = build_children(model)
        check_ports(children)
    except StartError as exc:
        print(f"gehoor: {exc}", file=sys.stderr)
        return 1

    stopping = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for child in children:
        start(child, env, log_dir)

    ready: set = set()
    started = time.monotonic()
    exit_code = 0
    try:
        while not stopping.is_set():
            for child in children:
                if child.process.poll() is not None:
                    print(describe_death(child), file=sys.stderr)
                    exit_code = 1
                    stopping.set()
                    break
                if child.name not in ready and healthy(child):
                    ready.add(child.name)
                    if len(ready) == len(children):
                        print_ready(children, time.monotonic() - started)
            stopping.wait(0.5)
    finally:
        print("gehoor: stopping all services…")
        stop_all(children)
    return exit_code


def print_ready(children: List[Child], seconds: float) -> None:
    by_name = {c.name: c for c in children}
    web = by_name["chat demo page"].url
    print(
        f"\ngehoor: ready in {seconds:.0f} s\n"
        f"  chat demo page    {web}/\n"
        f"  review app        {by_name['review app'].url}/\n"
        f"  Rasa (REST)       {by_name['Rasa server'].url}/webhooks/rest/webhook\n"
        f"  Rasa (socket.io)  {by_name['Rasa server'].url}/socket.io\n"
        f"  action server     {by_name['action server'].url}/webhook\n"
        f"  logs              {config.var_dir() / 'log'}/\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )


def train(args: argparse.Namespace) -> int:
    try:
        train_if_needed(rasa_env())
    except StartError as exc:
        print(f"gehoor: {exc}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="train if needed and start every service (make run)")
    parser.set_defaults(func=run)
    parser = subparsers.add_parser("train", help="validate and train the Rasa model if data, domain or config changed")
    parser.set_defaults(func=train)
