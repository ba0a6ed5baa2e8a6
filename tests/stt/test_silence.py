"""Local STT over silence, noise and long inputs: nothing is "heard" where nobody spoke, and long
inputs go through in bounded pieces."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.config import load_config
from assistant.stt import guard, local, speech
from assistant.stt.base import Segment, Transcript
from assistant.stt.local import build
from tests import corpus

CFG = load_config().stt


@pytest.fixture
def no_whisper(monkeypatch):
    """Whisper must not even run: the check happens before decoding."""
    tr = build(CFG)
    monkeypatch.setattr(tr.window, "check", lambda task, language: language)
    monkeypatch.setattr(tr.window, "transcribe", lambda *a, **k: pytest.fail("whisper decoded audio without speech"))
    return tr


@pytest.mark.parametrize("seconds", [1, 60])
def test_digital_silence_is_empty(no_whisper, seconds):
    t = no_whisper.transcribe(np.zeros(seconds * 16000, np.int16))
    assert t.text == "" and t.segments == ()
    assert t.duration == seconds


def test_dither_and_hum_are_empty(no_whisper):
    rng = np.random.default_rng(1)
    n = 16000 * 3
    hum = 300 * np.sin(2 * np.pi * 50 * np.arange(n) / 16000) + rng.normal(0, 3, n)
    assert no_whisper.transcribe(hum.astype(np.int16)).text == ""


@pytest.mark.parametrize("clip", [c.name for c in corpus.select(kind="noise")] or ["-"])
def test_real_noise_is_empty(no_whisper, clip):
    corpus.need_corpus()
    c = next(c for c in corpus.select(kind="noise") if c.name == clip)
    assert no_whisper.transcribe(c.pcm()).text == ""


def test_real_speech_passes_the_check():
    corpus.need_corpus()
    missed = [c.name for c in corpus.select() if c.language and not speech.has_speech(c.pcm())]
    # one Speech Commands "up" is 40 dB down (peak -40 dBFS); Whisper hears nothing in it either
    assert set(missed) <= {"speech_commands_up_1eddce1d_nohash_3"}, missed


def test_two_hours_of_silence_in_bounded_memory(no_whisper):
    import tracemalloc

    pcm = np.zeros(2 * 3600 * 16000, np.int16)  # 230 MB, as the CLI reads it
    tracemalloc.start()
    t = no_whisper.transcribe(pcm)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert t.text == "" and t.duration == 7200
    assert peak < 100e6, peak  # blocks of 5 min, never the whole file as float


def test_pieces_join_speech_within_a_window():
    sr = 16000
    rng = np.random.default_rng(0)
    pcm = np.zeros(sr * 100, np.int16)
    c = corpus.select(language="en", kind="command", with_text=True)
    if not c:
        pytest.skip(corpus.SKIP_REASON)
    word = c[0].pcm()
    for at in (5, 7, 60):  # two close commands, one far away
        pcm[at * sr: at * sr + len(word)] = word
    pcm += rng.normal(0, 2, len(pcm)).astype(np.int16)
    parts = list(speech.pieces(pcm))
    assert len(parts) == 2, parts
    assert parts[0][0] < 5 * sr and parts[0][1] > 7.5 * sr and 60 * sr <= parts[1][0] + 4000 < 62 * sr
    assert all(e - s <= 28 * sr for s, e in parts)


@pytest.mark.parametrize("text", ["you", "you you", "Thank you.", "Thank you. Thank you.", "감사합니다."])
def test_fillers_with_high_no_speech_prob_are_dropped(text):
    seg = Segment(0, 1, text, avg_logprob=-0.3, no_speech_prob=0.95)
    assert guard.apply(Transcript(text, "en", segments=(seg,)), CFG).text == ""


def test_fillers_actually_spoken_are_kept():
    seg = Segment(0, 1, "Thank you.", avg_logprob=-0.2, no_speech_prob=0.05)
    assert guard.apply(Transcript("Thank you.", "en", segments=(seg,)), CFG).text == "Thank you."


@pytest.mark.slow
def test_long_input_is_transcribed_piece_by_piece():
    corpus.need_corpus()
    sr = 16000
    en = next(c for c in corpus.select(language="en") if c.name == "rhasspy_what_time_is_it").pcm()
    ko = next(c for c in corpus.select(language="ko") if c.name == "rhino_out_of_context").pcm()
    pcm = np.concatenate([np.zeros(20 * sr, np.int16), en, np.zeros(40 * sr, np.int16), ko,
                          np.zeros(20 * sr, np.int16)])
    tr = build(CFG)
    t = tr.transcribe(pcm)
    assert "time" in t.text.lower() and "커피" in t.text, t
    assert len(t.segments) >= 2 and t.segments[0].start >= 19 and t.segments[-1].start >= 60
