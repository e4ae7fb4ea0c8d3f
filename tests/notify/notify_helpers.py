"""What the notification tests share besides fixtures: the webhook secret, the receiver's own
signature check (written from docs/notifications.md, not bot.notify.signing), an HTTP
receiver, the SMTP mailbox handler and an injectable clock. A module of its own (not
conftest) so that `from notify_helpers import ...` is unambiguous when several test folders
with a conftest.py are collected together."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "whsec_test_3f1c9a"


def receiver_verifies(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """The receiver's own check, written from the documented scheme (docs/notifications.md)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    t = int(fields["t"])
    if abs(time.time() - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


class Receiver:
    """An HTTP endpoint answering from a script of status codes (then 200)."""

    def __init__(self, secret=None, script=(), slack=False, delay=0.0):
        self.secret, self.script, self.slack, self.delay = secret, list(script), slack, delay
        self.requests: list = []  # every request: dict(headers, body, json, verified, status)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                verified = None
                if receiver.secret is not None:
                    header = self.headers.get("Gehoor-Signature", "")
                    verified = bool(header) and receiver_verifies(header, body, receiver.secret)
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    if verified is False:
                        status = 400
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "json": json.loads(body), "verified": verified, "status": status})
                answer = b"ok" if receiver.slack and status == 200 else b"{}"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ok(self):
        return [r for r in self.requests if r["status"] == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def __init__(self):
        self.messages: list = []


class Clock:
    """An injectable clock: tests move it instead of sleeping."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        from datetime import timedelta

        self.now += timedelta(**delta)
