"""Deterministic fake engines and sources for loop tests (no sleeps, no models, no devices)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from assistant.engines import Engines
from assistant.errors import UserError
from assistant.events import Utterance
from assistant.loop import CutSource


@dataclass(frozen=True)
class FakeTranscript:
    text: str
    language: str = "en"


class FakeTranscriber:
    """Utterance audio carries an index into ``texts``; translate returns ``translations``."""

    def __init__(self, texts: list[tuple[str, str]], translations: dict[str, str] | None = None):
        self.texts = texts
        self.translations = translations or {}
        self.calls: list[dict[str, Any]] = []
        self.ahead: list[int] = []  # samples of each utterance so far it was given (listen_ahead)

    def transcribe(self, audio, *, task="transcribe", language=None, prompt=None, want_timestamps=False, prior=None):
        text, lang = self.texts[int(audio[0])]
        self.calls.append({"text": text, "task": task, "language": language, "prior": prior})
        if task == "translate":
            return FakeTranscript(self.translations.get(text, text), "en")
        return FakeTranscript(text, lang)

    def listen_ahead(self, pcm):
        self.ahead.append(len(pcm))


class FakeSynthesizer:
    sample_rate = 16000

    def __init__(self):
        self.spoken: list[tuple[str, str, float, str | None]] = []

    def synthesize(self, text, *, voice, speed=1.0, language=None, instructions=None):
        self.spoken.append((text, voice, speed, language))
        for _ in range(3):
            yield np.full(160, 1000, np.int16)

    def validate(self, voice, speed, instructions):
        if voice not in ("alloy", "onyx", "nova", "echo", "fable", "shimmer"):
            raise UserError(f"unknown voice {voice}")


class FakeSpeaker:
    """Records what it played; with ``block=True`` play() waits until stop() (barge-in tests):
    the reply being cut blocks, the replies after the cut play at once."""

    audible = False

    def __init__(self, block: bool = False):
        self.block = block
        self.started = threading.Event()
        self._stop = threading.Event()
        self.played: list[int] = []
        self.stopped = 0

    def play(self, chunks, sample_rate) -> bool:
        self._stop.clear()
        n = 0
        for _ in chunks:
            n += 1
            self.started.set()
            if self.block:
                self._stop.wait(10)
            if self._stop.is_set():
                self.played.append(n)
                return False
        self.played.append(n)
        return True

    def stop(self) -> None:
        self.stopped += 1
        self.block = False
        self._stop.set()

    def add_tap(self, tap) -> None:
        pass


@dataclass(frozen=True)
class FakeImageResult:
    paths: tuple[Path, ...]
    prompt: str
    model: str | None = None
    size: str | None = None


class FakeImageService:
    def __init__(self, out: Path, gate: threading.Event | None = None):
        self.out = out
        self.gate = gate
        self.calls: list[tuple[str, str, dict]] = []
        self._n = 0

    def last_image(self):
        return self.out / "img-1.png" if self._n else None

    def variation_supported(self):
        return False

    def spoken_options(self, spoken):
        return {}

    def variation(self, image):
        return self._make("variation", "", {})

    def generate(self, prompt, *, on_progress=None, **options):
        return self._make("generate", prompt, options)

    def edit(self, image, prompt, *, region=None, on_progress=None, **options):
        return self._make("edit", prompt, {"region": region, **options})

    def _make(self, kind, prompt, options):
        if self.gate is not None:
            self.gate.wait(10)
        self.calls.append((kind, prompt, options))
        self._n += 1
        path = self.out / f"img-{self._n}.png"
        path.write_bytes(b"\x89PNG fake")
        return FakeImageResult((path,), prompt)


def offline_images():
    raise UserError("drawing needs OPENAI_API_KEY or images.base_url")


def engines(texts, *, translations=None, speaker=None, images: Callable[[], Any] = offline_images) -> Engines:
    return Engines(FakeTranscriber(texts, translations), FakeSynthesizer(), speaker or FakeSpeaker(), images)


class EventSource(CutSource):
    """Yields one Utterance per text, 2 s apart; ``between`` may await something between them."""

    def __init__(self, count: int, between: Callable[[int], Any] | None = None):
        self.count = count
        self.between = between

    async def events(self):
        for i in range(self.count):
            if self.between is not None and i:
                await self.between(i)
            start = 2.0 * i + 0.5
            yield Utterance(start, start + 1.0, np.array([i] * 10, np.int16), 16000, start - 0.3)
