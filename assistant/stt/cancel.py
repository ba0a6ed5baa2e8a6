"""Stopping a transcription that nobody will use (a speculative one whose utterance went on).

A CTranslate2 call cannot be interrupted, but a transcription is several of them (evidence,
encode, decode): ``checkpoint()`` between them raises ``Cancelled`` once the caller's event is
set, so a stale speculation gives the cores back within one stage instead of competing with the
turn that replaced it. The event travels in a context variable, so the engines' signatures
stay as they are: ``with cancellable(event): transcriber.transcribe(...)`` in the worker thread."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

_EVENT: ContextVar["threading.Event | Either | None"] = ContextVar("stt_cancel", default=None)


class Cancelled(Exception):
    """The transcription was abandoned between two stages."""


@contextmanager
def cancellable(event: threading.Event | Either) -> Iterator[None]:
    token = _EVENT.set(event)
    try:
        yield
    finally:
        _EVENT.reset(token)


def current() -> threading.Event | Either | None:
    """The caller's event (to hand on to work it starts in another thread: context variables
    do not cross into a pool's threads)."""
    return _EVENT.get()


class Either:
    """Set once any of its events is: a worker's own stop or its caller's (``cancellable`` takes it
    as an event)."""

    def __init__(self, *events: threading.Event | Either | None):
        self._events = tuple(e for e in events if e is not None)

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


def checkpoint() -> None:
    event = _EVENT.get()
    if event is not None and event.is_set():
        raise Cancelled()
