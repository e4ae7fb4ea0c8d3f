"""The action server as Rasa reaches it (bot/ops/action_server.py)."""
import json
import os
import subprocess
import sys
import urllib.request

from bot.ops.ports import free_port
from tests.conftest import ROOT, wait_http


def test_action_server_has_no_cors_middleware(tmp_path):
    # Only the Rasa servers call it. rasa_sdk would answer a browser's Origin with CORS
    # headers for `--cors '*'` (and run its middleware on every call even without it).
    port = free_port()
    log = tmp_path / "actions.log"
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", GEHOOR_VAR_DIR=str(tmp_path),
               GEHOOR_DB_URL=f"sqlite:///{tmp_path / 'gehoor.db'}")
    process = subprocess.Popen([sys.executable, "-m", "bot.ops.action_server", "--actions", "actions",
                                "--port", str(port), "--cors", "*"],
                               cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", process, log)
        for path in ("/health", "/actions"):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Origin": "http://example.org"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                assert json.loads(response.read())
                assert "Access-Control-Allow-Origin" not in response.headers
    finally:
        process.terminate()
        process.wait(20)
