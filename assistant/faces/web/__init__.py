"""The web page face (``assistant serve --http``, ``assistant run --http``): live turns, the
picture gallery, typed commands and live settings, over a small JSON API. See server.py."""
from __future__ import annotations

from .security import DEFAULT_ADDRESS, parse_address
from .server import WebFace

__all__ = ["DEFAULT_ADDRESS", "WebFace", "parse_address"]
