"""The one speech-to-text interface every backend implements, and its frozen result."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Mapping, Protocol, Union, runtime_checkable

import numpy as np

Task = Literal["transcribe", "translate"]
Audio = Union[np.ndarray, str, "os.PathLike[str]"]
FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None = None  # ISO-639-1 code ("en", "ko"); None when unknown
    language_probability: float | None = None
    duration: float | None = None  # seconds of input audio
    segments: tuple[Segment, ...] = field(default=())
    task: Task = "transcribe"

    def to(self, fmt: str) -> str:
        """Render as json | text | srt | vtt | verbose_json (the API's shapes)."""
        from .formats import render

        return render(self, fmt)

    def shifted(self, offset: float) -> "Transcript":
        """The same transcript with every segment moved ``offset`` seconds later."""
        segs = tuple(replace(s, start=s.start + offset, end=s.end + offset) for s in self.segments)
        return replace(self, segments=segs)

    def __repr__(self) -> str:
        prob = "" if self.language_probability is None else f" ({self.language_probability:.2f})"
        dur = "" if self.duration is None else f", {self.duration:.1f}s"
        n = len(self.segments)
        return f"Transcript({self.text!r}, language={self.language!r}{prob}{dur}, {n} segment{'' if n == 1 else 's'})"


Prior = Mapping[str, float]  # what the caller expects: {"en": 0.4, "ko": 0.6} (languages.prior)


@runtime_checkable
class Transcriber(Protocol):
    """The live path: int16 mono 16 kHz samples in, a Transcript out. Files go through
    ``files.FileInput``, which every engine from ``make_transcriber`` is wrapped in."""

    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Prior | None = None) -> Transcript:
        """``prior`` only decides when the speech's own evidence is ambiguous; engines that do not
        detect the language themselves ignore it."""
        ...

    def transcribe_file(self, path: Path, *, task: Task = "transcribe", language: str | None = None,
                        prompt: str | None = None, want_timestamps: bool = False) -> Transcript | None:
        """The file as it is, for an engine that takes files (an API upload); None: decode it
        to samples first (what ``FileInput`` does)."""
        ...

    def warm_up(self) -> None:
        """Load what the first utterance would otherwise wait for (no-op where nothing loads)."""
        ...

    def listen_ahead(self, pcm: np.ndarray) -> None:
        """The utterance so far, while the user still speaks (live input, a worker thread): work
        that ``transcribe`` of the whole utterance can reuse, done on idle cores (the local
        engine: the language evidence). A no-op where there is none; never changes the text."""
        ...
