"""Playing int16 mono chunk streams: Speaker (sounddevice, imported lazily) and NullSpeaker.

``play`` blocks, starts on the first chunk and writes ~20 ms slices so ``stop()`` (from any
thread: the loop's barge-in) cuts the sound within a slice; it returns False when stopped.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

import numpy as np

from .resample import StreamResampler

log = logging.getLogger(__name__)
SLICE_S = 0.02  # write granularity: how fast stop() takes effect


def _device(device: str | int | None) -> str | int | None:
    if isinstance(device, str):
        device = device.strip()
        if not device:
            return None
        if device.isdigit():
            return int(device)
    return device


class NullSpeaker:
    """Consumes chunks and plays nothing (tests, headless runs); still stoppable."""

    audible = False

    def __init__(self, device: str | int | None = None):
        self._stop = threading.Event()
        self._playing = False
        self.played = 0  # chunks it was given (a count: a headless daemon must not keep every reply)

    @staticmethod
    def available() -> tuple[bool, str]:
        return True, "no sound (null speaker)"

    @property
    def is_playing(self) -> bool:
        return self._playing

    def play(self, chunks: Iterable[np.ndarray], sample_rate: int) -> bool:
        self._stop.clear()
        self._playing = True
        try:
            for _chunk in chunks:
                if self._stop.is_set():
                    return False
                self.played += 1
            return not self._stop.is_set()
        finally:
            self._playing = False

    def stop(self) -> None:
        self._stop.set()

    def add_tap(self, tap: Callable[[np.ndarray, int], None]) -> None:
        pass  # nothing is played


class Speaker:
    """Plays chunk streams on an output device (name substring, index, or None = default)."""

    audible = True

    def __init__(self, device: str | int | None = None):
        self.device = _device(device)
        self._stop = threading.Event()
        self._playing = False
        self._lock = threading.Lock()  # one play() at a time
        self._taps: list[Callable[[np.ndarray, int], None]] = []  # see add_tap
        self._rate = 0  # the open stream's rate (device rate)

    @staticmethod
    def available() -> tuple[bool, str]:
        """(True, device name) or (False, one sentence saying why nothing can be played)."""
        try:
            import sounddevice as sd
        except OSError:
            return False, "cannot play audio: PortAudio is not installed (apt install libportaudio2)"
        except ImportError:
            return False, "cannot play audio: the sounddevice package is not installed"
        try:
            info = sd.query_devices(kind="output")
        except Exception:
            return False, "cannot play audio: no audio output device found"
        if not info or int(info.get("max_output_channels", 0)) < 1:
            return False, "cannot play audio: no audio output device found"
        return True, str(info.get("name", "default output"))

    @property
    def is_playing(self) -> bool:
        return self._playing

    def add_tap(self, tap: Callable[[np.ndarray, int], None]) -> None:
        """``tap(samples, rate)`` gets every slice right after it was written to the device (int16
        mono at the device rate): the echo canceller's reference."""
        self._taps.append(tap)

    def use_device(self, device: str | int | None) -> None:
        """Play the next reply on ``device`` (a reload's ``audio.output_device``); taps stay."""
        self.device = _device(device)

    def stop(self) -> None:
        """Cut playback now (thread-safe); the running play() returns False."""
        self._stop.set()

    def _open(self, sd: Any, rate: int) -> tuple[Any, int, int]:
        """An OutputStream at ``rate`` if the device takes it, else at the device's own rate."""
        channels = 1
        try:
            sd.check_output_settings(device=self.device, samplerate=rate, channels=1, dtype="int16")
            device_rate = rate
        except Exception:
            info = sd.query_devices(self.device, kind="output")
            device_rate = int(info["default_samplerate"])
            try:
                sd.check_output_settings(device=self.device, samplerate=device_rate, channels=1, dtype="int16")
            except Exception:
                channels = 2
            log.debug("output device refuses %d Hz; resampling to %d Hz", rate, device_rate)
        stream = sd.OutputStream(device=self.device, samplerate=device_rate, channels=channels,
                                 dtype="int16", latency="low")
        return stream, device_rate, channels

    def play(self, chunks: Iterable[np.ndarray], sample_rate: int) -> bool:
        """Blocking: play the chunks as they arrive; False if stop() cut it short."""
        import sounddevice as sd

        with self._lock:
            self._stop.clear()
            stream = None
            resampler: StreamResampler | None = None
            channels = 1
            step = 0
            try:
                for chunk in chunks:
                    if self._stop.is_set():
                        return False
                    data = np.asarray(chunk, dtype=np.int16).reshape(-1)
                    if stream is None:  # opened on the first chunk
                        stream, device_rate, channels = self._open(sd, sample_rate)
                        resampler = StreamResampler(sample_rate, device_rate)
                        step = max(1, int(device_rate * SLICE_S))
                        self._rate = device_rate
                        stream.start()
                        self._playing = True
                    assert resampler is not None
                    if not self._write(stream, resampler.process(data), channels, step):
                        return False
                if stream is not None and resampler is not None and resampler.rate_in != resampler.rate_out:
                    if not self._write(stream, resampler.process(np.zeros(0, np.int16), last=True), channels, step):
                        return False
                return not self._stop.is_set()
            finally:
                self._playing = False
                if stream is not None:
                    try:
                        if self._stop.is_set():
                            stream.abort()
                        else:
                            stream.stop()  # lets the queued audio finish
                    finally:
                        stream.close()

    def _write(self, stream: Any, data: np.ndarray, channels: int, step: int) -> bool:
        for start in range(0, len(data), step):
            if self._stop.is_set():
                return False
            piece = data[start:start + step]
            stream.write(np.repeat(piece[:, None], channels, axis=1))  # (frames, channels)
            for tap in self._taps:
                tap(piece, self._rate)
        return True
