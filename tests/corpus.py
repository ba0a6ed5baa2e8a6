"""The real recordings in ``../shared/corpus`` (beside the repository), for tests and benches.

Never copied into the repository: tests that need a clip call ``need_corpus()`` (or use the
``corpus`` fixture) and are skipped with a clear reason when the folder is absent.
``$ASSISTANT_CORPUS`` points elsewhere.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SKIP_REASON = "real recordings not found: ../shared/corpus (or $ASSISTANT_CORPUS) is absent"


def corpus_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_CORPUS") or ROOT.parent / "shared" / "corpus")


def available() -> bool:
    return (corpus_dir() / "manifest.json").is_file()


@dataclass(frozen=True)
class Clip:
    file: str
    language: str | None
    kind: str  # command | sentence | noise
    text: str | None
    duration_s: float
    license: str

    @property
    def path(self) -> Path:
        return corpus_dir() / self.file

    @property
    def name(self) -> str:
        return Path(self.file).stem

    def pcm(self) -> np.ndarray:
        """int16 mono at 16 kHz (the corpus is stored that way)."""
        return load_pcm(str(self.path))


@lru_cache(maxsize=None)
def load_pcm(path: str) -> np.ndarray:
    import soundfile as sf

    data, rate = sf.read(path, dtype="int16", always_2d=True)
    if rate != 16000:
        raise ValueError(f"{path}: {rate} Hz, the corpus is 16 kHz")
    pcm = data[:, 0].copy()
    pcm.setflags(write=False)
    return pcm


@lru_cache(maxsize=1)
def clips() -> tuple[Clip, ...]:
    if not available():
        return ()
    entries = json.loads((corpus_dir() / "manifest.json").read_text("utf-8"))
    return tuple(Clip(e["file"], e.get("language"), e.get("kind", ""), e.get("text") or None,
                      float(e.get("duration_s") or 0.0), e.get("license", "")) for e in entries)


def select(*, language: str | None = None, kind: str | None = None, with_text: bool = False) -> list[Clip]:
    return [c for c in clips() if (language is None or c.language == language)
            and (kind is None or c.kind == kind) and (not with_text or c.text)]


def need_corpus() -> None:
    """Skip the calling test (pytest) when the corpus is absent."""
    if not available():
        import pytest

        pytest.skip(SKIP_REASON)
