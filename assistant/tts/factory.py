"""Build the configured Synthesizer."""
from __future__ import annotations

from typing import Sequence

from ..config import Config
from ..errors import UserError
from ..secrets import resolve_backend
from .base import Synthesizer


def make_synthesizer(cfg: Config, backend: str | None = None, phrases: Sequence[tuple[str, str]] = ()) -> Synthesizer:
    """``backend`` overrides ``tts.backend`` ("auto" -> openai with a key or base_url, else local).
    ``phrases``: (language, text) of fixed replies a local voice prepares after warm-up."""
    chosen = resolve_backend(backend or cfg.tts.backend, cfg.tts.base_url)
    if chosen == "local":
        from .local import LocalSynthesizer

        return LocalSynthesizer(cfg.tts, phrases)
    if chosen == "openai":
        from .openai import OpenAISynthesizer

        return OpenAISynthesizer(cfg.tts)
    if chosen == "wyoming":
        from .wyoming import WyomingSynthesizer

        return WyomingSynthesizer(cfg.tts)
    raise UserError(f"unknown tts backend {chosen!r}; use local, openai or wyoming")
