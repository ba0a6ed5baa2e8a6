"""One owner per turn: the ledger holds each open turn's outstanding work and its result.

A turn is opened when its input arrives (an utterance, typed text). While it is handled it holds
one piece of work (the handler); every reply it queues and every background job it starts holds
one more. When the last piece is released the turn finishes: its result is settled (``pending``
becomes ``done``) and ``on_finished`` is called once, which the loop turns into the
``turn.finished`` event that the history, ``turns.jsonl`` and the faces listen to.

Pure apart from asyncio futures (for the tickets): no I/O, no clock of its own.
"""
from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from .events import EventType, Reply, TurnEvent
from .history import Turn

MAX_TURNS_KEPT = 2000  # finished turns kept in memory (the daemon runs for months)


class Result(str, Enum):
    """How a turn ended; the value is the JSON name in the history."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    IGNORED = "ignored"

    def __str__(self) -> str:
        return self.value


# Timing marks (history.STAGES) taken from the event stream: the first event of a type marks it.
_MARKS = {EventType.HEARD: "emitted", EventType.TRANSCRIBED: "transcribed", EventType.ROUTED: "routed",
          EventType.REPLY_AUDIO: "first_audio"}


class TurnTicket:
    """What a face gets back for its input: the turn id, its replies, its history record."""

    def __init__(self, turn_id: int, replied: asyncio.Future, finished: asyncio.Future):
        self.id = turn_id
        self._replied = replied
        self._finished = finished

    async def replied(self) -> list[Reply]:
        """The turn's immediate replies, once they have been spoken (or emitted as audio);
        background-job announcements come later (see ``finished``). Empty when ignored."""
        return list(await asyncio.shield(self._replied))

    async def finished(self) -> dict[str, Any]:
        """The turn's history record, once every reply and job of the turn is done."""
        return await asyncio.shield(self._finished)


@dataclass
class _Open:
    turn: Turn
    session: str
    replied: asyncio.Future
    finished: asyncio.Future
    work: int = 1  # the handler itself, until ``settle``
    settled: bool = False
    immediate: list[Reply] = field(default_factory=list)
    immediate_left: int = 0


