"""Audio between Wyoming events and our engines: 16 kHz mono int16 in, int16 chunks out."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable, Iterable, TypeVar

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter

from ...audio.format import SAMPLE_RATE

T = TypeVar("T")
CHUNK_SAMPLES = 1024  # samples per AudioChunk we send (as Home Assistant and the satellites do)


MIN_RATE, MAX_RATE = 8000, 384000
MAX_CHANNELS = 8
MAX_REQUEST_S = 300.0  # one request's audio (at 16 kHz: 9.6 MB); a stream without end is refused


class BadAudio(ValueError):
    """An AudioChunk we cannot take (its format, or more audio than one request may hold)."""


def chunk_format(data: dict) -> tuple[int, int, int]:
    """(rate, width, channels) of an audio event's data, checked: BadAudio otherwise."""
    values = []
    for key, low, high in (("rate", MIN_RATE, MAX_RATE), ("width", 1, 4), ("channels", 1, MAX_CHANNELS)):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise BadAudio(f"audio {key} {value!r} is not an integer from {low} to {high}")
        values.append(value)
    return values[0], values[1], values[2]


def _to_mono16(audio: bytes, width: int, channels: int) -> bytes:
    """Any width (8-bit unsigned, 16/24/32-bit signed) and channel count -> int16 mono bytes."""
    if width == 2 and channels == 1:
        return audio
    if width == 3:
        raw = np.frombuffer(audio, np.uint8).reshape(-1, 3)
        samples = (raw[:, 0].astype(np.int32) | raw[:, 1].astype(np.int32) << 8
                   | raw[:, 2].astype(np.int8).astype(np.int32) << 16) >> 8
    elif width == 1:
        samples = (np.frombuffer(audio, np.uint8).astype(np.int32) - 128) << 8
    else:
        samples = np.frombuffer(audio, {2: "<i2", 4: "<i4"}[width]).astype(np.int64)
        if width == 4:
            samples >>= 16
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    return np.clip(mono, -32768, 32767).astype("<i2").tobytes()


class PcmCollector:
    """AudioChunks of any rate/width/channels -> one int16 mono 16 kHz array, at most
    ``max_seconds`` of it (BadAudio past that, or for a chunk of a format we cannot take)."""

    def __init__(self, max_seconds: float | None = MAX_REQUEST_S) -> None:
        self._converter = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self._parts: list[bytes] = []
        self.max_bytes = None if max_seconds is None else int(max_seconds * SAMPLE_RATE) * 2
        self.size = 0

    def convert(self, chunk: AudioChunk) -> bytes:
        rate, width, channels = chunk_format({"rate": chunk.rate, "width": chunk.width, "channels": chunk.channels})
        audio = chunk.audio or b""
        frame = width * channels
        if len(audio) % frame:
            raise BadAudio(f"audio chunk of {len(audio)} bytes is not whole frames of {frame} bytes")
        if self.max_bytes is not None and self.size + len(audio) // frame * SAMPLE_RATE // rate * 2 > self.max_bytes:
            raise BadAudio(f"more than {self.max_bytes // 2 // SAMPLE_RATE} s of audio in one request")
        mono = AudioChunk(rate=rate, width=2, channels=1, audio=_to_mono16(audio, width, channels))
        return self._converter.convert(mono).audio

    def add(self, chunk: AudioChunk) -> None:
        part = self.convert(chunk)
        self._parts.append(part)
        self.size += len(part)

    def samples(self) -> np.ndarray:
        return np.frombuffer(b"".join(self._parts), dtype="<i2").astype(np.int16)


def audio_chunks(samples: np.ndarray, rate: int, timestamp: int = 0) -> Iterable[AudioChunk]:
    """int16 mono samples -> AudioChunks of CHUNK_SAMPLES (timestamps in ms)."""
    data = np.asarray(samples, dtype="<i2")
    for i in range(0, len(data), CHUNK_SAMPLES):
        part = data[i:i + CHUNK_SAMPLES]
        yield AudioChunk(rate=rate, width=2, channels=1, audio=part.tobytes(),
                         timestamp=timestamp + int(i * 1000 / rate))


_END = object()


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc


async def iterate_in_thread(make: Callable[[], Iterable[T]]) -> AsyncIterator[T]:
    """Run a blocking iterator (an engine's synthesize) in a thread; yield its items on the loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def work() -> None:
        try:
            for item in make():
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except BaseException as exc:  # handed to the consumer, raised there
            loop.call_soon_threadsafe(queue.put_nowait, _Raised(exc))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _END)

    task = asyncio.ensure_future(asyncio.to_thread(work))  # noqa: F841 (runs to its end on its own)
    while True:
        item = await queue.get()
        if item is _END:
            return
        if isinstance(item, _Raised):
            raise item.exc
        yield item
