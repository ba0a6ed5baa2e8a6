"""Streamed text -> whole sentences as soon as each one is complete (pure), so the first one can
be spoken while the model is still writing the rest."""
from __future__ import annotations

import re

# A sentence ends at . ! ? … 。 (and their runs, closing quotes/brackets) followed by whitespace,
# or at a line break. A number like "3.5" or an abbreviation glued to the next word is not an end.
_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?=\s)|\n+")
MIN_CHARS = 12  # shorter pieces wait for the next one ("Yes." + the next sentence)


class SentenceSplitter:
    def __init__(self, min_chars: int = MIN_CHARS):
        self._buffer = ""
        self._min = min_chars

    def feed(self, delta: str) -> list[str]:
        """Add a piece of text; return the sentences it completed."""
        self._buffer += delta
        out: list[str] = []
        start = 0
        for m in _END.finditer(self._buffer):
            piece = self._buffer[start:m.end()].strip()
            if len(piece) >= self._min:
                out.append(_clean(piece))
                start = m.end()
        self._buffer = self._buffer[start:]
        return [s for s in out if s]

    def flush(self) -> list[str]:
        """The rest, at the end of the stream."""
        rest, self._buffer = _clean(self._buffer.strip()), ""
        return [rest] if rest else []


_MARKUP = re.compile(r"(\*\*|__|`+|^#+\s*|^\s*[-*•]\s+|^\s*\d+[.)]\s+)", re.MULTILINE)


def _clean(text: str) -> str:
    """Markdown the model may still write is not spoken ("**", "#", list bullets)."""
    return " ".join(_MARKUP.sub("", text).split())
