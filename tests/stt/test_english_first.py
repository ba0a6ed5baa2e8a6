"""The local 'auto' cascade: English commands decode with tiny.en only; anything tiny.en is unsure
of (other languages, looping output) goes to the multilingual model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.config import load_config, with_overrides
from assistant.stt import local
from assistant.stt.local import LocalTranscriber, _repetitive

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


def sentence(name: str, index: int) -> np.ndarray:
    entry = next(e for e in json.loads((SPEECH / "manifest.json").read_text()) if e["file"] == name)
    audio, rate = sf.read(SPEECH / name, dtype="int16")
    s = entry["sentences"][index]
    return audio[int((s["start"] - 0.3) * rate): int((s["end"] + 0.3) * rate)]


@pytest.fixture
def loads(monkeypatch):
    seen: list[str] = []
    real = local.load_model

    def spy(path, compute_type, threads):
        seen.append(Path(path).name)
        return real(path, compute_type, threads)

    monkeypatch.setattr(local, "load_model", spy)
    return seen


@pytest.mark.slow
def test_english_command_uses_only_tiny_en(loads):
    t = LocalTranscriber(load_config().stt).transcribe(sentence("en_five_noisy.wav", 1))
    assert "fox" in t.text.lower() and t.language == "en"
    assert all(name != "whisper-base" for name in loads), loads


@pytest.mark.slow
def test_korean_speech_falls_through_to_multilingual(loads):
    t = LocalTranscriber(load_config().stt).transcribe(sentence("ko_two_noisy.wav", 1))
    assert "whisper-base" in loads, (loads, t)
    assert t.language == "ko"


def test_english_first_can_be_turned_off(loads):
    cfg = with_overrides(load_config(), stt={"english_first": False}).stt
    assert not LocalTranscriber(cfg)._english_first()
    assert not LocalTranscriber(with_overrides(load_config(), stt={"languages": ["en"]}).stt)._english_first()


def test_repetition_detector():
    assert _repetitive("I'll come to you, I'll go to you, I'll go to you, I'll go to you")
    assert not _repetitive("Edit the picture: give her a hat in the top left corner and a scarf")
    assert not _repetitive("stop stop")
    assert _repetitive("Cool, Tom, y'all, t-t-t-t-t-t-t-t-t-t-t")
    assert not _repetitive("Stop, stop, stop.")
