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


@dataclass(frozen=True)
class Reply:
    """Something to say aloud, in ``language`` ("en" | "ko"). ``turn`` links it to its turn id."""

    text: str
    language: str = "en"
    turn: int | None = None
    kind: str = "reply"  # reply | ack | announce | translation | error
