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
    from .images.service import ImageResult, Preparation
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


def draw(prompt: str, *, model: str | None = None, size: str | None = None, quality: str | None = None,
         style: str | None = None, n: int = 1, output_format: str | None = None, background: str | None = None,
         out: str | None = None, config: "Config | str | None" = None) -> "ImageResult":
    """Prompt -> saved image(s): an ImageResult (``.paths``, ``.images`` as PIL; inline in Jupyter).
    Options default to the [images] config; one the model does not take raises UserError."""
    from .images.factory import make_image_service

    service = make_image_service(_config(config))
    return service.generate(prompt, model=model, size=size, quality=quality, style=style, n=n,
                            output_format=output_format, background=background, out=out)


def edit(image: Any, prompt: str, *, mask: Any = None, region: str | None = None, model: str | None = None,
         size: str | None = None, fit: str | None = None, mask_mode: str = "auto", out: str | None = None,
         references: "tuple[Any, ...] | list[Any]" = (), feather: int = 0,
         config: "Config | str | None" = None) -> "ImageResult":
    """Edit ``image`` (a path or "last") inside ``mask`` (a file) or ``region`` ("top left", "가운데", …).
    Saved at ``image``'s size, its pixels outside the mask kept (``feather`` px softens that blend).
    ``references``: more input images (GPT image models). Errors raise UserError / ApiError."""
    from .images.factory import make_image_service

    service = make_image_service(_config(config))
    return service.edit(image, prompt, mask=mask, region=region, model=model, size=size, fit=fit,
                        mask_mode=mask_mode, out=out, references=tuple(references), feather=feather)


def prepare(image: Any, *, mask: Any = None, region: str | None = None, model: str | None = None,
            size: str | None = None, fit: str | None = None, mask_mode: str = "auto", feather: int = 0,
            out_dir: str | None = None, config: "Config | str | None" = None) -> "Preparation":
    """Offline: the image (and mask) exactly as an edit would send them, as PIL images
    (``.image``, ``.mask``); written into ``out_dir`` when given (``.paths``)."""
    from .images.service import ImageService, Preparation

    source, prepared = ImageService(_config(config)).prepare(
        image, model=model, mask=mask, region=region, size=size, fit=fit, mask_mode=mask_mode, feather=feather)
    result = Preparation(source, prepared)
    return result.save(out_dir) if out_dir is not None else result
