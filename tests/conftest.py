"""Shared test setup: no network, no real API key, isolated XDG dirs."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own XDG dirs and no OpenAI key unless it sets one."""
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_CONFIG", "CREDENTIALS_DIRECTORY",
                "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        monkeypatch.delenv(var, raising=False)


_LOOPBACK = ("127.", "::1", "localhost", "0:0:0:0:0:0:0:1")


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths, abstract sockets
        return True
    host = str(address[0])
    return host.startswith(_LOOPBACK) or host in ("", "::ffff:127.0.0.1")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """No test reaches the internet (or the real OpenAI API): a connection to anything but
    loopback fails at once, as on an offline machine, and the test sees a plain OSError."""
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        if not _is_local(address):
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _is_local(address):
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
