"""The one internal audio format: 16 kHz, mono, signed 16-bit little-endian, 30 ms frames."""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes, int16
DTYPE = np.int16
FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 480
FRAME_BYTES = FRAME_SAMPLES * SAMPLE_WIDTH  # 960
FRAME_SECONDS = FRAME_MS / 1000


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float in [-1, 1] (or any int dtype) -> int16, clipped."""
    if samples.dtype == np.int16:
        return samples
    if np.issubdtype(samples.dtype, np.floating):  # NaN/inf (broken files) become 0 / the rails
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
        return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    info = np.iinfo(samples.dtype)
    scaled = samples.astype(np.float64) / max(abs(info.min), info.max)
    return (np.clip(scaled, -1.0, 1.0) * 32767.0).astype(np.int16)


def to_float32(samples: np.ndarray) -> np.ndarray:
    """int16 -> float32 in [-1, 1)."""
    if np.issubdtype(samples.dtype, np.floating):
        return samples.astype(np.float32, copy=False)
    return samples.astype(np.float32) / 32768.0


def to_mono(samples: np.ndarray) -> np.ndarray:
    """(n, channels) -> (n,) by averaging channels."""
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    return samples.mean(axis=1).astype(samples.dtype if np.issubdtype(samples.dtype, np.floating) else np.float32)


def seconds(n_samples: int, rate: int = SAMPLE_RATE) -> float:
    return n_samples / rate


def split_frames(pcm: np.ndarray) -> list[bytes]:
    """int16 mono samples -> whole 30 ms frames as bytes (a short tail is zero-padded)."""
    pcm = np.ascontiguousarray(pcm, dtype=np.int16)
    remainder = len(pcm) % FRAME_SAMPLES
    if remainder:
        pcm = np.concatenate([pcm, np.zeros(FRAME_SAMPLES - remainder, np.int16)])
    data = pcm.tobytes()
    return [data[i : i + FRAME_BYTES] for i in range(0, len(data), FRAME_BYTES)]
