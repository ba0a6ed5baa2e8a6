"""Build the configured Synthesizer."""
from __future__ import annotations

from ..config import Config
from ..errors import UserError
from ..secrets import resolve_backend
from .base import Synthesizer


def make_synthesizer(cfg: Config, backend: str | None = None) -> Synthesizer:
    """``backend`` overrides ``tts.backend`` ("auto" -> openai with a key or base_url, else local)."""
    chosen = resolve_backend(backend or cfg.tts.backend, cfg.tts.base_url)
    if chosen == "local":
        from .local import LocalSynthesizer

        return LocalSynthesizer(cfg.tts)
    if chosen == "openai":
        from .openai import OpenAISynthesizer

        return OpenAISynthesizer(cfg.tts)
    if chosen == "wyoming":
        from .wyoming import WyomingSynthesizer

        return WyomingSynthesizer(cfg.tts)
    raise UserError(f"unknown tts backend {chosen!r}; use local, openai or wyoming")
