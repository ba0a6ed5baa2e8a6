"""English first: a short evidence pass on the multilingual model decides the language; speech it
is sure is English is decoded by the English-only model (tiny.en, ~2x faster than base and as
accurate on English, bench/stt.py), everything else by the multilingual one. Translation, a given
language and unsure evidence go straight to the multilingual transcriber.

``parallel`` (``stt.english_parallel``): the tiny.en try runs in a second thread while the evidence
pass runs, when the prior leans to English (the session's last turn was English). Its text
is used only when the evidence then says English; tiny.en's own confidence never decides.

Early evidence (``listen_ahead``, ``stt.early_evidence_s``): while the user is still speaking, the
loop hands over the utterance so far; its evidence pass runs then, on idle cores. When the
utterance is cut, that evidence is reused if its audio is the start of the utterance's, it covers
at least ``EARLY_COVERAGE`` of it and, with the prior known now, it is sure (``EARLY_CONFIDENCE``):
an English turn then runs only tiny.en after the end of speech, on both cores. Otherwise the
utterance is heard as without it."""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol

import numpy as np

from .base import Task, Transcript
from .cancel import Either, cancellable, current

if TYPE_CHECKING:
    from .local import Evidence, Guess, Route

DETECT_CONFIDENCE = 0.9  # the short pass's posterior needed to decide without a full window
# Early evidence (part of the utterance) decides only above a higher bar: on the corpus, Korean's
# highest English posterior from an early pass was 0.88 (a list of keywords, the prior leaning to
# English), English's early passes were mostly >= 0.99 (bench: tests/stt/test_early_evidence.py).
EARLY_CONFIDENCE = 0.97
EARLY_COVERAGE = 0.5  # early evidence must have heard at least this share of the utterance's audio


class Detecting(Protocol):
    """The multilingual side: ``local.WhisperTranscriber``."""

    last_route: Route | None

    def check(self, task: Task, language: str | None) -> str | None: ...
    def guess_language(self, pcm: np.ndarray, prior: Mapping[str, float] | None) -> Guess | None: ...
    def language_evidence(self, pcm: np.ndarray) -> Evidence | None: ...
    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript: ...
    def warm_up(self) -> None: ...


class EnglishFirst:
    def __init__(self, general: Detecting, english: Detecting, *, parallel: bool = False):
        self.general = general
        self.english = english
        self.parallel = parallel
        self.last_route: Route | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: tuple[np.ndarray, Evidence] | None = None  # the last early evidence and its audio
        self.early_used = 0  # utterances decided on early evidence (bench/stt.py, tests)

    def listen_ahead(self, pcm: np.ndarray) -> None:
        """The utterance so far (the user still speaking): its language evidence, kept for
        ``transcribe`` when the whole utterance arrives."""
        found = self.general.language_evidence(pcm)
        if found is not None:
            self._ahead = (pcm, found)

    def _early_guess(self, pcm: np.ndarray, prior: Mapping[str, float] | None) -> Guess | None:
        """The early evidence, if it was heard on the start of ``pcm``, covers enough of it and is
        sure with ``prior``; else None (heard as without it)."""
        ahead = self._ahead
        if ahead is None:
            return None
        audio, found = ahead
        n = len(audio)
        if n > len(pcm) or n < EARLY_COVERAGE * len(pcm) or not np.array_equal(pcm[:n], audio):
            return None
        guess = found.guess(prior)
        return guess if guess.probability >= EARLY_CONFIDENCE else None

    def check(self, task: Task, language: str | None) -> str | None:
        return self.general.check(task, language)

    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        guess, trying, evidence = None, None, "short"
        if language is None and task == "transcribe":
            guess = self._early_guess(pcm, prior)
            if guess is not None:
                evidence = "early"
                self.early_used += 1
            else:
                if self.parallel and _leans_english(prior):
                    trying = self._try_english(pcm, prompt, want_timestamps)
                guess = self.general.guess_language(pcm, prior)
        if trying is not None and (guess is None or guess.probability < DETECT_CONFIDENCE or guess.language != "en"):
            future, stop = trying
            stop.set()  # not English after all: that try stops at its next stage (its encoder pass
            future.exception()  # cannot be cut short); wait for it there, as the cores are shared
            trying = None
        if guess is None or guess.probability < DETECT_CONFIDENCE:
            t = self.general.transcribe(pcm, task=task, language=language, prompt=prompt,
                                        want_timestamps=want_timestamps, prior=prior)
            spent = guess.encodes if guess is not None else 0.0
            self.last_route = replace(self.general.last_route, encodes=self.general.last_route.encodes + spent)
            return t
        if trying is not None:
            t, route = trying[0].result()
        else:
            side = self.english if guess.language == "en" else self.general
            t = side.transcribe(pcm, task=task, language=guess.language, prompt=prompt, want_timestamps=want_timestamps)
            route = side.last_route
        self.last_route = replace(route, probability=guess.probability, evidence=evidence,
                                  encodes=route.encodes + guess.encodes)
        return replace(t, language_probability=guess.probability)

    def _try_english(self, pcm: np.ndarray, prompt: str | None,
                     want_timestamps: bool) -> tuple[Future, threading.Event]:
        """tiny.en on ``pcm`` in the second thread: the future of (transcript, route), and the
        event that stops it between stages (so does the caller's own, e.g. a stale speculation's)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stt-english")
        stop = threading.Event()
        watch = Either(stop, current())

        def run() -> tuple[Transcript, Route | None]:
            with cancellable(watch):
                t = self.english.transcribe(pcm, language="en", prompt=prompt, want_timestamps=want_timestamps)
            return t, self.english.last_route

        return self._pool.submit(run), stop

    def transcribe_file(self, path: Path, **_options: Any) -> None:
        return None  # decoded to samples by files.FileInput

    def warm_up(self) -> None:
        from ..together import together

        together(self.general.warm_up, self.english.warm_up)  # base's load overlaps tiny.en's


def _leans_english(prior: Mapping[str, float] | None) -> bool:
    """Is English more likely than any other language before hearing (the session's last turn was
    English)? With no such lean the try would as often be wasted work on the shared cores."""
    if not prior:
        return False
    return all(prior.get("en", 0.0) > p for code, p in prior.items() if code != "en")
