"""The composable transcribers, each on its own with fakes: no model is loaded."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from assistant.config import load_config
from assistant.engines import FallbackTranscriber
from assistant.errors import ApiError, UserError
from assistant.stt import pieces
from assistant.stt.base import Segment, Transcript
from assistant.stt.cancel import Cancelled, cancellable, checkpoint
from assistant.stt.cascade import EnglishFirst
from assistant.stt.files import FileInput
from assistant.stt.local import Guess, Route
from assistant.stt.pieces import SpeechPieces

CFG = load_config().stt  # languages en, ko


@dataclass
class FakeWindow:
    """Hears ``text`` in ``language``; records every call."""
    name: str = "base"
    language: str = "en"
    guess: Guess | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    last_route: Route | None = None
    warmed: int = 0

    def check(self, task, language):
        if task not in ("transcribe", "translate"):
            raise UserError(f"unknown task {task!r}")
        return language

    def guess_language(self, pcm, prior):
        self.calls.append({"guess": True, "prior": prior})
        return self.guess

    def transcribe(self, pcm, *, task="transcribe", language=None, prompt=None, want_timestamps=False, prior=None):
        self.calls.append({"language": language, "task": task, "prior": prior, "n": len(pcm)})
        lang = language or self.language
        self.last_route = Route(lang, 1.0 if language else 0.7, "given" if language else "full", self.name, 1.0)
        seg = Segment(0.0, len(pcm) / 16000, f"{self.name} heard")
        return Transcript(seg.text, lang, 1.0 if language else 0.7, seg.end, (seg,), task)

    def transcribe_file(self, path, **kw):
        return None

    def warm_up(self):
        self.warmed += 1


PCM = np.full(16000, 1000, np.int16)


# ---------------------------------------------------------------- EnglishFirst
def test_sure_english_goes_to_the_english_model():
    general, english = FakeWindow(guess=Guess("en", 0.97, 0.1)), FakeWindow("tiny.en")
    t = EnglishFirst(general, english).transcribe(PCM, prior={"en": 0.5, "ko": 0.5})
    assert t.text == "tiny.en heard" and t.language == "en" and t.language_probability == 0.97
    assert english.calls[0]["language"] == "en" and len(general.calls) == 1  # only the guess


def test_sure_korean_is_decoded_by_the_multilingual_model_in_korean():
    general, english = FakeWindow(guess=Guess("ko", 0.95, 0.1)), FakeWindow("tiny.en")
    cascade = EnglishFirst(general, english)
    t = cascade.transcribe(PCM)
    assert t.text == "base heard" and t.language == "ko" and english.calls == []
    assert cascade.last_route == Route("ko", 0.95, "short", "base", pytest.approx(1.1))


def test_unsure_evidence_takes_the_full_window_with_the_prior():
    general, english = FakeWindow(guess=Guess("en", 0.6, 0.1)), FakeWindow("tiny.en")
    cascade = EnglishFirst(general, english)
    cascade.transcribe(PCM, prior={"ko": 0.6, "en": 0.4})
    assert general.calls[-1]["language"] is None and general.calls[-1]["prior"] == {"ko": 0.6, "en": 0.4}
    assert english.calls == [] and cascade.last_route.encodes == pytest.approx(1.1)


@pytest.mark.parametrize("kw", [{"language": "en"}, {"task": "translate"}])
def test_given_language_or_translation_skips_the_guess(kw):
    general, english = FakeWindow(guess=Guess("en", 0.99, 0.1)), FakeWindow("tiny.en")
    EnglishFirst(general, english).transcribe(PCM, **kw)
    assert [c for c in general.calls if c.get("guess")] == [] and english.calls == []


@pytest.mark.parametrize("guess", [Guess("en", 0.97, 0.1), Guess("ko", 0.95, 0.1), Guess("en", 0.6, 0.1)])
def test_the_parallel_english_try_gives_the_same_text_as_in_turn(guess):
    """tiny.en beside the evidence: its text only when the evidence says English (never its own
    confidence); Korean and unsure evidence are decoded as without it."""
    results = []
    for parallel in (False, True):
        general, english = FakeWindow(guess=guess), FakeWindow("tiny.en")
        cascade = EnglishFirst(general, english, parallel=parallel)
        t = cascade.transcribe(PCM, prior={"en": 0.6, "ko": 0.4})
        results.append((t, cascade.last_route, general.calls, len(english.calls)))
    assert results[0][:3] == results[1][:3] and results[1][3] == 1  # tried beside the evidence


@pytest.mark.parametrize("prior", [{"ko": 0.6, "en": 0.4}, {"en": 0.5, "ko": 0.5}, None])
def test_no_parallel_english_try_unless_the_prior_leans_english(prior):
    general, english = FakeWindow(guess=Guess("ko", 0.95, 0.1)), FakeWindow("tiny.en")
    EnglishFirst(general, english, parallel=True).transcribe(PCM, prior=prior)
    assert english.calls == []


@pytest.mark.parametrize("guess", [Guess("ko", 0.95, 0.1), Guess("en", 0.6, 0.1)])
def test_a_parallel_english_try_the_evidence_overrules_stops_before_its_next_stage(guess):
    """Korean (or unsure) evidence: the tiny.en try stops at its next checkpoint (its decode of
    Korean speech as English would be wasted work on the shared cores) and the caller waits for
    that, not for the whole try."""
    encoding, evidence_in = threading.Event(), threading.Event()
    stages = []

    class SlowEnglish(FakeWindow):
        def transcribe(self, pcm, **kw):
            encoding.set()
            evidence_in.wait(5)  # the encoder pass, running while the evidence is decided
            stages.append("encoded")
            checkpoint()  # whisper.decode's
            stages.append("decoded")
            return super().transcribe(pcm, **kw)

    class General(FakeWindow):
        def guess_language(self, pcm, prior):
            encoding.wait(5)
            threading.Timer(0.05, evidence_in.set).start()  # the try is still encoding when the verdict lands
            return super().guess_language(pcm, prior)

    general, english = General(guess=guess), SlowEnglish("tiny.en")
    cascade = EnglishFirst(general, english, parallel=True)
    t = cascade.transcribe(PCM, prior={"en": 0.6, "ko": 0.4})
    assert t.text == "base heard" and stages == ["encoded"]  # stopped before decoding
    assert english.calls == []


def test_a_parallel_english_try_stops_with_its_caller():
    """The caller's own stop (a stale speculation's, ``cancellable``) reaches the try's thread."""
    stop = threading.Event()

    class Stopping(FakeWindow):
        def guess_language(self, pcm, prior):
            stop.set()  # the speculation went stale during the evidence pass
            return super().guess_language(pcm, prior)

    class English(FakeWindow):
        def transcribe(self, pcm, **kw):
            deadline = time.monotonic() + 5
            while not stop.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
            checkpoint()
            return super().transcribe(pcm, **kw)

    general, english = Stopping(guess=Guess("en", 0.97, 0.1)), English("tiny.en")
    with cancellable(stop), pytest.raises(Cancelled):
        EnglishFirst(general, english, parallel=True).transcribe(PCM, prior={"en": 0.6, "ko": 0.4})
    assert english.calls == []


