"""The segmenter's speculation hook: SpeechPaused carries the utterance the hangover may confirm."""
from __future__ import annotations

import dataclasses

import numpy as np

from assistant.audio.format import split_frames
from assistant.config import VadConfig
from assistant.events import SpeechPaused, Utterance
from assistant.vad.segmenter import Segmenter
from tests.audio.speech import int16, voice, white


def events(x: np.ndarray, cfg: VadConfig) -> list:
    seg = Segmenter(cfg)
    out = []
    for f in split_frames(int16(x)):
        out += seg.process(f)
    return out + seg.flush()


def stream(*parts: np.ndarray) -> np.ndarray:
    x = np.concatenate(parts)
    return x + white(len(x) / 16000, 30.0, seed=1)


def test_a_pause_that_ends_the_utterance_carries_that_very_utterance():
    out = events(stream(np.zeros(16000), voice(1.0), np.zeros(16000)), VadConfig())
    paused = [e.utterance for e in out if isinstance(e, SpeechPaused)]
    final = [e for e in out if isinstance(e, Utterance)]
    assert len(final) == 1 and paused
    last = paused[-1]
    assert out.index(next(e for e in out if isinstance(e, SpeechPaused) and e.utterance is last)) < out.index(final[0])
    # speculate_ms >= padding_ms: the same edges and the same audio as the utterance cut later
    assert (last.start, last.end, last.audio_start) == (final[0].start, final[0].end, final[0].audio_start)
    assert np.array_equal(last.audio, final[0].audio)


def test_speech_that_resumes_voids_the_pause():
    out = events(stream(np.zeros(16000), voice(0.6), np.zeros(3200), voice(0.6), np.zeros(16000)), VadConfig())
    paused = [e.utterance for e in out if isinstance(e, SpeechPaused)]
    final = [e for e in out if isinstance(e, Utterance)]
    assert len(final) == 1 and len(paused) >= 2
    assert paused[0].end < final[0].end  # the pause inside the utterance: other edges
    assert paused[-1].end == final[0].end


def test_off_and_below_the_padding():
    x = stream(np.zeros(16000), voice(1.0), np.zeros(16000))
    assert not [e for e in events(x, dataclasses.replace(VadConfig(), speculate_ms=0)) if isinstance(e, SpeechPaused)]
    early = events(x, dataclasses.replace(VadConfig(), speculate_ms=30))
    paused = [e.utterance for e in early if isinstance(e, SpeechPaused)][-1]
    final = next(e for e in early if isinstance(e, Utterance))
    assert paused.end == final.end and len(paused.audio) < len(final.audio)  # padding cut short
