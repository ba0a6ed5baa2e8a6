"""Is there speech in this audio, and where? Silero VAD as packaged inside faster-whisper
(``faster_whisper/assets/silero_vad_v6.onnx``, run by onnxruntime; nothing is downloaded).

Two uses in the local backend:
- a check before decoding: audio with no speech is never shown to Whisper, which would "hear"
  "you" or "Thank you." in it;
- cutting long inputs into pieces of at most one Whisper window, block by block, so memory stays
  bounded whatever the length (2 h of audio is read in ``BLOCK_S`` blocks).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..audio.format import SAMPLE_RATE

BLOCK_S = 300  # VAD block for long inputs (5 min: ~19 MB of float32)
THRESHOLD = 0.4  # a little below Silero's 0.5: a clipped one-word command must still pass
DIGITAL_SILENCE = 4  # int16 peak below which a block is digital silence
MIN_SPEECH_MS = 60  # shorter bursts (a click) are not speech; a clipped "up" is ~64 ms over the threshold


def _options(**kw):
    from faster_whisper.vad import VadOptions

    return VadOptions(threshold=THRESHOLD, min_speech_duration_ms=MIN_SPEECH_MS, **kw)


def spans(pcm: np.ndarray, *, min_silence_ms: int = 500, pad_ms: int = 200,
          max_speech_s: float = 28.0) -> Iterator[tuple[int, int]]:
    """(start, end) sample indices of the speech in int16 ``pcm``, in order, computed one block at
    a time; spans that touch a block edge are joined."""
    from faster_whisper.vad import get_speech_timestamps

    block = BLOCK_S * SAMPLE_RATE
    opts = _options(min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms, max_speech_duration_s=max_speech_s)

    def per_block() -> Iterator[tuple[int, int]]:
        for offset in range(0, len(pcm), block):
            raw = pcm[offset: offset + block]
            if not len(raw) or int(np.abs(raw).max()) < DIGITAL_SILENCE:
                continue  # digital zeros (or LSB dither): no need to run the model
            chunk = raw.astype(np.float32) / 32768.0
            for ts in get_speech_timestamps(chunk, opts, SAMPLE_RATE):
                yield offset + ts["start"], offset + ts["end"]

    return _joined(per_block(), gap=1, limit=int(max_speech_s * SAMPLE_RATE))


def has_speech(pcm: np.ndarray) -> bool:
    """True when Silero finds at least ``MIN_SPEECH_MS`` of speech in ``pcm`` (one utterance)."""
    return next(spans(pcm[: BLOCK_S * SAMPLE_RATE], pad_ms=0), None) is not None


def warm_up() -> None:
    """Load Silero and run it once: on a quiet hum, since digital silence never reaches the model.
    It runs beside the Whisper warm-ups, so the package is imported before its vad module: a
    thread that takes ``faster_whisper.vad`` first while another is importing ``faster_whisper``
    deadlocks on their import locks (Python raises _DeadlockError)."""
    import faster_whisper  # noqa: F401

    has_speech((30 * np.sin(np.arange(SAMPLE_RATE // 2) * 0.05)).astype(np.int16))


def pieces(pcm: np.ndarray, max_s: float = 28.0, join_gap_s: float = 1.0) -> Iterator[tuple[int, int]]:
    """Speech spans grouped into pieces of at most ``max_s`` seconds (one Whisper window each):
    neighbours closer than ``join_gap_s`` share a piece while it fits."""
    return _joined(spans(pcm, max_speech_s=max_s), gap=int(join_gap_s * SAMPLE_RATE), limit=int(max_s * SAMPLE_RATE))


def _joined(found: Iterator[tuple[int, int]], gap: int, limit: int) -> Iterator[tuple[int, int]]:
    """Neighbouring (start, end) spans at most ``gap`` samples apart joined while the whole stays
    within ``limit`` samples."""
    current: tuple[int, int] | None = None
    for start, end in found:
        if current is not None and start - current[1] <= gap and end - current[0] <= limit:
            current = (current[0], end)
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current
