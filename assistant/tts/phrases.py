"""The prepared sentences of the local voices (the fixed replies' first ones), outside the heap.

Their samples go to one unlinked file in the private cache dir (``O_TMPFILE``: no name, gone
with the process) and are read back with ``pread`` when said: the page cache holds them, which
the kernel can reclaim, instead of ~5 MB of the daemon's idle RSS (50 sentences, ~2 min of
22 kHz int16). Reading one is a copy from the page cache (well under 1 ms). When no such file can
be made or written (read-only or full disk), the samples stay in memory as before.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from typing import IO, Hashable, Iterator

import numpy as np

from ..paths import cache_dir, ensure_private_dir

log = logging.getLogger(__name__)


class PhraseStore:
    """key -> int16 samples; ``put`` from one thread, ``get`` from any."""

    def __init__(self) -> None:
        self._where: dict[Hashable, tuple[int, int] | np.ndarray] = {}  # (offset, samples) or the samples
        self._file: IO[bytes] | None = None
        self._end = 0
        self._disk = True
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._where

    def put(self, key: Hashable, audio: np.ndarray) -> None:
        audio = np.ascontiguousarray(audio, dtype=np.int16)
        with self._lock:
            self._where[key] = self._write(audio) or _frozen(audio)

    def get(self, key: Hashable) -> np.ndarray | None:
        """The samples (read-only), or None when not prepared or no longer readable."""
        where = self._where.get(key)
        if where is None or isinstance(where, np.ndarray):
            return where
        offset, n = where
        try:
            data = os.pread(self._file.fileno(), 2 * n, offset)  # type: ignore[union-attr]
        except (OSError, AttributeError, ValueError):
            return None  # synthesized anew by the caller
        return np.frombuffer(data, np.int16) if len(data) == 2 * n else None

    def values(self) -> Iterator[np.ndarray]:
        for key in list(self._where):
            audio = self.get(key)
            if audio is not None:
                yield audio

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file, self._where = None, {}

    def _write(self, audio: np.ndarray) -> tuple[int, int] | None:
        if not self._disk:
            return None
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(dir=ensure_private_dir(cache_dir()), buffering=0)
            data = audio.tobytes()
            written = os.pwrite(self._file.fileno(), data, self._end)
            if written != len(data):
                raise OSError("short write")
        except OSError as exc:  # keep them in memory from now on
            log.info("prepared sentences stay in memory: %s", exc)
            self._disk = False
            return None
        where = (self._end, len(audio))
        self._end += len(data)
        return where


def _frozen(audio: np.ndarray) -> np.ndarray:
    audio = audio.copy()
    audio.flags.writeable = False
    return audio
