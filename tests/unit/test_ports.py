"""bot.ops.ports: test servers get ports outside the kernel's ephemeral range (CI flake: nginx lost its port)."""
import itertools
import socket

import pytest

from bot.ops import ports


def test_ports_come_from_below_the_ephemeral_range_and_are_never_repeated():
    low, _ = ports.ephemeral_range()
    picked = [ports.free_port() for _ in range(200)]
    assert all(ports.LOWEST <= port < low for port in picked)
    assert len(set(picked)) == len(picked)


def test_a_port_someone_listens_on_is_not_handed_out(monkeypatch):
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        # The busy port twice, then its neighbours (one of them may be taken by another test).
        draws = itertools.chain([busy, busy], itertools.count(busy + 1))
        monkeypatch.setattr(ports.random, "randint", lambda low, high: next(draws))
        monkeypatch.setattr(ports, "ephemeral_range", lambda: (65000, 65535))
        monkeypatch.setattr(ports, "LOWEST", 1024)
        port = ports.free_port()
    assert port != busy


def test_the_ephemeral_range_is_read_from_the_kernel_and_defaults_when_unreadable(tmp_path):
    setting = tmp_path / "ip_local_port_range"
    setting.write_text("40000\t50000\n")
    assert ports.ephemeral_range(setting) == (40000, 50000)
    assert ports.ephemeral_range(tmp_path / "missing") == (32768, 60999)
    setting.write_text("garbage")
    assert ports.ephemeral_range(setting) == (32768, 60999)


def test_no_free_port_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(ports, "_bindable", lambda port: False)
    with pytest.raises(RuntimeError, match="no free TCP port"):
        ports.free_port()
