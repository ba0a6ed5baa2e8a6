"""Issue 15, cold start: every model loads and warms before READY, side by side (``together``), and
the prepared replies start only after. Fakes stand in for the models; the only timeouts are
there to fail a test that would otherwise hang, never to measure speed."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from assistant import engines as engines_mod
from assistant.config import load_config
from assistant.stt import local, pieces, whisper
from assistant.stt.cascade import EnglishFirst
from assistant.stt.pieces import SpeechPieces
from assistant.together import together

WAIT_S = 30  # a barrier a sequential warm-up would never pass; only to fail instead of hanging


def _meeting(n: int) -> threading.Barrier:
    return threading.Barrier(n, timeout=WAIT_S)


# ---------------------------------------------------------------- together
def test_together_runs_the_calls_at_the_same_time():
    barrier, done = _meeting(3), []
    together(*[lambda i=i: (barrier.wait(), done.append(i)) for i in range(3)])  # sequential: BrokenBarrierError
    assert sorted(done) == [0, 1, 2]


def test_together_raises_only_after_every_call_has_ended():
    finished = threading.Event()

    def slow() -> None:
        finished.wait(WAIT_S)

    def fail() -> None:
        finished.set()
        raise RuntimeError("second")

    def fail_first() -> None:
        raise ValueError("first")

    ended = []
    with pytest.raises(ValueError, match="first"):  # the first call's error before the later one's
        together(fail_first, fail, lambda: (slow(), ended.append("slow")))
    assert ended == ["slow"]  # nothing is left running when the error is raised
    together()
    together(lambda: ended.append("one"))
    assert ended[-1] == "one"


# ---------------------------------------------------------------- the engines
@dataclass
class FakeModel:
    """A model whose warm-up waits for the others' (so only a concurrent warm-up finishes)."""
    barrier: threading.Barrier | None
    log: list[str]
    name: str

    def load(self, _voice: str) -> None:
        pass  # (as a synthesizer: an API voice, nothing to load)

    def warm_up(self, *_voice: str) -> None:
        if self.barrier is not None:
            self.barrier.wait()
        self.log.append(f"{self.name} warm")


@dataclass
class FakeVoices:
    barrier: threading.Barrier
    log: list[str]
    loaded: list[str] = field(default_factory=list)

    def load(self, voice: str) -> None:
        self.barrier.wait()
        self.loaded.append(voice)
        self.log.append("voices loaded")

    def warm_up(self, voice: str) -> None:  # what starts the prepared replies in the background
        self.log.append(f"synthesizer warm_up {voice} after {sorted(self.log)}")


def test_speech_models_and_voices_warm_side_by_side_then_the_synthesizer(monkeypatch):
    log: list[str] = []
    barrier = _meeting(2)
    voices = FakeVoices(barrier, log)
    eng = SimpleNamespace(transcriber=FakeModel(barrier, log, "stt"), synthesizer=voices)
    released = []
    monkeypatch.setattr("assistant.memory.release", lambda: released.append(True))
    engines_mod.warm_up(eng, "alloy")
    assert voices.loaded == ["alloy"]
    assert log[-1] == "synthesizer warm_up alloy after ['stt warm', 'voices loaded']"
    assert released == [True]


def test_a_synthesizer_without_local_voices_is_just_warmed(monkeypatch):
    log: list[str] = []
    eng = SimpleNamespace(transcriber=FakeModel(None, log, "stt"), synthesizer=FakeModel(None, log, "api voice"))
    monkeypatch.setattr("assistant.memory.release", lambda: None)
    engines_mod.warm_up(eng, "alloy")
    assert log == ["stt warm", "api voice warm"]


def test_both_whisper_models_and_silero_warm_at_the_same_time(monkeypatch):
    log: list[str] = []
    barrier = _meeting(3)
    cascade = EnglishFirst(FakeModel(barrier, log, "base"), FakeModel(barrier, log, "tiny.en"))
    monkeypatch.setattr(pieces.speech, "warm_up", lambda: (barrier.wait(), log.append("silero warm")))
    SpeechPieces(cascade, load_config().stt).warm_up()
    assert sorted(log) == ["base warm", "silero warm", "tiny.en warm"]


def test_silero_warm_up_runs_the_model():
    pytest.importorskip("faster_whisper")
    from faster_whisper.vad import get_vad_model

    get_vad_model.cache_clear()
    pieces.speech.warm_up()  # digital silence would never load it
    assert get_vad_model.cache_info().currsize == 1