class TurnLedger:
    def __init__(self, on_finished: Callable[[Turn, str, dict[str, Any]], None], *, wall_clock: Callable[[], float]):
        self._on_finished = on_finished
        self._wall_clock = wall_clock
        self._open: dict[int, _Open] = {}
        self.turns: deque[Turn] = deque(maxlen=MAX_TURNS_KEPT)  # every turn, in the order opened
        self._next_id = 1

    # --------------------------------------------------------------- lifecycle
    def open(self, start: float = 0.0, end: float = 0.0, hangover: float = 0.0, *, session: str = "local") -> TurnTicket:
        turn = Turn(self._next_id, start, end, hangover)
        self._next_id += 1
        loop = asyncio.get_running_loop()
        entry = _Open(turn, session, loop.create_future(), loop.create_future())
        self._open[turn.id] = entry
        self.turns.append(turn)
        return TurnTicket(turn.id, entry.replied, entry.finished)

    def get(self, turn_id: int | None) -> Turn | None:
        entry = self._open.get(turn_id) if turn_id is not None else None
        return entry.turn if entry is not None else None

    def session_of(self, turn_id: int | None) -> str | None:
        entry = self._open.get(turn_id) if turn_id is not None else None
        return entry.session if entry is not None else None

    @property
    def open_ids(self) -> list[int]:
        return list(self._open)

    def fail(self, turn_id: int, reason: str) -> None:
        """Record a failure (the first reason wins); the turn still finishes when its work is done."""
        turn = self.get(turn_id)
        if turn is not None and turn.result in (Result.PENDING, Result.DONE):
            turn.result, turn.reason = Result.FAILED, reason

    def note(self, turn_id: int, reason: str) -> None:
        """A reason kept with a successful turn (for example ``barge-in``)."""
        turn = self.get(turn_id)
        if turn is not None and not turn.reason:
            turn.reason = reason

    def ignore(self, turn_id: int, reason: str) -> None:
        """An input that is not a command: the turn ends now."""
        turn = self.get(turn_id)
        if turn is not None:
            turn.result, turn.reason = Result.IGNORED, reason
            self.settle(turn_id)

    # -------------------------------------------------------- outstanding work
    def hold(self, turn_id: int | None) -> None:
        """One more piece of work (a background job) belongs to the turn."""
        entry = self._open.get(turn_id) if turn_id is not None else None
        if entry is not None:
            entry.work += 1

    def release(self, turn_id: int | None) -> None:
        entry = self._open.get(turn_id) if turn_id is not None else None
        if entry is None:
            return
        entry.work -= 1
        if entry.work <= 0:
            self._finish(entry)

    def reply_queued(self, turn_id: int | None, reply: Reply) -> bool:
        """A reply of the turn was queued; True if it is an immediate one (said while handling)."""
        entry = self._open.get(turn_id) if turn_id is not None else None
        if entry is None:
            return False
        entry.work += 1
        entry.turn.replies.append(reply.text)
        if entry.settled:
            return False
        entry.immediate.append(reply)
        entry.immediate_left += 1
        return True

    def reply_done(self, turn_id: int | None, immediate: bool) -> None:
        entry = self._open.get(turn_id) if turn_id is not None else None
        if entry is None:
            return
        if immediate:
            entry.immediate_left -= 1
            self._maybe_replied(entry)
        self.release(turn_id)

    def settle(self, turn_id: int) -> None:
        """The handler is done: its immediate replies are known; the handler's hold is released."""
        entry = self._open.get(turn_id)
        if entry is None or entry.settled:
            return
        entry.settled = True
        self._maybe_replied(entry)
        self.release(turn_id)

    def close_all(self, reason: str) -> None:
        """Shutting down: every open turn fails with ``reason`` and finishes now."""
        for entry in list(self._open.values()):
            if entry.turn.result in (Result.PENDING, Result.DONE):
                entry.turn.result, entry.turn.reason = Result.FAILED, reason
            self._finish(entry)

    # ----------------------------------------------------------------- timings
    def observe(self, event: TurnEvent) -> None:
        """Listener: the record's text, intent and stage timings come from the turn's events."""
        turn = self.get(event.turn)
        if turn is None:
            return
        mark = _MARKS.get(event.type)
        if mark:
            turn.mark(mark, event.time)
        if event.type is EventType.TRANSCRIBED:
            turn.text, turn.language = event.data.get("text", ""), event.data.get("language", "")
        elif event.type is EventType.ROUTED:
            turn.intent, turn.slots = str(event.data.get("intent", "")), dict(event.data.get("slots", {}))

    def annotate(self, turn_id: int, slots: dict[str, Any]) -> None:
        """Extra slots a skill reported (a translation and its source language)."""
        turn = self.get(turn_id)
        if turn is not None:
            turn.slots.update(slots)

    # ---------------------------------------------------------------- internal
    def _maybe_replied(self, entry: _Open) -> None:
        if entry.settled and entry.immediate_left <= 0 and not entry.replied.done():
            entry.replied.set_result(tuple(entry.immediate))

    def _finish(self, entry: _Open) -> None:
        if self._open.pop(entry.turn.id, None) is None:
            return
        turn = entry.turn
        if turn.result == Result.PENDING:
            turn.result = Result.DONE
        turn.result = Result(turn.result)
        record = turn.record(self._wall_clock())
        if entry.session != "local":
            record["session"] = entry.session  # a satellite's or the web page's turn
        if not entry.replied.done():
            entry.replied.set_result(tuple(entry.immediate))
        if not entry.finished.done():
            entry.finished.set_result(record)
        self._on_finished(turn, entry.session, record)
