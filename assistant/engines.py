"""The engines one run uses, built from config; the loop only sees their protocols.

Engines are created lazily (a model loads on first use), and the openai speech engines fall back
to the local ones when the API cannot be reached (``service.fallback_local``).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

import numpy as np

from .config import Config
from .errors import ApiError
from .stt.base import Transcriber
from .tts.base import Synthesizer

log = logging.getLogger(__name__)


class Speaker(Protocol):
    """Plays int16 mono chunk streams; ``stop()`` (any thread) cuts the one playing."""

    def play(self, chunks: Iterable[np.ndarray], sample_rate: int) -> bool: ...
    def stop(self) -> None: ...


@dataclass
class Engines:
    transcriber: Transcriber
    synthesizer: Synthesizer
    speaker: Speaker
    image_service: Callable[[], Any]
    cfg: Config | None = None  # what they were built from (a rebuild keeps what did not change)
    on_fallback: Callable[[str], None] = lambda _what: None  # "API unreachable, using local"


# [audio] keys a running loop cannot apply (the microphone stays open as it was).
AUDIO_RESTART_KEYS = ("input_device", "mic_rate", "realtime")


def is_unreachable(exc: BaseException) -> bool:
    """An API error meaning the server could not be reached at all (no HTTP status)."""
    return isinstance(exc, ApiError) and exc.status is None


def should_fall_back(exc: BaseException, speaking: bool = False) -> bool:
    """Switch to the local engine: the API is unreachable, cut its answer off, sent garbage, has
    no such model (404) or still answers 408/409/429/5xx after the SDK's own retries. Speech
    output also falls back on any other API error but a refusal: silence is the worst answer."""
    from .errors import PolicyError
    from .openai_client import is_transient

    if not isinstance(exc, ApiError) or isinstance(exc, PolicyError):
        return False
    return speaking or is_transient(exc) or exc.status == 404


class _Fallback:
    """Calls ``primary``; on an unreachable API switches to ``fallback`` for good and reports once."""

    def __init__(self, primary: Any, fallback_factory: Callable[[], Any], on_switch: Callable[[str], None], what: str):
        self._primary = primary
        self._fallback_factory = fallback_factory
        self._on_switch = on_switch
        self._what = what
        self._active = primary
        self._lock = threading.Lock()

    def _switch(self, exc: BaseException) -> Any:
        with self._lock:
            if self._active is self._primary:
                log.warning("%s server failed (%s); using the local engine", self._what, exc)
                self._active = self._fallback_factory()
                self._on_switch(self._what)
            return self._active

    def __getattr__(self, name: str) -> Any:
        return getattr(self._active, name)


class FallbackTranscriber(_Fallback):
    def transcribe(self, audio: Any, **kwargs: Any) -> Any:
        active = self._active
        try:
            return active.transcribe(audio, **kwargs)
        except ApiError as exc:
            if active is not self._primary or not should_fall_back(exc):
                raise
            return self._switch(exc).transcribe(audio, **kwargs)


class FallbackSynthesizer(_Fallback):
    @property
    def sample_rate(self) -> int:
        return self._active.sample_rate

    def synthesize(self, text: str, **kwargs: Any):
        active = self._active
        try:
            iterator = iter(active.synthesize(text, **kwargs))
            first = next(iterator, None)
        except ApiError as exc:
            if active is not self._primary or not should_fall_back(exc, speaking=True):
                raise
            yield from self._switch(exc).synthesize(text, **kwargs)
            return
        if first is not None:
            yield first
            yield from iterator


def build_engines(cfg: Config, previous: Engines | None = None, *, speaker: Speaker | None = None,
                  on_fallback: Callable[[str], None] | None = None) -> Engines:
    """The engines for ``cfg``. With ``previous`` (a SIGHUP reload) the engines whose section did
    not change are kept, and so are the fallback notice and a speaker chosen by the caller."""
    from .secrets import resolve_backend
    from .stt.factory import make_transcriber
    from .tts.factory import make_synthesizer

    old = previous.cfg if previous is not None else None
    notify = on_fallback or (previous.on_fallback if previous is not None else (lambda _w: None))
    same_service = old is not None and old.service == cfg.service

    if same_service and old.stt == cfg.stt:
        transcriber = previous.transcriber
    else:
        transcriber = make_transcriber(cfg)
        if cfg.service.fallback_local and resolve_backend(cfg.stt.backend, cfg.stt.base_url) in ("openai", "wyoming"):
            transcriber = FallbackTranscriber(transcriber, lambda: make_transcriber(cfg, "local"), notify, "speech recognition")
    if same_service and old.tts == cfg.tts:
        synthesizer = previous.synthesizer
    else:
        synthesizer = make_synthesizer(cfg)
        if cfg.service.fallback_local and resolve_backend(cfg.tts.backend, cfg.tts.base_url) in ("openai", "wyoming"):
            synthesizer = FallbackSynthesizer(synthesizer, lambda: make_synthesizer(cfg, "local"), notify, "speech")
    if speaker is None and previous is not None:
        speaker = previous.speaker
        if old is not None and old.audio.output_device != cfg.audio.output_device and type(speaker).__name__ == "Speaker":
            speaker = _default_speaker(cfg)
    if speaker is None:
        speaker = _default_speaker(cfg)
    if old is not None and old.images == cfg.images:
        image_service = previous.image_service
    else:
        def image_service() -> Any:
            from .images.factory import make_image_service

            return make_image_service(cfg)

    return Engines(transcriber, synthesizer, speaker, image_service, cfg, notify)


def _default_speaker(cfg: Config) -> Speaker:
    from .audio.playback import NullSpeaker, Speaker as DeviceSpeaker

    ok, why = DeviceSpeaker.available()
    if ok:
        return DeviceSpeaker(cfg.audio.output_device or None)
    log.warning("no audio output (%s); replies are not played", why)
    return NullSpeaker()


def audio_needs_restart(old: Config, new: Config) -> list[str]:
    """The changed ``[audio]`` keys a reload cannot apply."""
    return [f"audio.{k}" for k in AUDIO_RESTART_KEYS if getattr(old.audio, k) != getattr(new.audio, k)]


def warm_up(engines: Engines, voice: str) -> None:
    """Load models before the first utterance (blocking): READY=1 is sent only after this, and
    the first command is not slowed by a model load."""
    transcriber = getattr(engines.transcriber, "_active", engines.transcriber)
    preload = getattr(transcriber, "warm_up", None)
    if callable(preload):
        preload()
    synthesizer = getattr(engines.synthesizer, "_active", engines.synthesizer)
    if type(synthesizer).__name__ == "LocalSynthesizer":
        for language in ("en", "ko"):
            for _chunk in synthesizer.synthesize("OK." if language == "en" else "네.", voice=voice, language=language):
                pass
    from .memory import release

    release()  # after every warm-up: what the models used only to start is given back
