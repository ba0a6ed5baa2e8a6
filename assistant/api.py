"""The assistant as a Python library: thin top-level functions for scripts and notebooks.

    >>> from assistant import api
    >>> t = api.transcribe("meeting.wav", language="ko")
    >>> t                      # Transcript('…', language='ko' (0.98), 12.3s, 4 segments)
    >>> print(t.to("srt"))
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Config
    from .stt.base import Transcript
    from .tts.base import Speech


def _config(config: "Config | str | None") -> "Config":
    from .config import Config, load_config

    return config if isinstance(config, Config) else load_config(config)


def transcribe(audio: Any, *, task: str = "transcribe", language: str | None = None,
               prompt: str | None = None, timestamps: bool = False, backend: str | None = None,
               model: str | None = None, config: "Config | str | None" = None) -> "Transcript":
    """Transcribe (or translate to English, ``task="translate"``) a file path or an int16 mono
    16 kHz numpy array. ``backend`` is local | openai (default: stt.backend); ``model`` overrides
    stt.model (openai) or stt.local_model (local); ``timestamps`` asks for segment times."""
    from .config import with_overrides
    from .secrets import resolve_backend
    from .stt.factory import make_transcriber

    cfg = _config(config)
    chosen = resolve_backend(backend or cfg.stt.backend, cfg.stt.base_url)
    if model:
        cfg = with_overrides(cfg, stt={"local_model" if chosen == "local" else "model": model})
    engine = make_transcriber(cfg, chosen)
    return engine.transcribe(audio, task=task, language=language, prompt=prompt,  # type: ignore[arg-type]
                             want_timestamps=timestamps)


def say(text: str, *, voice: str | None = None, model: str | None = None, speed: float | None = None,
        instructions: str | None = None, language: str | None = None, backend: str | None = None,
        play: bool = False, config: "Config | str | None" = None) -> "Speech":
    """Text -> a Speech (``.save(path)``, ``.play()``; shows an inline player in Jupyter).
    ``backend`` is local | openai (default: tts.backend); other options default to the [tts] config.
    ``play=True`` also plays it while it is being synthesized (needs PortAudio)."""
    from .tts.speak import plan, render

    p = plan(_config(config), text, voice=voice, model=model, speed=speed, instructions=instructions,
             language=language, backend=backend)
    speaker = None
    if play:
        from .audio.playback import Speaker
        from .errors import UserError

        ok, why = Speaker.available()
        if not ok:
            raise UserError(why)
        speaker = Speaker()
    return render(p, speaker)[0]
