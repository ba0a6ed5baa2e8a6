"""Audio between Wyoming events and our engines: 16 kHz mono int16 in, int16 chunks out."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable, Iterable, TypeVar

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter

from ...audio.format import SAMPLE_RATE

T = TypeVar("T")
CHUNK_SAMPLES = 1024  # samples per AudioChunk we send (as Home Assistant and the satellites do)


class PcmCollector:
    """AudioChunks of any rate/width/channels -> one int16 mono 16 kHz array."""

    def __init__(self) -> None:
        self._converter = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self._parts: list[bytes] = []

    def convert(self, chunk: AudioChunk) -> bytes:
        return self._converter.convert(chunk).audio

    def add(self, chunk: AudioChunk) -> None:
        self._parts.append(self.convert(chunk))

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
