"""A Messenger conversation against the real Rasa server, action server and story store:
a like sticker at the score question and photos at the open question are answered ("I read
text") and recorded with their ids, never stored as a score or an answer; Get Started in
the middle asks the open question again; an edit is recorded as an edit, not answered.
The Graph API is a fake on loopback that records what the bot sends."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.listening import catalogue
from bot.ops.ports import free_port
from services import wait_http

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAYLOADS = Path(__file__).resolve().parent / "payloads"
SECRET = "e2e-app-secret"
PAGE = "1122334455"


class GraphApi:
    """A fake Send API: records the JSON bodies the bot posts to /me/messages."""

    def __init__(self) -> None:
        sent: List[Dict[str, Any]] = []
        self.sent = sent

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                sent.append(json.loads(body or b"{}"))
                data = b'{"recipient_id": "1", "message_id": "m_out"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts_to(self, psid: str) -> List[str]:
        return [b["message"].get("text", "") for b in self.sent if b["recipient"]["id"] == psid]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `gehoor train`")
    var_dir = tmp_path_factory.mktemp("var")
    (var_dir / "log").mkdir()
    graph = GraphApi()
    rasa_port, action_port = free_port(), free_port()
    env = dict(
        os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
        GEHOOR_VAR_DIR=str(var_dir), GEHOOR_DB_URL=f"sqlite:///{var_dir / 'gehoor.db'}",
        GEHOOR_TRACKER_DB=str(var_dir / "tracker.db"),
        GEHOOR_ACTION_URL=f"http://127.0.0.1:{action_port}/webhook",
        GEHOOR_MESSENGER_VERIFY_TOKEN="v", GEHOOR_MESSENGER_APP_SECRET=SECRET,
        GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN="PAGE_TOKEN", GEHOOR_MESSENGER_GRAPH_API_URL=graph.url,
        GEHOOR_STORY_WRITE_DELAY_MS="0",
    )
    specs = [
        ("action-server", [str(BIN / "python"), "-m", "bot.ops.action_server", "--actions", "actions",
                           "--port", str(action_port)], f"http://127.0.0.1:{action_port}/health"),
        ("rasa", [str(BIN / "rasa"), "run", "--model", str(models[-1]), "--port", str(rasa_port),
                  "--interface", "127.0.0.1", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
         f"http://127.0.0.1:{rasa_port}/webhooks/messenger/"),
    ]
    processes = []
    try:
        for name, argv, _ in specs:
            log = var_dir / "log" / f"{name}.log"
            processes.append((subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(log, "wb"),
                                               stderr=subprocess.STDOUT, start_new_session=True), log))
        for (process, log), (_, _, health) in zip(processes, specs):
            wait_http(health, process, log, timeout=240)
        yield {"url": f"http://127.0.0.1:{rasa_port}/webhooks/messenger/webhook", "graph": graph,
               "db_url": env["GEHOOR_DB_URL"], "tracker_db": var_dir / "tracker.db"}
    finally:
        for process, _ in processes:
            process.terminate()
        for process, _ in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        graph.server.shutdown()


def post(stack, body: dict) -> int:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    request = urllib.request.Request(stack["url"], data=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def as_from(name: str, psid: str, **message: Any) -> dict:
    """A fixture as sent now by ``psid``; ``message`` replaces fields of its message/edit."""
    body = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    now = int(time.time() * 1000)
    event = body["entry"][0]["messaging"][0]
    event.update(timestamp=now, sender={"id": psid})
    body["entry"][0]["time"] = now
    for key in ("message", "message_edit", "postback"):
        if key in event:
            event[key].update(message)
    return body


def text(psid: str, words: str) -> dict:
    body = as_from("messenger_messages_attachment_image.json", psid)
    body["entry"][0]["messaging"][0]["message"] = {"mid": f"m_{uuid.uuid4().hex}", "text": words}
    return body


def story(stack, psid: str):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from bot.store.models import Story

    engine = create_engine(stack["db_url"])
    try:
        with Session(engine) as session:
            found = session.query(Story).filter_by(conversation_id=f"messenger:{psid}").order_by(Story.id.desc()).first()
            assert found is not None
            found.transcript = [(m.role, m.text) for m in found.messages]
            session.expunge(found)
            return found
    finally:
        engine.dispose()


def tracker_user_events(stack, psid: str) -> List[dict]:
    import sqlite3

    with sqlite3.connect(stack["tracker_db"]) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (f"messenger:{psid}",)).fetchall()
    return [json.loads(row[0]) for row in rows]


def new_replies(graph: GraphApi, psid: str, before: int) -> List[str]:
    return graph.texts_to(psid)[before:]


def test_media_like_get_started_and_edit_in_a_real_conversation(stack):
    graph, psid = stack["graph"], str(7_000_000 + int(uuid.uuid4().int % 1_000_000))
    text_only = set(catalogue.variants("text_only", "nl"))

    assert post(stack, text(psid, "hoi")) == 200
    opening = graph.texts_to(psid)
    assert opening and "10" in opening[-1]

    # The like button at the score question: answered, recorded, no score.
    sent = len(graph.texts_to(psid))
    assert post(stack, as_from("messenger_messages_like_sticker.json", psid, mid=f"m_{uuid.uuid4().hex}")) == 200
    replies = new_replies(graph, psid, sent)
    assert replies and replies[0] in text_only, replies
    assert any("10" in r for r in replies[1:]), "the score question is asked again"

    sent = len(graph.texts_to(psid))
    score_mid = f"m_{uuid.uuid4().hex}"
    eight = text(psid, "6")
    eight["entry"][0]["messaging"][0]["message"]["mid"] = score_mid
    assert post(stack, eight) == 200
    assert new_replies(graph, psid, sent), "the reason question"

    # Two photos at the open question: each answered, neither is the answer.
    for _ in range(2):
        sent = len(graph.texts_to(psid))
        assert post(stack, as_from("messenger_messages_attachment_image.json", psid, mid=f"m_{uuid.uuid4().hex}")) == 200
        replies = new_replies(graph, psid, sent)
        assert replies and replies[0] in text_only, replies
        assert len(replies) >= 2, "the open question follows"

    # Get Started in the middle: the open question again, nothing stored as an answer.
    sent = len(graph.texts_to(psid))
    assert post(stack, as_from("messenger_messaging_postbacks_get_started.json", psid, mid=f"m_{uuid.uuid4().hex}")) == 200
    assert new_replies(graph, psid, sent), "the customer is reminded of the open question"

    # An edit of the score message: recorded with the original mid, not answered.
    sent = len(graph.texts_to(psid))
    assert post(stack, as_from("messenger_message_edits.json", psid, mid=score_mid, text="7")) == 200
    assert new_replies(graph, psid, sent) == []
    edits = [e for e in tracker_user_events(stack, psid) if (e.get("metadata") or {}).get("edit_of")]
    assert [(e["text"], e["metadata"]["edit_of"]) for e in edits] == [("7", score_mid)]

    sent = len(graph.texts_to(psid))
    assert post(stack, text(psid, "De bezorger was twee uur te laat en belde niet")) == 200
    assert new_replies(graph, psid, sent)

    deadline = time.monotonic() + 10
    while True:
        saved = story(stack, psid)
        if saved.answers.get("reason") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert saved.score == 6, "the like was no score"
    assert saved.answers.get("reason") == "De bezorger was twee uur te laat en belde niet"
    customer = [t for role, t in saved.transcript if role == "customer"]
    assert customer[0] == "hoi"
    assert customer[1] == '/nlu_fallback{"received": "like", "sticker_id": 369239263222822}'
    assert sum(t.startswith('/nlu_fallback{"received": "photo", "url": "https://scontent') for t in customer) == 2
    assert "✎ 7" in customer, "the edit is in the transcript, marked as an edit"
    assert saved.channel == "messenger"