def test_cascade_warms_both_models():
    general, english = FakeWindow(), FakeWindow("tiny.en")
    EnglishFirst(general, english).warm_up()
    assert general.warmed == english.warmed == 1


# ---------------------------------------------------------------- SpeechPieces
@pytest.fixture
def heard(monkeypatch):
    """Silero stand-in: every non-zero sample is speech; pieces are the non-zero runs."""
    def spans(pcm):
        nz = np.flatnonzero(pcm)
        return [] if not len(nz) else [(int(nz[0]), int(nz[-1]) + 1)]

    monkeypatch.setattr(pieces.speech, "has_speech", lambda pcm: bool(np.any(pcm)))
    monkeypatch.setattr(pieces.speech, "pieces", lambda pcm: iter(spans(pcm)))
    monkeypatch.setattr("assistant.stt.local.release_memory", lambda: None)


def test_silence_never_reaches_the_window(heard):
    window = FakeWindow()
    sp = SpeechPieces(window, CFG)
    t = sp.transcribe(np.zeros(16000, np.int16))
    assert t.text == "" and t.duration == 1.0 and window.calls == [] and sp.last_route.evidence == "no-speech"


def test_bad_task_is_an_error_even_for_silence(heard):
    with pytest.raises(UserError, match="unknown task"):
        SpeechPieces(FakeWindow(), CFG).transcribe(np.zeros(160, np.int16), task="summarize")  # type: ignore[arg-type]


