"""`vad.min_word_ms`: a pitched sound shorter than min_speech but at least min_word long is a
word (clipped one-syllable commands: "off" under a bike's noise at 10 dB SNR is 0.24 s above it);
an unpitched burst that long is still a blip. Default 200 ms (min_speech 250 ms)."""
from __future__ import annotations

import numpy as np

from assistant.audio.format import split_frames
from assistant.config import VadConfig
from assistant.events import Utterance
from assistant.vad.segmenter import Segmenter

RATE = 16000


def vowel(seconds: float, f0: float = 140.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
    return 6000 * x / np.max(np.abs(x))


def burst(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    return 6000 * rng.standard_normal(int(seconds * RATE)) * np.hanning(int(seconds * RATE))


def found(signal: np.ndarray, cfg: VadConfig) -> list[Utterance]:
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(RATE), signal, np.zeros(RATE)])
    x = np.clip(x + 150 * rng.standard_normal(len(x)), -32768, 32767).astype(np.int16)
    seg = Segmenter(cfg)
    out = [e for f in split_frames(x) for e in seg.process(f) if isinstance(e, Utterance)]
    return out + [e for e in seg.flush() if isinstance(e, Utterance)]


def test_by_default_a_short_pitched_word_is_kept_and_a_shorter_one_is_a_blip():
    utts = found(vowel(0.19), VadConfig())
    assert len(utts) == 1 and 0.2 <= utts[0].duration < 0.25
    assert found(vowel(0.15), VadConfig()) == []
    assert found(burst(0.22), VadConfig()) == []


def test_min_word_at_min_speech_turns_it_off():
    assert found(vowel(0.19), VadConfig(min_word_ms=250)) == []


def test_pitched_short_word_kept_when_enabled():
    utts = found(vowel(0.19), VadConfig(min_word_ms=150))
    assert len(utts) == 1 and 0.15 <= utts[0].duration < 0.25


def test_unpitched_burst_still_dropped_when_enabled():
    assert found(burst(0.2), VadConfig(min_word_ms=150)) == []


def test_below_min_word_is_dropped_even_if_pitched():
    assert found(vowel(0.1), VadConfig(min_word_ms=150)) == []
