"""Acoustic echo cancellation: the assistant's own voice taken out of the microphone.

WebRTC's audio processing module (AEC3, via pywebrtc-audio, Apache-2.0; imported lazily) gets
each 10 ms of microphone audio with the 10 ms that the speaker played at the same time as its
reference. The reference is the exact stream written to the output device (``Speaker`` taps it
after every write, at the device rate; it is resampled here to 16 kHz) and is queued in the order
it was played; each microphone frame takes the next 30 ms of it (silence when nothing plays).
AEC3 finds and follows the remaining delay (the device buffers, the air) itself. Noise
suppression and automatic gain come from the same module (``[audio] noise_suppression``,
``auto_gain``).

``audio.echo_cancel``: "auto" = on when the input is a microphone and replies are played on a
speaker; "on" = whenever there is a microphone; "off" = never.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

import numpy as np

from ..errors import ConfigError
from .format import FRAME_SAMPLES, SAMPLE_RATE
from .resample import StreamResampler

if TYPE_CHECKING:
    from .speaker import Speaker

log = logging.getLogger(__name__)
MODES = ("auto", "on", "off")
_CHUNK = SAMPLE_RATE // 100  # the module works on 10 ms
_MAX_QUEUED = SAMPLE_RATE  # reference queued ahead of the microphone, at most 1 s (older is dropped)


def wanted(mode: str, *, microphone: bool, speaker: bool) -> bool:
    if mode not in MODES:
        raise ConfigError(f"audio.echo_cancel must be one of {', '.join(MODES)}, got {mode!r}")
    return microphone and (mode == "on" or (mode == "auto" and speaker))


class EchoCanceller:
    """``played`` (any thread) queues what the speaker played; ``process`` (the loop) cleans one
    microphone frame against it."""

    def __init__(self, *, noise_suppression: bool = False, auto_gain: bool = False):
        try:
            from pywebrtc_audio import AudioProcessor
        except ImportError:
            raise ConfigError("audio.echo_cancel needs pywebrtc-audio: pip install pywebrtc-audio") from None
        self._apm = AudioProcessor(SAMPLE_RATE, 1, echo_cancellation=True, noise_suppression=noise_suppression,
                                   auto_gain_control=auto_gain)
        self._far: deque[np.ndarray] = deque()
        self._queued = 0
        self._lock = threading.Lock()
        self._resamplers: dict[int, StreamResampler] = {}

    def played(self, pcm: np.ndarray, rate: int) -> None:
        """The speaker wrote ``pcm`` (int16 mono, at ``rate``) to the device."""
        if rate != SAMPLE_RATE:
            resampler = self._resamplers.get(rate)
            if resampler is None:
                resampler = self._resamplers[rate] = StreamResampler(rate, SAMPLE_RATE)
            pcm = resampler.process(np.asarray(pcm, np.int16))
        pcm = np.asarray(pcm, np.int16).reshape(-1)
        if not len(pcm):
            return
        with self._lock:
            self._far.append(pcm)
            self._queued += len(pcm)
            while self._queued - len(self._far[0]) >= _MAX_QUEUED:
                self._queued -= len(self._far.popleft())

    def _take(self, n: int) -> np.ndarray:
        out = np.zeros(n, np.int16)
        got = 0
        with self._lock:
            while got < n and self._far:
                head = self._far[0]
                k = min(n - got, len(head))
                out[got : got + k] = head[:k]
                got += k
                if k == len(head):
                    self._far.popleft()
                else:
                    self._far[0] = head[k:]
                self._queued -= k
        return out

    def process(self, frame: bytes) -> bytes:
        """One 30 ms microphone frame, with the echo of what was played taken out."""
        near = np.frombuffer(frame, np.int16)
        far = self._take(len(near))
        out = np.empty_like(near)
        for k in range(0, len(near), _CHUNK):
            out[k : k + _CHUNK] = self._apm.process(near[k : k + _CHUNK].copy(), far[k : k + _CHUNK].copy())
        return out.tobytes()


class EchoCancelledSource:
    """A frame source (``async frames()``) with the echo taken out of every frame."""

    def __init__(self, source: Any, canceller: EchoCanceller):
        self.source = source
        self.canceller = canceller

    async def frames(self) -> AsyncIterator[bytes]:
        process = self.canceller.process
        async for frame in self.source.frames():
            yield process(frame) if len(frame) == FRAME_SAMPLES * 2 else frame


def wrap_factory(factory: Callable[[], Any], cfg: Any, *, microphone: bool,
                 speaker: "Speaker | None") -> Callable[[], Any]:
    """``factory`` (makes the input source), wrapped so its frames are echo-cancelled against
    what ``speaker`` plays when ``cfg.audio.echo_cancel`` wants it; else ``factory`` itself."""
    plays = microphone and speaker is not None and speaker.audible
    if not wanted(cfg.audio.echo_cancel, microphone=microphone, speaker=plays):
        return factory
    try:
        canceller = EchoCanceller(noise_suppression=cfg.audio.noise_suppression, auto_gain=cfg.audio.auto_gain)
    except ConfigError as exc:
        if cfg.audio.echo_cancel == "on":
            raise
        log.warning("%s; the microphone is not echo-cancelled", exc)
        return factory
    if speaker is not None and plays:
        speaker.add_tap(canceller.played)
    return lambda: EchoCancelledSource(factory(), canceller)
