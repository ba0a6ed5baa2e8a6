"""Build the configured Transcriber."""
from __future__ import annotations

from ..config import Config
from ..errors import UserError
from ..secrets import resolve_backend
from .base import Transcriber


def make_transcriber(cfg: Config, backend: str | None = None, *, vad_filter: bool = False) -> Transcriber:
    """``backend`` overrides ``stt.backend`` ("auto" -> openai with a key or base_url, else local)."""
    chosen = resolve_backend(backend or cfg.stt.backend, cfg.stt.base_url)
    if chosen == "local":
        from .local import LocalTranscriber

        return LocalTranscriber(cfg.stt, vad_filter=vad_filter)
    if chosen == "openai":
        from .openai import OpenAITranscriber

        return OpenAITranscriber(cfg.stt)
    if chosen == "wyoming":
        from .wyoming import WyomingTranscriber

        return WyomingTranscriber(cfg.stt)
    raise UserError(f"unknown stt backend {chosen!r}; use local, openai or wyoming")