def test_the_last_language_heard_is_the_next_prior(heard):
    window = FakeWindow(language="ko")
    sp = SpeechPieces(window, CFG)
    sp.transcribe(PCM)
    assert window.calls[0]["prior"] == {"en": 0.5, "ko": 0.5}
    sp.transcribe(PCM)
    assert window.calls[1]["prior"]["ko"] > window.calls[1]["prior"]["en"]
    sp.transcribe(PCM, prior={"en": 0.9, "ko": 0.1})  # the caller's prior wins
    assert window.calls[2]["prior"] == {"en": 0.9, "ko": 0.1}


def test_long_input_goes_piece_by_piece_with_shifted_times(heard):
    window = FakeWindow()
    pcm = np.zeros(40 * 16000, np.int16)
    pcm[32 * 16000: 34 * 16000] = 500
    t = SpeechPieces(window, CFG).transcribe(pcm)
    assert [c["n"] for c in window.calls] == [2 * 16000] and t.duration == 40.0 and t.text == "base heard"
    assert t.segments[0].start == 32.0 and t.language == "en"


# ---------------------------------------------------------------- FileInput
@dataclass
class Uploader(FakeWindow):
    takes_files: bool = False

    def transcribe_file(self, path, **kw):
        if not self.takes_files:
            return None
        self.calls.append({"file": path.name})
        return Transcript("as is", "en")


def test_a_file_is_offered_as_it_is_then_decoded(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.full(8000, 0.1, np.float32), 8000, subtype="PCM_16")
    inner = Uploader()
    t = FileInput(inner).transcribe(path)
    assert t.text == "base heard" and inner.calls[0]["n"] == 16000  # resampled to 16 kHz
    inner = Uploader(takes_files=True)
    assert FileInput(inner).transcribe(str(path)).text == "as is" and inner.calls == [{"file": "a.wav"}]


def test_samples_are_made_int16_mono(tmp_path):
    inner = FakeWindow()
    FileInput(inner).transcribe(np.zeros((800, 2), np.float32) + 0.5)
    assert inner.calls[0]["n"] == 800


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(UserError, match="not found"):
        FileInput(FakeWindow()).transcribe(tmp_path / "none.wav")


# ---------------------------------------------------------------- fallback
def test_fallback_forwards_warm_up_and_switches_once():
    class Down(FakeWindow):
        def transcribe(self, pcm, **kw):
            raise ApiError("connection refused")

    local, notices = FakeWindow("local"), []
    fb = FallbackTranscriber(Down(), lambda: local, notices.append, "speech recognition")
    fb.warm_up()
    assert local.warmed == 0 and not fb.switched
    assert fb.transcribe(PCM).text == "local heard" and fb.switched
    fb.warm_up()
    fb.transcribe(PCM)
    assert local.warmed == 1 and notices == ["speech recognition"]


def test_every_backend_reads_m4a_through_ffmpeg(tmp_path):
    """The local and Wyoming engines get what libsndfile cannot read, as the API upload does."""
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    path = tmp_path / "memo.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=2", "-ac", "2",
                    "-ar", "44100", "-c:a", "aac", str(path)], check=True)
    inner = FakeWindow()
    FileInput(inner).transcribe(path)
    assert abs(inner.calls[0]["n"] - 32000) < 1600  # 2 s at 16 kHz mono (plus the encoder's priming)
