"""Resident memory of the long-running process (issue 17: idle RSS <= 350 MB, every local model warm).

Measured on ``assistant run`` with the local engines (bench/soak.py --idle; README "Reliability"):
- ``limit_arenas``: glibc gives every thread that allocates its own 64 MB malloc arena, and the
  models load and run in worker threads; one arena saves ~16 MB warm and ~40 MB after turns, with
  no measurable cost in speed (the work is in numeric kernels, not in malloc).
- ``release`` after warm-up and ``TrimWhenIdle`` after turns: the freed scratch buffers of the
  encoders and the voice stay mapped otherwise (~100 MB after a few turns).
- ``defer_import("av")``: PyAV (~23 MB) is imported by faster-whisper but never used here.
- ``limit_primitive_cache``: oneDNN (CTranslate2's CPU kernels) keeps one compiled convolution per
  encoder input length it has seen, with its scratch memory; the language-evidence pass has a new
  length (whole seconds, up to 30) for many utterances, so idle RSS climbed ~2 MB per new length.
- ``unpacked_gemm``: on Intel CPUs CTranslate2 runs its int8 matrix products on Intel MKL, which keeps
  a second, packed copy of every weight matrix (+71 MB idle RSS with tiny.en and base, measured on a
  Xeon); oneDNN, its kernels on every other CPU, is as fast here (within 2-3 %) and keeps none.
All of it is a no-op where glibc is not the C library.
"""
from __future__ import annotations

import asyncio
import ctypes
import importlib.util
import os
import sys
import types
from functools import lru_cache
from typing import Any, Callable

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
ARENAS = 1


@lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018  (glibc only)
        return libc
    except (OSError, AttributeError):
        return None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """One malloc arena for the whole process (call before any thread starts); an explicit
    ``MALLOC_ARENA_MAX`` in the environment wins. True when applied."""
    libc = _libc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


ONEDNN_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"


def limit_primitive_cache() -> None:
    """No oneDNN primitive cache (its default keeps 1024). Measured on the base model: ~1.7 MB of
    idle RSS stays per encoder length seen (30 lengths: +59 MB, flat without the cache); the cost
    is rebuilding the encoder's two convolutions per pass, ~1.5 ms of CPU next to 0.1-3 s of
    encoding. oneDNN reads the variable when the first primitive is made, so this runs before a
    Whisper model is loaded; an explicit value in the environment wins."""
    os.environ.setdefault(ONEDNN_CACHE_ENV, "0")


MKL_ENV = "CT2_USE_MKL"


def unpacked_gemm() -> None:
    """CTranslate2 without Intel MKL (see the module docstring). CTranslate2 reads the variable once,
    when its library loads, so this runs before ``ctranslate2`` is imported (``assistant.stt``); an
    explicit value in the environment wins. A no-op on AMD and ARM, where MKL is off already."""
    os.environ.setdefault(MKL_ENV, "0")


def release() -> None:
    """Give the heap's free pages back to the system: after a model warm-up its scratch buffers
    stay mapped otherwise (~90 MB of idle RSS)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


class TrimWhenIdle:
    """A turn-event listener for the daemon: once no session has been thinking or speaking for
    ``delay_s``, the heap's free pages go back to the system (``malloc_trim`` in a worker thread,
    ~30 ms). A turn leaves ~100 MB of freed encoder and synthesis buffers in the heap otherwise,
    and idle RSS climbs from 354 to ~450 MB after a few turns (measured, bench/soak.py --idle)."""

    # "hearing" too: nothing heavy runs while an utterance is being heard
    IDLE = ("listening", "hearing")

    def __init__(self, delay_s: float = 2.0, release_fn: Callable[[], None] | None = None):
        self.delay_s = delay_s
        self._release = release_fn  # None: this module's release() at the time of the trim
        self._busy: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def __call__(self, event: Any) -> None:
        if getattr(event.type, "value", event.type) != "state":
            return
        if event.data.get("state") in self.IDLE:
            self._busy.discard(event.session)
        else:
            self._busy.add(event.session)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._busy:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._timer = loop.call_later(self.delay_s, self._trim, loop)

    def _trim(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        try:
            loop.run_in_executor(None, self._release or release)
        except RuntimeError:  # the loop is closing
            pass


def status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS, VmHWM (peak), RssAnon and RssFile of a process in MB, from /proc ({} elsewhere)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out


def defer_import(name: str) -> None:
    """Let ``name`` be imported for real only when one of its attributes is first used.
    faster-whisper imports PyAV at its top for ``decode_audio``, which the assistant never calls
    (it reads audio with soundfile): ~23 MB of idle RSS for nothing. ``importlib.util.LazyLoader``
    does not help on Python 3.11 (``import av`` reads ``av.__spec__``, which loads it), so a
    stand-in module with a module ``__getattr__`` (PEP 562) takes its place until then."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    stand_in = types.ModuleType(name, f"{name}, imported on first use (assistant.memory.defer_import)")
    stand_in.__spec__ = spec

    def load(attr: str) -> Any:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)

    stand_in.__getattr__ = load  # type: ignore[method-assign]
    sys.modules[name] = stand_in
