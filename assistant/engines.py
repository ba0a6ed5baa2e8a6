"""The engines one run uses, built from config; the loop only sees their protocols.

Engines are created lazily (a model loads on first use), and the openai speech engines fall back
to the local ones when the API cannot be reached (``service.fallback_local``).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from .config import Config
from .errors import ApiError

log = logging.getLogger(__name__)


@dataclass
class Engines:
    transcriber: Any
    synthesizer: Any
    speaker: Any
    image_service: Callable[[], Any]


def is_unreachable(exc: BaseException) -> bool:
    """An API error meaning the server could not be reached at all (no HTTP status)."""
    return isinstance(exc, ApiError) and exc.status is None


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
                log.warning("%s server unreachable (%s); using the local engine", self._what, exc)
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
            if active is not self._primary or not is_unreachable(exc):
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
            if active is not self._primary or not is_unreachable(exc):
                raise
            yield from self._switch(exc).synthesize(text, **kwargs)
            return
        if first is not None:
            yield first
            yield from iterator


def build_engines(cfg: Config, *, speaker: Any = None, on_fallback: Callable[[str], None] = lambda _w: None) -> Engines:
    from .secrets import resolve_backend
    from .stt.factory import make_transcriber
    from .tts.factory import make_synthesizer

    transcriber = make_transcriber(cfg)
    synthesizer = make_synthesizer(cfg)
    if cfg.service.fallback_local:
        if resolve_backend(cfg.stt.backend, cfg.stt.base_url) in ("openai", "wyoming"):
            transcriber = FallbackTranscriber(transcriber, lambda: make_transcriber(cfg, "local"), on_fallback, "speech recognition")
        if resolve_backend(cfg.tts.backend, cfg.tts.base_url) in ("openai", "wyoming"):
            synthesizer = FallbackSynthesizer(synthesizer, lambda: make_synthesizer(cfg, "local"), on_fallback, "speech")
    if speaker is None:
        from .audio.playback import NullSpeaker, Speaker

        ok, why = Speaker.available()
        if ok:
            speaker = Speaker(cfg.audio.output_device or None)
        else:
            log.warning("no audio output (%s); replies are not played", why)
            speaker = NullSpeaker()
    def image_service() -> Any:
        from .images.factory import make_image_service

        return make_image_service(cfg)

    return Engines(transcriber, synthesizer, speaker, image_service)


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
