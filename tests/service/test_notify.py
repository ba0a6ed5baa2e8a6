"""sd_notify against a real AF_UNIX datagram socket."""
from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest

from assistant.service.notify import Notifier, clean_status, parse_socket_address, parse_watchdog_usec


@pytest.fixture
def manager(tmp_path):
    """A fake service manager: a bound datagram socket; yields (socket, path)."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(1.0)
    yield sock, path
    sock.close()


def _drain(sock: socket.socket) -> list[str]:
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(1.0)
    return out


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_noop_without_socket():
    n = Notifier({})
    assert not n.enabled
    assert n.watchdog_interval() is None
    n.ready(); n.status("x"); n.watchdog(); n.stopping(); n.reloading()
    assert n.send("READY=1") is False


def test_messages_arrive(manager):
    sock, path = manager
    n = Notifier({"NOTIFY_SOCKET": path})
    n.ready()
    n.status("drawing: red fox\nREADY=1")  # a newline must not smuggle another assignment
    n.stopping()
    n.extend_timeout(2.5)
    got = _drain(sock)
    assert got == ["READY=1", "STATUS=drawing: red fox READY=1", "STOPPING=1", "EXTEND_TIMEOUT_USEC=2500000"]


def test_status_deduplicated(manager):
    sock, path = manager
    n = Notifier({"NOTIFY_SOCKET": path})
    for _ in range(3):
        n.status("listening")
    n.status("microphone lost, retrying")
    n.status("listening")
    assert _drain(sock) == ["STATUS=listening", "STATUS=microphone lost, retrying", "STATUS=listening"]


def test_reloading_has_monotonic_usec(manager):
    sock, path = manager
    n = Notifier({"NOTIFY_SOCKET": path})
    before = __import__("time").clock_gettime_ns(__import__("time").CLOCK_MONOTONIC) // 1000
    n.reloading()
    (msg,) = _drain(sock)
    lines = msg.split("\n")
    assert lines[0] == "RELOADING=1"
    key, value = lines[1].split("=")
    assert key == "MONOTONIC_USEC" and int(value) >= before


def test_watchdog_rate_limited_to_half_the_timeout(manager):
    sock, path = manager
    clock = Clock()
    n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, clock=clock)
    assert n.watchdog_interval() == 15.0
    n.watchdog()           # first ping goes out
    clock.now += 5
    n.watchdog()           # too soon
    clock.now += 9.9
    n.watchdog()           # 14.9 s: still too soon
    clock.now += 0.2
    n.watchdog()           # 15.1 s: due
    assert _drain(sock) == ["WATCHDOG=1", "WATCHDOG=1"]


def test_watchdog_for_another_pid_is_ignored(manager):
    _, path = manager
    n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert n.watchdog_interval() is None


def test_abstract_namespace_socket():
    name = f"assistant-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(1.0)
    try:
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_never_raises_when_manager_is_gone(tmp_path, caplog):
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "missing.sock"), "WATCHDOG_USEC": "1000"})
    n.ready(); n.status("x"); n.watchdog(); n.stopping(); n.reloading()
    assert n.send("READY=1") is False
    assert sum("sd_notify" in r.message for r in caplog.records) == 1  # logged once, not per call


def test_does_not_block_when_queue_is_full(manager):
    sock, path = manager
    n = Notifier({"NOTIFY_SOCKET": path})
    results = []

    def flood():
        for _ in range(5000):  # nobody reads: the receive queue fills up
            results.append(n.send("STATUS=" + "x" * 400))

    t = threading.Thread(target=flood)
    t.start()
    t.join(5)
    assert not t.is_alive(), "send() blocked on a full socket"
    assert results[0] is True and results[-1] is False


def test_parsers():
    assert parse_socket_address("@x") == b"\0x"
    assert parse_socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert parse_socket_address("") is None and parse_socket_address("relative") is None
    assert parse_watchdog_usec({"WATCHDOG_USEC": "2000000"}, 1) == 2.0
    assert parse_watchdog_usec({"WATCHDOG_USEC": "nope"}, 1) is None
    assert parse_watchdog_usec({"WATCHDOG_USEC": "0"}, 1) is None
    assert clean_status("a\r\nb  c") == "a b c"
    assert len(clean_status("y" * 5000)) == 512


def test_default_reads_environment(monkeypatch, manager):
    sock, path = manager
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    Notifier().ready()
    assert sock.recv(100) == b"READY=1"
