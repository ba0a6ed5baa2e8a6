"""The encoder window decoding uses (stt.local_window_s) and its fallback to the full window; the
Whisper steps are stand-ins, no model is loaded."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from assistant.config import load_config
from assistant.stt import local, whisper
from assistant.stt.local import WhisperTranscriber


def feats(seconds: float) -> np.ndarray:
    return np.zeros((80, int(seconds * 100)), np.float32)


@pytest.mark.parametrize("speech_s, window_s, frames", [
    (1.0, 10.0, 1000),  # a command: at least the window
    (12.2, 10.0, 1400),  # longer speech: it plus 1 s, in whole seconds
    (1.0, 30.0, 3000),  # 30: Whisper's full window
    (29.5, 10.0, 3000),  # never more than the full window
])
def test_decode_frames(speech_s, window_s, frames):
    assert whisper.decode_frames(feats(speech_s), window_s) == frames


@dataclass
class Seg:
    text: str
    avg_logprob: float = -0.2
    temperature: float = 0.0
    start: float = 0.0
    end: float = 1.0
    no_speech_prob: float = 0.01


@pytest.fixture
def steps(monkeypatch):
    """encode records its window; decode answers by window: ``heard[frames]``."""
    encoded: list[int] = []
    heard: dict[int, list[Seg]] = {}
    monkeypatch.setattr(local, "load_model", lambda path, *a: path)
    monkeypatch.setattr(local, "model_dir", lambda name: name)
    monkeypatch.setattr(local, "is_multilingual", lambda model: model == "base")
    monkeypatch.setattr(whisper, "features", lambda model, samples: feats(len(samples) / 16000))
    monkeypatch.setattr(whisper, "encode", lambda model, f, frames=3000: encoded.append(frames) or frames)
    monkeypatch.setattr(whisper, "decode", lambda model, f, frames, **kw: heard[frames])
    return encoded, heard


def transcriber(model: str = "base") -> WhisperTranscriber:
    return WhisperTranscriber(replace(load_config().stt, local_model=model, languages=("ko",)))


PCM = np.full(16000, 500, np.int16)


def test_a_command_is_decoded_from_the_short_window(steps):
    encoded, heard = steps
    heard[1000] = [Seg("What time is it?")]
    tr = transcriber()
    assert tr.transcribe(PCM, language="ko").text == "What time is it?"
    assert encoded == [1000] and tr.last_route.encodes == pytest.approx(1 / 3)


@pytest.mark.parametrize("doubtful", [
    [Seg("Yes. Yes. Yes. Yes. Yes. Yes. Yes. Yes")],  # a loop
    [Seg("Yes.", temperature=0.2)],  # the greedy decode was given up
    [Seg("Yes.", avg_logprob=-1.5)],  # unsure
])
def test_a_doubtful_short_decode_is_redone_on_the_full_window(steps, doubtful):
    encoded, heard = steps
    heard[1000], heard[3000] = doubtful, [Seg("Yes.")]
    tr = transcriber()
    assert tr.transcribe(PCM, language="ko").text == "Yes."
    assert encoded == [1000, 3000] and tr.last_route.encodes == pytest.approx(4 / 3)


def test_tiny_en_always_decodes_from_the_full_window(steps):
    encoded, heard = steps
    heard[3000] = [Seg("Edit it, put a hat on the top left.")]
    transcriber("tiny.en").transcribe(PCM, language="en")
    assert encoded == [3000]
