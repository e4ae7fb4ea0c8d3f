"""Webhook signatures, the scheme Stripe and Delighted use.

    Gehoor-Signature: t=1733320000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

v1 = hex(HMAC-SHA256(secret, f"{t}.{body}")). The timestamp is signed with the body, so a
captured request cannot be replayed later: receivers reject a `t` older than their tolerance.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Optional

HEADER = "Gehoor-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header_value(secret: str, body: bytes, timestamp: Optional[int] = None) -> str:
    t = int(time.time() if timestamp is None else timestamp)
    return f"t={t},v1={signature(secret, body, t)}"


def verify(header: str, body: bytes, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS,
           now: Optional[float] = None) -> bool:
    """True when `header` carries a v1 signature of `body` made with `secret` within `tolerance`
    seconds of `now`. A receiver in Python can use this as is."""
    try:
        parts = [p.split("=", 1) for p in header.split(",")]
        t = int(next(v for k, v in parts if k.strip() == "t"))
        candidates = [v.strip() for k, v in parts if k.strip() == "v1"]
    except (ValueError, StopIteration):
        return False
    now = time.time() if now is None else now
    if abs(now - t) > tolerance:
        return False
    expected = signature(secret, body, t)
    return any(hmac.compare_digest(expected, c) for c in candidates)
