"""journald-friendly logging: one line per event, levels, secrets redacted, no colour off a TTY."""
from __future__ import annotations

import logging
import os
import sys

from .secrets import redact


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record)).replace("\n", " | ")


def setup_logging(verbose: int = 0, level_name: str | None = None) -> None:
    level = logging.WARNING
    if level_name:
        level = getattr(logging, level_name.upper(), logging.INFO)
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    under_journald = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = "<%(levelno)s>%(name)s: %(message)s" if under_journald else "%(levelname)s %(name)s: %(message)s"
    handler.setFormatter(_RedactingFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "openai", "faster_whisper"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
