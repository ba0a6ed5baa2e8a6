"""Band-limited resampling with soxr (high quality, not nearest-neighbour or linear)."""
from __future__ import annotations

import numpy as np
import soxr

from .format import SAMPLE_RATE, to_float32, to_int16


def resample(samples: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Mono samples (int16 or float) at ``rate_in`` -> int16 at ``rate_out``."""
    if rate_in == rate_out:
        return to_int16(samples)
    out = soxr.resample(to_float32(samples), rate_in, rate_out, quality="HQ")
    return to_int16(out)


class StreamResampler:
    """Chunk-by-chunk resampling for live sources (keeps filter state between chunks)."""

    def __init__(self, rate_in: int, rate_out: int = SAMPLE_RATE):
        self.rate_in, self.rate_out = rate_in, rate_out
        self._stream = None if rate_in == rate_out else soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32", quality="HQ")

    def process(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return to_int16(samples)
        return to_int16(self._stream.resample_chunk(to_float32(samples), last=last))
