"""English first: a short evidence pass on the multilingual model decides the language; speech it
is sure is English is decoded by the English-only model (tiny.en, ~2x faster than base and as
accurate on English, bench/stt.py), everything else by the multilingual one. Translation, a given
language and unsure evidence go straight to the multilingual transcriber."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol

import numpy as np

from .base import Task, Transcript

if TYPE_CHECKING:
    from .local import Guess, Route

DETECT_CONFIDENCE = 0.9  # the short pass's posterior needed to decide without a full window


class Detecting(Protocol):
    """The multilingual side: ``local.WhisperTranscriber``."""

    last_route: Route | None

    def check(self, task: Task, language: str | None) -> str | None: ...
    def guess_language(self, pcm: np.ndarray, prior: Mapping[str, float] | None) -> Guess | None: ...
    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript: ...
    def warm_up(self) -> None: ...


class EnglishFirst:
    def __init__(self, general: Detecting, english: Detecting):
        self.general = general
        self.english = english
        self.last_route: Route | None = None

    def check(self, task: Task, language: str | None) -> str | None:
        return self.general.check(task, language)

    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        guess = None
        if language is None and task == "transcribe":
            guess = self.general.guess_language(pcm, prior)
        if guess is None or guess.probability < DETECT_CONFIDENCE:
            t = self.general.transcribe(pcm, task=task, language=language, prompt=prompt,
                                        want_timestamps=want_timestamps, prior=prior)
            spent = guess.encodes if guess is not None else 0.0
            self.last_route = replace(self.general.last_route, encodes=self.general.last_route.encodes + spent)
            return t
        side = self.english if guess.language == "en" else self.general
        t = side.transcribe(pcm, task=task, language=guess.language, prompt=prompt, want_timestamps=want_timestamps)
        route = side.last_route
        self.last_route = replace(route, probability=guess.probability, evidence="short",
                                  encodes=route.encodes + guess.encodes)
        return replace(t, language_probability=guess.probability)

    def transcribe_file(self, path: Path, **_options: Any) -> None:
        return None  # decoded to samples by files.FileInput

    def warm_up(self) -> None:
        from ..together import together

        together(self.general.warm_up, self.english.warm_up)  # base's load overlaps tiny.en's
