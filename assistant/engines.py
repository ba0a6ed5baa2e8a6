"""The engines one run uses, built from config; the loop only sees their protocols.

Engines are created lazily (a model loads on first use), and the openai speech engines fall back
to the local ones when the API cannot be reached (``service.fallback_local``).
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import numpy as np

from .config import Config
from .errors import ApiError
from .audio.speaker import Speaker
from .images.base import ImageService
from .stt.base import Transcriber, Transcript
from .tts.base import Synthesizer

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Engines:
    transcriber: Transcriber
    synthesizer: Synthesizer
    speaker: Speaker
    image_service: Callable[[], ImageService]  # raises UserError when there is no image backend
    cfg: Config | None = None  # what they were built from (a rebuild keeps what did not change)
    on_fallback: Callable[[str], None] = lambda _what: None  # "API unreachable, using local"


# [audio] keys a running loop cannot apply: the microphone (and its echo canceller) stays open as
# it was. The others apply at once: output_device moves the speaker, earcons are read per tone.
AUDIO_RESTART_KEYS = ("input_device", "mic_rate", "realtime", "echo_cancel", "noise_suppression", "auto_gain")


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

    @property
    def switched(self) -> bool:
        """Has the local engine taken over?"""
        return self._active is not self._primary

    def _switch(self, exc: BaseException) -> Any:
        with self._lock:
            if self._active is self._primary:
                log.warning("%s server failed (%s); using the local engine", self._what, exc)
                self._active = self._fallback_factory()
                self._on_switch(self._what)
            return self._active


class FallbackTranscriber(_Fallback):
    def __init__(self, primary: Transcriber, fallback_factory: Callable[[], Transcriber],
                 on_switch: Callable[[str], None], what: str):
        super().__init__(primary, fallback_factory, on_switch, what)

    def _call(self, run: Callable[[Transcriber], T]) -> T:
        active = self._active
        try:
            return run(active)
        except ApiError as exc:
            if active is not self._primary or not should_fall_back(exc):
                raise
            return run(self._switch(exc))

    def transcribe(self, pcm: Any, **kwargs: Any) -> Transcript:
        return self._call(lambda engine: engine.transcribe(pcm, **kwargs))

    def transcribe_file(self, path: Path, **kwargs: Any) -> Transcript | None:
        return self._call(lambda engine: engine.transcribe_file(path, **kwargs))

    def warm_up(self) -> None:
        self._active.warm_up()  # the API's: nothing; after a switch, the local models

    def listen_ahead(self, pcm: Any) -> None:
        self._active.listen_ahead(pcm)


class FallbackSynthesizer(_Fallback):
    def __init__(self, primary: Synthesizer, fallback_factory: Callable[[], Synthesizer],
                 on_switch: Callable[[str], None], what: str):
        super().__init__(primary, fallback_factory, on_switch, what)

    @property
    def sample_rate(self) -> int:
        return self._active.sample_rate

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        self._active.validate(voice, speed, instructions)

    def load(self, voice: str) -> None:
        self._active.load(voice)

    def warm_up(self, voice: str) -> None:
        self._active.warm_up(voice)

    def synthesize(self, text: str, **kwargs: Any) -> Iterator[np.ndarray]:
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
    from .skills.messages import fixed_replies
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
        phrases = fixed_replies() if cfg.tts.cache_phrases else ()
        synthesizer = make_synthesizer(cfg, phrases=phrases)
        if cfg.service.fallback_local and resolve_backend(cfg.tts.backend, cfg.tts.base_url) in ("openai", "wyoming"):
            synthesizer = FallbackSynthesizer(synthesizer, lambda: make_synthesizer(cfg, "local", phrases), notify, "speech")
    if speaker is None and previous is not None:
        speaker = previous.speaker
        if old is not None and old.audio.output_device != cfg.audio.output_device:
            _move(speaker, cfg.audio.output_device)
    if speaker is None:
        speaker = _default_speaker(cfg)
    if old is not None and old.images == cfg.images:
        image_service = previous.image_service
    else:
        def image_service() -> ImageService:
            from .images.factory import make_image_service

            return make_image_service(cfg)

    return Engines(transcriber, synthesizer, speaker, image_service, cfg, notify)


def _move(speaker: Speaker, device: str) -> None:
    """A reload's new ``audio.output_device``: the sound card speaker plays the next reply there
    (its echo-canceller tap stays); a speaker chosen by the caller (none, a face's) has no device."""
    from .audio.playback import Speaker as DeviceSpeaker

    if isinstance(speaker, DeviceSpeaker):
        speaker.use_device(device or None)


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
    the first command is not slowed by a model load. The speech models and the voices load and
    warm up side by side (``together``); the synthesizer's own ``warm_up`` comes after them, so
    what it starts in the background (the prepared replies) does not compete with them."""
    import time

    from .together import together

    started = time.perf_counter()
    together(engines.transcriber.warm_up, lambda: engines.synthesizer.load(voice))
    engines.synthesizer.warm_up(voice)
    from .memory import release

    release()  # after every warm-up: what the models used only to start is given back
    log.info("models loaded and warmed in %.2f s", time.perf_counter() - started)


def start_warm_up(engines: Engines, voice: str) -> Future[None]:
    """``warm_up`` in a thread of its own, started now; the future ends with it. ``assistant run``
    starts it as soon as the engines exist, so the models load while the loop is still being
    imported and set up; the loop awaits it before READY."""
    future: Future[None] = Future()

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            warm_up(engines, voice)
        except BaseException as exc:  # raised where the loop awaits it
            future.set_exception(exc)
        else:
            future.set_result(None)

    # not a daemon: one killed inside onnxruntime at exit aborts the process
    threading.Thread(target=run, name="warm-up").start()
    return future
