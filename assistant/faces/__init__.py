"""Faces of the assistant beside the console: each one watches turn events
(``Assistant.subscribe``) and feeds text or audio in through one entry of the loop
(``Assistant.handle_text`` / ``Assistant.handle_utterance``). None reaches into the loop.

A face is started by ``assistant run --wyoming/--http/--satellite`` or ``assistant serve``.
"""
from __future__ import annotations

from typing import Protocol


class Face(Protocol):
    async def start(self, assistant: "object") -> None:
        """Start serving (returns once listening); ``assistant`` is the running loop."""

    async def stop(self) -> None:
        """Stop serving and close connections (quickly: SIGTERM must exit within 2 s)."""
