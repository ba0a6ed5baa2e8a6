"""Build the configured Transcriber."""
from __future__ import annotations

from ..config import Config
from ..errors import UserError
from ..secrets import resolve_backend
from .base import Transcriber
from .files import FileInput


def make_transcriber(cfg: Config, backend: str | None = None, *, vad_filter: bool = False) -> FileInput:
    """``backend`` overrides ``stt.backend`` ("auto" -> openai with a key or base_url, else local).
    Every engine comes wrapped in ``FileInput``: it also takes a path to an audio file."""
    return FileInput(_engine(cfg, backend, vad_filter))


def _engine(cfg: Config, backend: str | None, vad_filter: bool) -> Transcriber:
    chosen = resolve_backend(backend or cfg.stt.backend, cfg.stt.base_url)
    if chosen == "local":
        from .local import build

        return build(cfg.stt, vad_filter=vad_filter)
    if chosen == "openai":
        from .openai import OpenAITranscriber

        return OpenAITranscriber(cfg.stt)
    if chosen == "wyoming":
        from .wyoming import WyomingTranscriber

        return WyomingTranscriber(cfg.stt)
    raise UserError(f"unknown stt backend {chosen!r}; use local, openai or wyoming")
