"""Start a Rasa server (and optionally Gehoor's action server) on free ports, for benchmarks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.services import free_port  # noqa: E402  (the tests' helper)


def post(url: str, sender: str, message: str, timeout: float = 30) -> list:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@contextmanager
def rasa_servers(model: Path, workdir: Path, *, with_actions: bool = True, project: Path = ROOT,
                 ready_message: str = "hoi") -> Iterator[str]:
    """Yields the REST webhook URL once the server answers `ready_message`."""
    rasa_port, action_port = free_port(), free_port()
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
               GEHOOR_ACTION_URL=f"http://127.0.0.1:{action_port}/webhook",
               GEHOOR_TRACKER_DB=str(workdir / f"tracker-{rasa_port}.db"), GEHOOR_VAR_DIR=str(workdir),
               GEHOOR_DB_URL=f"sqlite:///{workdir / 'gehoor.db'}",
               GEHOOR_REST_DEV="1")  # the benchmarks post to plain REST (bot/channels/rest_dev.py)
    procs: List[subprocess.Popen] = []
    log = open(workdir / f"servers-{rasa_port}.log", "wb")
    if with_actions:
        procs.append(subprocess.Popen([str(BIN / "python"), "-m", "bot.ops.action_server", "--actions", "actions",
                                       "--port", str(action_port)], cwd=ROOT, env=env, stdout=log, stderr=log))
    argv = [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(rasa_port),
            "--endpoints", os.environ.get("GEHOOR_ENDPOINTS", "endpoints.yml")]
    # The same channels (and so the same Rasa patches, bot/rasa_patches/) for
    # Gehoor and for the stock baseline.
    argv += ["--credentials", str(ROOT / "credentials.yml")]
    procs.append(subprocess.Popen(argv, cwd=project, env=env, stdout=log, stderr=log))
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if post(url, "warm-up", ready_message, timeout=10):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"servers did not answer; see {log.name}")
            time.sleep(0.2)
        yield url
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
