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


def test_action_server_builds_no_access_log_records_unless_asked(monkeypatch):
    # Sanic builds an access-log record (URL, forwarded client address) for every response,
    # written or not; only Rasa calls this server. SANIC_ACCESS_LOG, Sanic's own setting, wins.
    import uuid

    from sanic import Sanic

    from bot.ops import action_plugin

    monkeypatch.delenv("SANIC_ACCESS_LOG", raising=False)
    app = Sanic(f"actions-{uuid.uuid4().hex}")
    assert app.config.ACCESS_LOG is True  # Sanic's default
    action_plugin.attach_sanic_app_extensions(app)
    assert app.config.ACCESS_LOG is False

    monkeypatch.setenv("SANIC_ACCESS_LOG", "true")
    app = Sanic(f"actions-{uuid.uuid4().hex}")
    action_plugin.attach_sanic_app_extensions(app)
    assert app.config.ACCESS_LOG is True
