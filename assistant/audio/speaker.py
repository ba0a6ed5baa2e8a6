"""The speech-output interface the loop and the engines are typed with (``playback.Speaker`` is
the sound card, ``playback.NullSpeaker`` plays nothing; a face may bring its own)."""
from __future__ import annotations

from typing import Callable, Iterable, Protocol

import numpy as np

Tap = Callable[[np.ndarray, int], None]  # (int16 mono samples as played, their rate)


class Speaker(Protocol):
    """Plays int16 mono chunk streams; ``stop()`` (any thread) cuts the one playing."""

    audible: bool  # plays sound a microphone can hear: its echo is worth cancelling

    def play(self, chunks: Iterable[np.ndarray], sample_rate: int) -> bool:
        """Blocking; False when ``stop()`` cut it short."""
        ...

    def stop(self) -> None: ...

    def add_tap(self, tap: Tap) -> None:
        """``tap`` gets every slice right after it was played (the echo canceller's reference);
        a speaker that is not audible never calls it."""
        ...
