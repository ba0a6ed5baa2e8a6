"""One way to build the openai SDK client for a service section (stt, tts, images).

Retries are the SDK's own: up to ``max_retries`` for 408, 409, 429, 5xx and connection errors,
with exponential backoff and jitter (honouring Retry-After); ``timeout`` bounds each attempt.
"""
from __future__ import annotations

from typing import Any

from .config import ServiceBackend
from .errors import UserError
from .secrets import api_key, server_url

PLACEHOLDER_KEY = "sk-no-key"  # an OpenAI-compatible server at base_url may need no key


def make_client(cfg: ServiceBackend, section: str) -> Any:
    import openai

    key = api_key()
    if not key and not server_url(cfg.base_url):
        raise UserError(f"no OpenAI API key: set OPENAI_API_KEY (or use --backend local, or set {section}.base_url)")
    return openai.OpenAI(api_key=key or PLACEHOLDER_KEY, base_url=cfg.base_url or None,
                         timeout=cfg.timeout, max_retries=cfg.max_retries)