def test_whisper_warm_up_runs_each_part_once_on_a_short_window(monkeypatch):
    """Features, encoder, language head and decoder all run; no full 30 s window is encoded (it
    costs ~1 s of CPU on base and warms nothing the first turn needs)."""
    calls: list[tuple[str, object]] = []
    model = SimpleNamespace(model=SimpleNamespace(is_multilingual=True))
    monkeypatch.setattr(local, "model_dir", lambda name: name)
    monkeypatch.setattr(local, "load_model", lambda path, *_: calls.append(("load", path)) or model)
    monkeypatch.setattr(local, "release_memory", lambda: calls.append(("release", None)))
    monkeypatch.setattr(whisper, "features", lambda m, s: np.zeros((80, len(s) // 160), np.float32))
    monkeypatch.setattr(whisper, "encode", lambda m, f, frames=whisper.WINDOW_FRAMES: calls.append(("encode", frames)) or "enc")
    monkeypatch.setattr(whisper, "language_probs", lambda m, e: calls.append(("language", e)) or {"en": 1.0})
    monkeypatch.setattr(whisper, "decode", lambda m, f, e, **kw: calls.append(("decode", e)) or [])
    local.WhisperTranscriber(load_config().stt).warm_up()
    assert [c[0] for c in calls] == ["load", "encode", "language", "decode", "release"]
    assert calls[0][1] == "base" and calls[1][1] < whisper.WINDOW_FRAMES


def test_two_whisper_models_load_at_the_same_time_and_each_once(monkeypatch):
    pytest.importorskip("faster_whisper")
    barrier, made = _meeting(2), []

    class FakeWhisperModel:
        def __init__(self, path, **_kw):
            made.append(path)
            barrier.wait()  # a load holding one lock for every model never gets here twice

    monkeypatch.setattr("faster_whisper.WhisperModel", FakeWhisperModel)
    monkeypatch.setattr(local, "_MODELS", {})
    monkeypatch.setattr(local, "_LOADING", {})
    loaded = {}
    together(*[lambda p=p: loaded.setdefault(p, local.load_model(p, "int8", 2)) for p in ("a", "b")])
    assert sorted(made) == ["a", "b"]
    assert local.load_model("a", "int8", 2) is loaded["a"] and len(made) == 2  # cached: not made again


# ---------------------------------------------------------------- started early, awaited before READY
def test_start_warm_up_runs_in_its_own_thread_and_reports_its_end(monkeypatch):
    from concurrent.futures import Future

    monkeypatch.setattr("assistant.memory.release", lambda: None)
    log: list[str] = []
    eng = SimpleNamespace(transcriber=FakeModel(None, log, "stt"), synthesizer=FakeModel(None, log, "voice"))
    assert engines_mod.start_warm_up(eng, "alloy").result(WAIT_S) is None and log == ["stt warm", "voice warm"]
    broken = SimpleNamespace(transcriber=SimpleNamespace(warm_up=lambda: 1 / 0), synthesizer=eng.synthesizer)
    future: Future = engines_mod.start_warm_up(broken, "alloy")
    with pytest.raises(ZeroDivisionError):
        future.result(WAIT_S)


@pytest.mark.parametrize("fails", [False, True])
def test_the_loop_is_listening_only_after_a_warm_up_started_before_it(fails):
    import asyncio
    from concurrent.futures import Future

    from assistant.errors import UserError
    from assistant.events import EventType
    from assistant.loop import Assistant
    from tests.loop.fakes import EventSource, engines

    warming: Future = Future()
    states: list[str] = []
    assistant = Assistant(load_config(), engines([("help", "en")]), turn_based=True, warm_up=warming)
    assistant.subscribe(lambda e: states.append(e.data["state"]) if e.type == EventType.STATE else None)

    async def main() -> None:
        run = asyncio.create_task(assistant.run(lambda: EventSource(1)))
        for _ in range(50):
            await asyncio.sleep(0)
        assert "listening" not in states and not run.done()  # still loading models
        if fails:
            warming.set_exception(UserError("the tiny.en model is not installed"))
        else:
            warming.set_result(None)
        await run

    if fails:
        with pytest.raises(UserError, match="not installed"):
            asyncio.run(main())
        assert "listening" not in states
    else:
        asyncio.run(main())
        assert states[0] == "listening"
