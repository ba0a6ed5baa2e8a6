"""Timing the 2 s SIGTERM promise on a shared machine.

The daemon is signalled in the same instant as a reference: an idle Python process whose handler
exits at once. On a quiet machine the reference takes milliseconds; under a load of 15 on 2 cores
every process waits for the CPU, and the reference's time is that wait. The daemon's exit needs
at most ``WAKE_UPS`` such waits (its loop for the signal, the exit timer, the exit itself), so the
promise checked is ``elapsed <= 2 s + WAKE_UPS * reference``: exactly 2 s (plus milliseconds) when
the machine is quiet, and a failure whenever the daemon itself is slow."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass

PROMISE_S = 2.0
WAKE_UPS = 3

_REFERENCE = ("import os, signal, sys\n"
              "signal.signal(signal.SIGTERM, lambda *_: os._exit(0))\n"
              "signal.signal(signal.SIGINT, lambda *_: os._exit(0))\n"
              "sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
              "while True: signal.pause()\n")


@dataclass(frozen=True)
class Stop:
    elapsed: float    # signal sent -> daemon reaped
    reference: float  # signal sent -> idle reference reaped (the machine's own delay)

    @property
    def limit(self) -> float:
        return PROMISE_S + WAKE_UPS * self.reference

    def __str__(self) -> str:
        return f"{self.elapsed:.2f} s to stop (limit {self.limit:.2f} s: the idle reference took {self.reference:.3f} s)"


class StopClock:
    """Start before the moment to measure (the reference must be up); ``stop(proc)`` signals both."""

    def __init__(self) -> None:
        self.reference = subprocess.Popen([sys.executable, "-c", _REFERENCE], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE)
        assert self.reference.stdout.readline() == b"ready\n"

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> Stop:
        t0 = time.monotonic()
        proc.send_signal(sig)
        self.reference.send_signal(sig)
        self.reference.wait(timeout)
        reference = time.monotonic() - t0
        proc.wait(timeout)
        return Stop(time.monotonic() - t0, reference)

    def close(self) -> None:
        if self.reference.poll() is None:
            self.reference.kill()
            self.reference.wait()

    def __enter__(self) -> "StopClock":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
