"""Fault-injection harness: the real loop (``Assistant.run``) on the openai engines against the
strict stand-in, one fault per case, with local stand-ins as the fallback engines.

A case is a list of spoken commands; the fault is armed for one of them (it persists through
every retry) and cleared before the next, which must be answered normally. After the run,
``check()`` asserts the invariants of issue 17:
- the loop keeps answering: the turn after the fault is done and its reply was spoken;
- every turn ends with something spoken (its answer, or an explanation of the failure);
- no output file is invalid: every .wav decodes with frames, every image decodes (Pillow load);
- every history line is whole JSON.
The utterance audio is a real recording from the corpus when there is one (else quiet noise);
what was "heard" is scripted on the stand-in, so the cases are fast and deterministic.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import load_config, with_overrides
from assistant.engines import Engines, FallbackSynthesizer, FallbackTranscriber
from assistant.events import Utterance
from assistant.history import HistoryWriter
from assistant.loop import Assistant, CutSource
from tests.standin import StandIn

# the command that exercises each operation, and what must happen first
COMMANDS = {
    "transcription": ([], "speak slower"),
    "speech": ([], "speak slower"),
    "generate": ([], "draw a red fox in the snow"),
    "edit": (["draw a red fox in the snow"], "edit it: put a hat in the top left"),
    "variation": (["draw a red fox in the snow"], "make another version"),
}
AFTER = "what can you do"       # answered normally once the fault is gone


@dataclass
class FakeTranscript:
    text: str
    language: str = "en"


class LocalTranscriber:
    """The local fallback: hears what the stand-in would have answered."""

    def __init__(self, srv: StandIn):
        self.srv = srv
        self.calls = 0

    def transcribe(self, audio: Any, **_kw: Any) -> FakeTranscript:
        self.calls += 1
        return FakeTranscript(self.srv.transcript_text)

    def listen_ahead(self, pcm: Any) -> None:
        pass


class LocalSynthesizer:
    sample_rate = 16000

    def __init__(self):
        self.spoken: list[str] = []

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        pass

    def synthesize(self, text: str, **_kw: Any):
        self.spoken.append(text)
        for _ in range(2):
            yield (np.sin(np.arange(1600) / 5) * 3000).astype(np.int16)


class SpokenLog:
    """Wraps the synthesizer: a text counts as spoken when its audio came out whole."""

    def __init__(self, inner: Any, case: "Case"):
        self.inner, self.case = inner, case

    @property
    def sample_rate(self) -> int:
        return self.inner.sample_rate

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def synthesize(self, text: str, **kw: Any):
        n = 0
        self.case.busy += 1
        try:
            for chunk in self.inner.synthesize(text, **kw):
                n += len(chunk)
                yield chunk
        finally:
            self.case.busy -= 1
            self.case.last_activity = time.monotonic()
        if n:
            self.case.spoken.setdefault(self.case.current, []).append(text)


class PlayAll:
    """A speaker that plays (consumes) everything instantly."""

    def play(self, chunks: Any, sample_rate: int) -> bool:
        for _ in chunks:
            pass
        return True

    def stop(self) -> None:
        pass


@dataclass
class Case:
    srv: StandIn
    tmp: Path
    operation: str
    kind: str | int
    fault_options: dict = field(default_factory=dict)
    fallback: bool = True
    spoken: dict[int, list[str]] = field(default_factory=dict)
    current: int = -1
    records: list[dict] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    busy: int = 0                  # replies being synthesized right now
    last_activity: float = 0.0

    @property
    def commands(self) -> list[str]:
        before, command = COMMANDS[self.operation]
        return [*before, command, AFTER]

    @property
    def fault_turn(self) -> int:
        return len(COMMANDS[self.operation][0])

    def config(self):
        service = {"base_url": self.srv.base_url, "timeout": 3.0, "max_retries": 1}
        # dall-e-2 at 256x256 draws, edits (with a region) and varies: small images, fast cases
        images = {**service, "backend": "openai", "output_dir": str(self.tmp / "images"),
                  "model": "dall-e-2", "size": "256x256"}
        return with_overrides(load_config(), stt={**service, "backend": "openai"},
                              tts={**service, "backend": "openai"}, images=images,
                              service={"fallback_local": self.fallback})

    def engines(self, cfg, notice) -> tuple[Engines, LocalTranscriber, LocalSynthesizer]:
        from assistant.images.factory import make_image_service
        from assistant.stt.openai import OpenAITranscriber
        from assistant.tts.openai import OpenAISynthesizer

        local_stt, local_tts = LocalTranscriber(self.srv), LocalSynthesizer()
        transcriber: Any = OpenAITranscriber(cfg.stt)
        synthesizer: Any = OpenAISynthesizer(cfg.tts)
        if self.fallback:
            transcriber = FallbackTranscriber(transcriber, lambda: local_stt, notice, "speech recognition")
            synthesizer = FallbackSynthesizer(synthesizer, lambda: local_tts, notice, "speech")
        return (Engines(transcriber, SpokenLog(synthesizer, self), PlayAll(), lambda: make_image_service(cfg)),
                local_stt, local_tts)

    def run(self, audio: np.ndarray) -> "Case":
        cfg = self.config()
        history = self.tmp / "history.jsonl"
        holder: dict[str, Any] = {}

        def notice(what: str) -> None:
            self.fallbacks.append(what)
            holder["assistant"].fallback_notice(what)

        engines, _stt, local_tts = self.engines(cfg, notice)
        out = self.tmp / "out"
        out.mkdir(exist_ok=True)
        assistant = Assistant(cfg, engines, history=HistoryWriter([history]), turn_based=True, output_dir=out)
        holder["assistant"] = assistant
        assistant._local_tts = SpokenLog(local_tts, self)  # the last-resort voice for an explanation
        asyncio.run(assistant.run(lambda: _Source(self, audio, history)))
        self.lines = history.read_text().splitlines() if history.exists() else []
        self.records = [json.loads(line) for line in self.lines]
        return self

    def arm(self, index: int) -> None:
        """Before utterance ``index``: what it is heard as, and the fault when it is the one."""
        self.current = index
        with self.srv._lock:
            self.srv._scripts.clear()      # a fault left over from the turn before
        self.srv.transcript_text = self.commands[index]
        if index == self.fault_turn:
            self.srv.fault(self.operation, self.kind, times=50, **self.fault_options)

    # ------------------------------------------------------------------ invariants
    def check(self) -> None:
        for line in self.lines:
            json.loads(line)                      # whole JSON (run() parsed them too)
        turns = sorted(r["turn"] for r in self.records)
        assert turns == list(range(1, len(self.commands) + 1)), (turns, self.records)
        for r in self.records:   # an exception the code did not expect is a bug, even if survived
            assert not r["reason"].startswith(("TypeError", "AttributeError", "KeyError", "NameError",
                                               "IndexError", "ValueError")), r
        last = max(self.records, key=lambda r: r["turn"])
        assert last["result"] == "done" and last["intent"] != "unknown", last
        for i in range(len(self.commands)):
            assert self.spoken.get(i), f"turn {i + 1} ({self.commands[i]!r}) ended with nothing said: {self.records}"
        assert AFTER and self.spoken[len(self.commands) - 1], "the turn after the fault was not answered"
        check_outputs(self.tmp)
        assert self.srv.violations == [], self.srv.violations


class _Source(CutSource):
    """Pre-cut utterances; each waits until the turn before is in the history."""

    def __init__(self, case: Case, audio: np.ndarray, history: Path):
        self.case, self.audio, self.history = case, audio, history

    async def events(self):
        for i in range(len(self.case.commands)):
            await self._wait_for(i)
            self.case.arm(i)
            start = 4.0 * i + 0.5
            yield Utterance(start, start + len(self.audio) / 16000, self.audio, 16000, start - 0.3)
        await self._wait_for(len(self.case.commands))

    async def _wait_for(self, done: int) -> None:
        for _ in range(3000):                      # 30 s at most: a stuck turn fails the case
            lines = self.history.read_text().splitlines() if self.history.exists() else []
            quiet = self.case.busy == 0 and time.monotonic() - self.case.last_activity > 0.05
            if len(lines) >= done and quiet:       # the turn and whatever it said are over
                await asyncio.sleep(0.03)
                if self.case.busy == 0:
                    return
            await asyncio.sleep(0.01)
        raise AssertionError(f"turn {done} never finished")


def check_outputs(root: Path) -> None:
    """Every audio file decodes with frames, every image decodes whole."""
    import soundfile as sf
    from PIL import Image

    for path in root.rglob("*"):
        if path.suffix.lower() in (".wav", ".flac", ".ogg"):
            info = sf.info(str(path))
            assert info.frames > 0, path
        elif path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
            with Image.open(path) as img:
                img.load()
                assert min(img.size) >= 16, path


def utterance_audio() -> np.ndarray:
    """A short real recording from the corpus, else quiet noise (what is heard is scripted)."""
    try:
        from tests.corpus import select

        clips = [c for c in select(language="en", with_text=True) if 0.5 < c.duration_s < 4.0]
        if clips:
            return clips[0].pcm()[: 16000 * 3]
    except Exception:  # noqa: BLE001 - no corpus: the harness still runs on noise
        pass
    rng = np.random.default_rng(0)
    return (rng.standard_normal(16000) * 300).astype(np.int16)


