"""Noise-floor tracking: a frame only counts as speech when it stands above the room's floor.

webrtcvad alone calls steady noise (fan, hiss, hum, a cheap mic's floor) speech and so merges
sentences; the floor lets the segmenter see the pauses. Pure, per-frame, a few float operations.
"""
from __future__ import annotations

import math

import numpy as np

_EPS = 1e-3  # energy of digital silence (avoids log(0)); about -90 dBFS for int16


def frame_db(frame: bytes) -> float:
    """Mean energy of an int16 frame in dB (0 dB = one LSB squared)."""
    x = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    return 10.0 * math.log10(float(np.dot(x, x)) / len(x) + _EPS)


class NoiseFloor:
    """Tracks the background level in dB: falls fast to quieter frames, rises slowly otherwise.

    ``rise_db_s`` is how fast the floor climbs during non-speech (a fan turned on), much slower
    during speech so a long sentence does not lift it to its own level.
    """

    def __init__(self, frame_s: float = 0.03, *, fall: float = 0.3, rise_db_s: float = 4.0,
                 speech_rise_db_s: float = 0.5, warmup_frames: int = 10):
        self.level: float | None = None
        self._fall = fall
        self._rise = rise_db_s * frame_s
        self._speech_rise = speech_rise_db_s * frame_s
        self._warmup = warmup_frames

    def update(self, db: float, speech: bool) -> float:
        level = self.level
        if level is None:
            level = db
        elif db < level:
            level += self._fall * (db - level)
        elif self._warmup > 0:
            level += 0.3 * (db - level)  # first frames: settle on the room quickly
        else:
            level += min(db - level, self._speech_rise if speech else self._rise)
        if self._warmup > 0:
            self._warmup -= 1
        self.level = level
        return level
