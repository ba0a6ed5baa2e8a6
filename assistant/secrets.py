"""The API key: from $OPENAI_API_KEY or the systemd credential, never from config files."""
from __future__ import annotations

import os
import re
from pathlib import Path

CREDENTIAL_NAME = "openai_api_key"


def api_key() -> str | None:
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if key:
        return key
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        try:
            key = (Path(cred_dir) / CREDENTIAL_NAME).read_text("utf-8").strip()
        except OSError:
            return None
        return key or None
    return None


_KEY_RE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}")
_URL_PASSWORD_RE = re.compile(r"(://[^/\s:@]*:)[^@\s/]+@")  # https://user:password@host


def redact(text: str) -> str:
    """Hide API keys (the configured one and anything shaped like one) and passwords in URLs."""
    key = api_key()
    if key and len(key) >= 8:
        text = text.replace(key, key[:3] + "…redacted")
    text = _URL_PASSWORD_RE.sub(r"\1…redacted@", text)
    return _KEY_RE.sub(r"\1…redacted", text)


def server_url(base_url: str) -> str:
    """The section's ``base_url``, else the openai SDK's own $OPENAI_BASE_URL ("" = the live API)."""
    return base_url or os.environ.get("OPENAI_BASE_URL", "").strip()


def resolve_backend(backend: str, base_url: str) -> str:
    """'auto' means openai when a key is present or a server URL is configured, local otherwise."""
    if backend != "auto":
        return backend
    return "openai" if (api_key() or server_url(base_url)) else "local"
