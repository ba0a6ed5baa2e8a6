"""The local engine's outer layer: Whisper never sees audio without speech (it would "hear"
"you" or "Thank you." in it), inputs over one window are cut at speech pauses into pieces of at
most one window each, and the language heard last is the prior for the next utterance."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol

import numpy as np

from ..audio.format import SAMPLE_RATE
from ..config import SttConfig
from . import languages, speech
from .audio import as_pcm
from .base import Segment, Task, Transcript

if TYPE_CHECKING:
    from .local import Route

WINDOW_SAMPLES = 30 * SAMPLE_RATE


class Window(Protocol):
    """A transcriber of at most one Whisper window (``local.WhisperTranscriber``, ``cascade.EnglishFirst``)."""

    last_route: Route | None

    def check(self, task: Task, language: str | None) -> str | None: ...
    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript: ...
    def warm_up(self) -> None: ...
    def listen_ahead(self, pcm: np.ndarray) -> None: ...


class SpeechPieces:
    def __init__(self, window: Window, cfg: SttConfig, *, vad_filter: bool = False):
        self.window = window
        self.cfg = cfg
        self.vad_filter = vad_filter  # cut whole files at speech pauses even when they are short
        self.last_language: str | None = None  # the last heard language: the default prior
        self.last_route: Route | None = None  # how the last utterance was heard

    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        """``prior``: what the caller expects, e.g. ``languages.prior(cfg.languages, last="ko")``
        (the session's last language or the wake word's); by default the last language heard here."""
        lang = self.window.check(task, language)  # a bad setting is an error even for silent input
        pcm = as_pcm(pcm)
        if prior is None:
            prior = languages.prior(self.cfg.languages, last=self.last_language)
        if len(pcm) > WINDOW_SAMPLES or self.vad_filter:
            t = self._long(pcm, task, lang, prompt, dict(prior))
        elif not speech.has_speech(pcm):
            from .local import Route

            self.last_route = Route(None, None, "no-speech", "", 0.0)
            t = Transcript("", None, None, len(pcm) / SAMPLE_RATE, (), task)
        else:
            t = self.window.transcribe(pcm, task=task, language=lang, prompt=prompt, prior=dict(prior))
            self.last_route = self.window.last_route
        if t.text and t.language:
            self.last_language = t.language
        return t

    def _long(self, pcm: np.ndarray, task: Task, lang: str | None, prompt: str | None,
              prior: dict[str, float]) -> Transcript:
        """Silero cuts the input at pauses, block by block (bounded memory); each piece is one
        window, and silence between pieces is never decoded."""
        from .local import release_memory

        duration = len(pcm) / SAMPLE_RATE
        segments: list[Segment] = []
        spoken: dict[str, float] = {}
        probs: dict[str, float] = {}
        for start, end in speech.pieces(pcm):
            part = self.window.transcribe(pcm[start:end], task=task, language=lang, prompt=prompt, prior=prior)
            part = part.shifted(start / SAMPLE_RATE)
            self.last_route = self.window.last_route
            segments.extend(part.segments)
            if part.text and part.language:
                spoken[part.language] = spoken.get(part.language, 0.0) + (end - start)
                probs[part.language] = part.language_probability or 0.0
                if lang is None and self.cfg.languages:  # the next piece expects this language
                    prior = languages.prior(self.cfg.languages, last=part.language)
        best = max(spoken, key=spoken.__getitem__) if spoken else lang
        release_memory()
        text = " ".join(s.text for s in segments if s.text)
        return Transcript(text, best, probs.get(best) if best else None, duration, tuple(segments), task)

    def transcribe_file(self, path: Path, **_options: Any) -> None:
        return None  # decoded to samples by files.FileInput

    def warm_up(self) -> None:
        from ..together import together

        together(self.window.warm_up, speech.warm_up)

    def listen_ahead(self, pcm: np.ndarray) -> None:
        """Only what ``transcribe`` would hear as one window (longer inputs are cut in pieces)."""
        pcm = as_pcm(pcm)
        if len(pcm) <= WINDOW_SAMPLES and not self.vad_filter:
            self.window.listen_ahead(pcm)
