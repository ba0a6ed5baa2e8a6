"""Louder / quieter: the session's playback volume (a gain on the reply audio), in steps."""
from __future__ import annotations

import numpy as np

STEP = 0.25
MIN, MAX, NORMAL = 0.25, 2.0, 1.0


def change(volume: float, how: str) -> float:
    """``how``: "louder" | "quieter" | "normal" -> the new volume (clamped)."""
    if how == "louder":
        return min(MAX, round(volume + STEP, 2))
    if how == "quieter":
        return max(MIN, round(volume - STEP, 2))
    return NORMAL


def percent(volume: float) -> int:
    return round(volume * 100)


def apply(chunk: np.ndarray, volume: float) -> np.ndarray:
    """Scale one block of samples (float or int16), clipping instead of wrapping."""
    if volume == NORMAL:
        return chunk
    if np.issubdtype(chunk.dtype, np.integer):
        info = np.iinfo(chunk.dtype)
        return np.clip(chunk.astype(np.float32) * volume, info.min, info.max).astype(chunk.dtype)
    return np.clip(chunk * volume, -1.0, 1.0).astype(chunk.dtype)
