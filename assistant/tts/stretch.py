"""Time-stretching without changing pitch (WSOLA), for speeds the engines cannot reach alone."""
from __future__ import annotations

import numpy as np


def tempo(samples: np.ndarray, factor: float, sample_rate: int) -> np.ndarray:
    """int16 mono -> int16 mono played ``factor`` times faster (factor 2 = half the duration)."""
    if abs(factor - 1.0) < 1e-3 or len(samples) == 0:
        return samples
    x = samples.astype(np.float32)
    frame = int(0.030 * sample_rate)
    hop_out = frame // 2
    hop_in = hop_out * factor
    tol = int(0.010 * sample_rate)
    window = np.hanning(frame).astype(np.float32)
    n_out = int(len(x) / factor)
    x = np.concatenate([np.zeros(tol, np.float32), x, np.zeros(frame + tol + int(hop_in) + 1, np.float32)])
    out = np.zeros(n_out + frame, np.float32)
    norm = np.zeros(n_out + frame, np.float32)
    prev = tol  # input position of the previous frame (in padded x)
    k = 0
    while k * hop_out < n_out:
        nominal = tol + int(k * hop_in)
        if k == 0:
            pos = nominal
        else:
            natural = x[prev + hop_out: prev + hop_out + frame]
            region = x[nominal - tol: nominal + tol + frame]
            corr = np.correlate(region, natural, mode="valid")
            pos = nominal - tol + int(np.argmax(corr))
        o = k * hop_out
        out[o:o + frame] += x[pos:pos + frame] * window
        norm[o:o + frame] += window
        prev = pos
        k += 1
    norm[norm < 1e-3] = 1.0
    y = (out / norm)[:n_out]
    return np.clip(y, -32768, 32767).astype(np.int16)
