"""Frozen events passed between pipeline stages."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began at ``start`` seconds of stream time."""

    start: float


@dataclass(frozen=True, eq=False)
class Utterance:
    """One cut of speech. ``start``/``end`` are the detected speech edges (stream seconds);
    ``audio`` (int16 mono) includes the pre-roll before and the padding after them and begins
    at ``audio_start`` seconds."""

    start: float
    end: float
    audio: np.ndarray
    sample_rate: int
    audio_start: float = 0.0

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, eq=False)
class SpeechPaused:
    """Speech paused (the hangover has begun): ``utterance`` is what would be cut if it does not
    resume. A live loop may start transcribing it; the final ``Utterance`` with the same edges
    confirms it."""

    utterance: Utterance


@dataclass(frozen=True)
class Reply:
    """Something to say aloud, in ``language`` ("en" | "ko"). ``turn`` links it to its turn id."""

    text: str
    language: str = "en"
    turn: int | None = None
    kind: str = "reply"  # reply | ack | announce | translation | error


# --------------------------------------------------------------------------- turn events
# What every face (console, history, turns.jsonl, sd_notify, `run --events`, the Wyoming server,
# the web page) watches: a turn's life as typed events, emitted by the loop in order.
from enum import Enum  # noqa: E402
from typing import Any, Mapping  # noqa: E402


class EventType(str, Enum):
    """Turn event types; the value is the JSON name."""

    STATE = "state"  # data: state = listening | hearing | thinking | speaking (session-wide, turn None)
    LEVEL = "level"  # data: db (input level, a few times a second; not written to history)
    HEARD = "heard"  # an utterance was cut: start, end (stream s), duration
    TRANSCRIBED = "transcribed"  # text, language
    IGNORED = "ignored"  # reason
    ROUTED = "routed"  # intent, slots, language
    REPLY_STARTED = "reply.started"  # text, language, kind
    REPLY_AUDIO = "reply.audio"  # sample_rate, samples; the int16 array rides in ``audio`` (not JSON)
    REPLY_FINISHED = "reply.finished"  # text, spoken (bool), reason when not spoken
    IMAGE_QUEUED = "image.queued"  # kind (draw|edit|variation), prompt
    IMAGE_PROGRESS = "image.progress"  # step, of (partial images) or message
    IMAGE_SAVED = "image.saved"  # path, id, prompt, model, size
    IMAGE_FAILED = "image.failed"  # reason
    TURN_FINISHED = "turn.finished"  # result (done|failed|ignored), reason, the history record
    NOTICE = "notice"  # something said once outside a turn (fallback to local, disk full, overflow)


@dataclass(frozen=True)
class TurnEvent:
    """One thing that happened to a turn (``turn`` None: session-wide). ``time`` is monotonic
    seconds; ``session`` names where the turn came from ("local", a satellite's name, "web")."""

    type: EventType
    turn: int | None
    time: float
    data: Mapping[str, Any]
    session: str = "local"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: numpy arrays and bytes are left out (``reply.audio`` keeps its
        sample count)."""
        data = {k: v for k, v in self.data.items() if not isinstance(v, (np.ndarray, bytes, bytearray, memoryview))}
        return {"type": self.type.value, "turn": self.turn, "time": round(self.time, 4),
                "session": self.session, "data": data}
