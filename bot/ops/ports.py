"""Free TCP ports for the servers a test, benchmark or load run starts.

`bind(0)` hands out a port from the kernel's *ephemeral* range, the same range every
outgoing connection (to PostgreSQL, Redis, RabbitMQ, one service to another) takes its
local port from. Between picking such a port and the server binding it, an outgoing
connection can take it: CI saw nginx die with "Address already in use" that way. So the
ports here come from below the ephemeral range, chosen at random (parallel runs rarely
meet) and never twice in one process.
"""
from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Set, Tuple

LOWEST = 10_000  # far above the well-known ports and the usual fixed service ports
_handed_out: Set[int] = set()


def ephemeral_range(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> Tuple[int, int]:
    try:
        low, high = (int(part) for part in path.read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port no one listens on, outside the ephemeral range, not handed out before here."""
    low = LOWEST
    high = ephemeral_range()[0] - 1
    if high - low < 1000:  # an unusual kernel setting: fall back to the kernel's choice
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    for _ in range(1000):
        port = random.randint(low, high)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free TCP port found between {low} and {high}")
