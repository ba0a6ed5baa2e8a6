"""The pitch checks' fast forms decide exactly as the plain ones (the segmenter's stale-floor vote
and the start of a room just begun after silence rest on them)."""
from __future__ import annotations

import numpy as np

from assistant.vad.noise import _median, pitched, pitched_rows
from assistant.vad.segmenter import _NOISE_PITCH, _NOISE_PITCH_BAND, _BAND_PITCH, _pitched, _pitched_count
from assistant.audio.sources import FileSource
from tests.audio.speech import SPEECH


def _frames() -> list[bytes]:
    """Frames of a voice, of noise, of a hum and of silence: pitched and not, both tests used."""
    rng = np.random.default_rng(3)
    t = np.arange(480) / 16000
    kinds = [np.zeros(480), rng.normal(0, 300, 480), 900 * np.sin(2 * np.pi * 120 * t),
             900 * np.sin(2 * np.pi * 120 * t) + rng.normal(0, 900, 480), np.cumsum(rng.normal(0, 40, 480))]
    frames = [np.clip(k, -32768, 32767).astype(np.int16).tobytes() for k in kinds]
    voice = list(FileSource(sorted(SPEECH.glob("*.wav"))[0]).iter_frames())
    frames += voice[::10]
    return frames


def test_batched_pitch_counts_what_frame_by_frame_finds():
    frames = _frames()
    singles = [_pitched(f) for f in frames]
    assert any(singles) and not all(singles)  # both outcomes are exercised
    for k in range(len(frames)):
        group = frames[k : k + 4]
        assert _pitched_count(group) == sum(_pitched(f) for f in group)
    x = np.stack([np.frombuffer(f, np.int16).astype(np.float64) for f in frames])
    assert pitched_rows(x, 0.5, (1000.0, 2000.0), 0.6) == sum(pitched(r, 0.5, (1000.0, 2000.0), 0.6) for r in x)


def test_median_is_numpys_bit_for_bit():
    rng = np.random.default_rng(4)
    for n in range(1, 40):
        v = rng.uniform(10.0, 90.0, n).tolist()
        assert _median(v) == float(np.median(v)) == float(_median(np.array(v)))
