"""Shared fixtures. `gehoor_stack` starts the real servers: action server, Rasa server (REST +
socketio, SQL tracker store on SQLite) and the static web server, on free ports, with a
private var/ directory. The trained model comes from models/ (`gehoor train`, run by make test).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from services import free_port, wait_http  # noqa: F401  (tests/services.py; also used by bench/ and tests/integration)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001, ARG001
    """Tests of a module that loads the trained model (tests/channels/model_agent.py) are
    marked `model`, so `make test-fast` can leave them out without a list of files."""
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "loaded_agent"):
            item.add_marker(pytest.mark.model)


@dataclass
class Stack:
    rasa_url: str
    action_url: str
    web_url: str
    db_url: str
    var_dir: Path
    tracker_db: Path
    processes: List[subprocess.Popen] = field(default_factory=list)

    def rest(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None,
             timeout: float = 30) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def story(self, conversation_id: str, timeout: float = 10.0):
        """The stored story, once the write that follows the last answer has landed.

        The action server stores after answering, so poll until the transcript ends with a
        bot message and does not change between two reads.
        """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from bot.store.models import Story

        engine = create_engine(self.db_url)
        deadline = time.monotonic() + timeout
        previous = None
        try:
            while True:
                with Session(engine) as session:
                    story = (session.query(Story).filter_by(conversation_id=conversation_id)
                             .order_by(Story.id.desc()).first())
                    if story is not None:
                        story.transcript = [(m.role, m.text) for m in story.messages]
                        session.expunge(story)
                snapshot = None if story is None else (story.updated_at, len(story.transcript))
                settled = story is not None and story.transcript and story.transcript[-1][0] == "bot"
                if settled and snapshot == previous:
                    return story
                if time.monotonic() > deadline:
                    assert story is not None, f"no story stored for {conversation_id}"
                    return story
                previous = snapshot
                time.sleep(0.15)
        finally:
            engine.dispose()

    def say(self, sender: str, message: str, **kwargs: Any) -> str:
        """Send a message; return the bot's replies joined into one string."""
        return "\n".join(m.get("text", "") for m in self.rest(sender, message, **kwargs))


def latest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `gehoor train`")
    return models[-1]


@pytest.fixture(scope="session")
def gehoor_stack(tmp_path_factory: pytest.TempPathFactory):
    with running_stack(tmp_path_factory.mktemp("var")) as stack:
        yield stack


@contextmanager
def running_stack(var_dir: Path) -> Iterator[Stack]:
    """Start the real stack with its state in var_dir; stop it on exit (also used by
    tests/quality/scorecard.py as a plain script)."""
    (var_dir / "log").mkdir(parents=True, exist_ok=True)
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    db_url = f"sqlite:///{var_dir / 'gehoor.db'}"
    tracker_db = var_dir / "tracker.db"
    env = dict(
        os.environ,
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
        GEHOOR_VAR_DIR=str(var_dir),
        GEHOOR_DB_URL=db_url,
        GEHOOR_TRACKER_DB=str(tracker_db),
        GEHOOR_ACTION_URL=f"http://127.0.0.1:{action_port}/webhook",
        GEHOOR_REST_DEV="1",  # the suites talk to Rasa over plain REST (bot/channels/rest_dev.py)
        GEHOOR_CORS_ORIGINS=f"http://127.0.0.1:{web_port}",  # --cors below, and the widget's allowed origin
    )
    specs = [
        ("action-server", [str(BIN / "python"), "-m", "bot.ops.action_server", "--actions", "actions", "--port", str(action_port)],
         f"http://127.0.0.1:{action_port}/health"),
        ("rasa", [str(BIN / "rasa"), "run", "--model", str(latest_model()), "--port", str(rasa_port),
                  "--interface", "127.0.0.1", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                  "--cors", f"http://127.0.0.1:{web_port}"],
         f"http://127.0.0.1:{rasa_port}/"),
        ("web", [sys.executable, "-m", "http.server", str(web_port), "--bind", "127.0.0.1",
                 "--directory", str(ROOT / "web")],
         f"http://127.0.0.1:{web_port}/"),
    ]
    stack = Stack(
        rasa_url=f"http://127.0.0.1:{rasa_port}", action_url=f"http://127.0.0.1:{action_port}",
        web_url=f"http://127.0.0.1:{web_port}", db_url=db_url, var_dir=var_dir, tracker_db=tracker_db,
    )
    started = []
    try:
        for name, argv, _ in specs:
            log = var_dir / "log" / f"{name}.log"
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                       start_new_session=True)
            stack.processes.append(process)
            started.append((process, log))
        for (process, log), (_, _, health) in zip(started, specs):
            wait_http(health, process, log)
        yield stack
    finally:
        for process in stack.processes:
            if process.poll() is None:
                process.terminate()
        for process in stack.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
