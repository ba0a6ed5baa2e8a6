"""sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET that never block or raise.

The loop calls ``ready()`` once the microphone is open and the models are loaded, ``status()``
for what it is doing, ``watchdog()`` from the audio path while frames flow, ``stopping()`` on
shutdown and ``reloading()`` + ``ready()`` around a SIGHUP reload. Without $NOTIFY_SOCKET (not
started by systemd, or a test) every call is a cheap no-op.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Callable, Mapping

log = logging.getLogger(__name__)

_MAX_STATUS = 512  # systemd truncates long STATUS= lines anyway


def parse_socket_address(value: str | None) -> str | bytes | None:
    """$NOTIFY_SOCKET -> an AF_UNIX address: a path, or b'\\0name' for '@name' (abstract)."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock:… and relative paths are not supported; stay silent


def parse_watchdog_usec(env: Mapping[str, str], pid: int) -> float | None:
    """Watchdog timeout in seconds, if systemd asked *this* process for pings."""
    raw = env.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = env.get("WATCHDOG_PID")
    if owner:
        try:
            if int(owner) != pid:
                return None
        except ValueError:
            return None
    return usec / 1_000_000


def clean_status(text: str) -> str:
    """One line (a newline would start a new assignment), bounded length."""
    line = " ".join(str(text).split())
    return line[:_MAX_STATUS]


class Notifier:
    """Talks to the service manager; every method is safe to call from any thread."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        self.address = parse_socket_address(env.get("NOTIFY_SOCKET"))
        self.watchdog_timeout = parse_watchdog_usec(env, os.getpid()) if self.address else None
        self._clock = clock
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._last_ping: float | None = None
        self._last_status: str | None = None
        self._broken = False  # logged once, then quiet

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half the timeout), or None when no watchdog is set."""
        return None if self.watchdog_timeout is None else self.watchdog_timeout / 2

    # --- the messages ------------------------------------------------------------------------
    def ready(self) -> None:
        self.send("READY=1")

    def status(self, text: str) -> None:
        line = clean_status(text)
        with self._lock:
            if line == self._last_status:
                return
            self._last_status = line
        self.send(f"STATUS={line}")

    def watchdog(self) -> None:
        """Ping the watchdog; calls closer together than half the timeout are dropped."""
        interval = self.watchdog_interval()
        if interval is None:
            return
        now = self._clock()
        with self._lock:
            if self._last_ping is not None and now - self._last_ping < interval:
                return
            self._last_ping = now
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def reloading(self) -> None:
        """RELOADING=1 with the monotonic timestamp systemd (Type=notify-reload) expects."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send(f"RELOADING=1\nMONOTONIC_USEC={usec}")

    def extend_timeout(self, seconds: float) -> None:
        """Ask for more start/stop time (e.g. while a large model loads)."""
        self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    # --- transport ---------------------------------------------------------------------------
    def send(self, message: str) -> bool:
        """Send one datagram; False (never an exception) when it could not be delivered."""
        if self.address is None:
            return False
        try:
            with self._lock:
                if self._sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                    sock.setblocking(False)
                    self._sock = sock
                self._sock.sendto(message.encode("utf-8", "replace"), self.address)
            return True
        except OSError as exc:  # manager gone, queue full (EAGAIN), bad path: never the caller's problem
            if not self._broken:
                self._broken = True
                log.warning("sd_notify to %r failed: %s", self.address, exc)
            return False

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
