"""Listeners of the turn-event stream: the console, the history files, sd_notify status and
``run --events``. Each is a plain callable taking a ``TurnEvent``; none blocks or raises, and
none reaches into the loop.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from typing import IO, Any, Callable

from .events import EventType, TurnEvent
from .history import HistoryWriter

log = logging.getLogger(__name__)


class ConsoleListener:
    """The live transcript: what was heard, ignored (with the reason), said and drawn."""

    def __init__(self, echo: Callable[[str], None]):
        self.echo = echo

    def __call__(self, event: TurnEvent) -> None:
        line = self.line(event)
        if line is not None:
            self.echo(line if event.session == "local" else f"[{event.session}] {line}")

    @staticmethod
    def line(event: TurnEvent) -> str | None:
        d = event.data
        if event.type is EventType.TRANSCRIBED and d.get("text"):
            return f"you: {d['text']}"
        if event.type is EventType.IGNORED:
            return f"(ignored: {d.get('reason', '')})"
        if event.type is EventType.REPLY_STARTED:
            return f"assistant: {d.get('text', '')}"
        if event.type is EventType.IMAGE_PROGRESS:
            return f"[image] {d['path']}" if d.get("path") else f"[image] {d.get('message', '')}…"
        if event.type is EventType.IMAGE_SAVED:
            return f"[image] saved {d.get('path')} ({d.get('seconds', 0):.1f} s)"
        if event.type is EventType.IMAGE_FAILED:
            return f"[image] failed: {d.get('reason', '')}"
        if event.type is EventType.NOTICE and d.get("log"):
            return f"notice: {d['log']}"
        return None


class HistoryListener:
    """Writes each finished turn's record (history.jsonl, turns.jsonl) in spoken order: a turn
    that finishes early (an edit) waits for an earlier one still drawing. A failing write never
    reaches the loop: ``on_error`` is told (the loop says "disk full" once)."""

    def __init__(self, writer: Any, on_error: Callable[[BaseException], None] = lambda _e: None,
                 oldest_open: Callable[[], int | None] = lambda: None):
        self.writer = writer
        self.on_error = on_error
        self.oldest_open = oldest_open
        self._held: dict[int, dict[str, Any]] = {}
        if isinstance(writer, HistoryWriter) and writer.on_error is None:
            writer.on_error = on_error  # it never raises: it keeps the turns and reports once per episode

    def __call__(self, event: TurnEvent) -> None:
        if event.type is not EventType.TURN_FINISHED or event.turn is None:
            return
        self._held[event.turn] = dict(event.data["record"])
        first_open = self.oldest_open()
        for turn in sorted(self._held):
            if first_open is not None and turn > first_open:
                break
            self._write(self._held.pop(turn))

    def _write(self, record: dict[str, Any]) -> None:
        try:
            self.writer.write(record)
        except Exception as exc:  # OSError (disk full, read-only), or anything else: keep answering
            log.warning("could not write the history: %s", exc)
            self.on_error(exc)


class StatusListener:
    """sd_notify STATUS= from the local session's state and the image jobs."""

    def __init__(self, status: Callable[[str], None]):
        self.status = status
        self._drawing = 0

    def __call__(self, event: TurnEvent) -> None:
        if event.type is EventType.STATE and event.session == "local" and not self._drawing:
            self.status(str(event.data.get("state", "")))
        elif event.type is EventType.IMAGE_PROGRESS and not event.data.get("path"):
            self._drawing += 1
            self.status(f"drawing: {event.data.get('message', '')[:40]}")
        elif event.type in (EventType.IMAGE_SAVED, EventType.IMAGE_FAILED) and self._drawing:
            self._drawing -= 1
            if not self._drawing:
                self.status("listening")


class JsonLinesListener:
    """``run --events``: one JSON object per event, flushed as it happens. A failing stream is
    reported once and then left alone."""

    def __init__(self, stream: IO[str], *, levels: bool = True):
        self.stream = stream
        self.levels = levels
        self._lock = threading.Lock()
        self._broken = False

    def __call__(self, event: TurnEvent) -> None:
        if self._broken or (event.type is EventType.LEVEL and not self.levels):
            return
        try:
            line = json.dumps(event.to_json(), ensure_ascii=False, default=str)
            with self._lock:
                self.stream.write(line + "\n")
                self.stream.flush()
        except (OSError, ValueError) as exc:
            self._broken = True
            log.warning("could not write events: %s", exc)


class PipeLines:
    """A text stream onto a FIFO or a device that never blocks the event loop: the descriptor is
    non-blocking, what the reader has not taken yet waits here (at most ``limit`` bytes; past
    that whole pending lines are dropped and that is said once). A reader gone is an OSError
    (EPIPE) for the listener to report once."""

    def __init__(self, fd: int, name: str, limit: int = 1 << 20):
        os.set_blocking(fd, False)
        self.fd, self.name, self.limit = fd, name, limit
        self._pending = bytearray()
        self._said_dropping = False

    def write(self, text: str) -> int:
        self._pending += text.encode("utf-8")
        if len(self._pending) > self.limit:
            cut = self._pending.rfind(b"\n", 0, len(self._pending) - self.limit) + 1
            del self._pending[:cut or len(self._pending)]
            if not self._said_dropping:
                log.warning("events: the reader of %s is not keeping up; older events are dropped", self.name)
                self._said_dropping = True
        return len(text)

    def flush(self) -> None:
        while self._pending:
            try:
                n = os.write(self.fd, self._pending)
            except BlockingIOError:
                return  # the pipe is full: the rest goes with the next event
            del self._pending[:n]
        self._said_dropping = False

    def close(self, drain_s: float = 2.0) -> None:
        """What the reader has not taken yet gets up to ``drain_s`` more, then the fd is closed."""
        import select
        import time

        deadline = time.monotonic() + drain_s
        with contextlib.suppress(OSError, ValueError):
            self.flush()
            while self._pending and (left := deadline - time.monotonic()) > 0:
                if select.select([], [self.fd], [], left)[1]:
                    self.flush()
        with contextlib.suppress(OSError):
            os.close(self.fd)
