"""The speech-output interface: a Synthesizer yields int16 mono chunks; Speech is a finished clip."""
from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Protocol, runtime_checkable

import numpy as np

from ..errors import UserError

# File formats Speech.save writes locally: suffix -> (libsndfile format, subtype)
SAVE_FORMATS: dict[str, tuple[str, str]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "pcm": ("RAW", "PCM_16"),  # headerless s16le mono, like the API's pcm
}
# Sample rates libopus accepts (22050 is not one of them).
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


@runtime_checkable
class Synthesizer(Protocol):
    """Text -> int16 mono PCM chunks at ``sample_rate``, yielded as soon as each is ready."""

    sample_rate: int

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        """Raise UserError (one clear line) for a combination this backend cannot do."""

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0, language: str | None = None,
                   instructions: str | None = None) -> Iterator[np.ndarray]:
        """Yield int16 mono chunks; the first one comes before the whole text is done."""

    def load(self, voice: str) -> None:
        """Load ``voice`` (blocking; no-op where nothing loads): ``engines.warm_up`` runs it beside
        the speech models' warm-ups."""

    def warm_up(self, voice: str) -> None:
        """Load what the first reply would otherwise wait for (no-op where nothing loads)."""


def format_for(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The output format from ``format`` or else the file's suffix; UserError if unknown."""
    fmt = (format or Path(path).suffix.lstrip(".")).lower()
    if not fmt:
        raise UserError(f"cannot tell the audio format of {path}: add a suffix (.wav, .flac, .ogg, .mp3) or --format")
    if fmt in ("oga", "vorbis"):
        fmt = "ogg"
    if fmt not in SAVE_FORMATS:
        raise UserError(f"cannot write {fmt!r} audio locally; use one of: {', '.join(SAVE_FORMATS)}")
    return fmt


def encode(samples: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """int16 mono samples -> bytes of a file in ``fmt`` (see SAVE_FORMATS)."""
    import soundfile as sf

    container, subtype = SAVE_FORMATS[fmt]
    if container not in sf.available_formats() or subtype not in sf.available_subtypes(container):
        raise UserError(f"this libsndfile ({sf.__libsndfile_version__}) cannot write {fmt}; save as wav or flac")
    data = np.asarray(samples, dtype=np.int16)
    rate = sample_rate
    if fmt == "opus" and rate not in _OPUS_RATES:
        from ..audio.resample import resample

        data, rate = resample(data, rate, 24000), 24000
    buf = io.BytesIO()
    sf.write(buf, data, rate, format=container, subtype=subtype)
    return buf.getvalue()


@dataclass(frozen=True, eq=False)
class Speech:
    """Synthesized audio: int16 mono ``samples`` at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int

    @classmethod
    def from_chunks(cls, chunks: Iterable[np.ndarray], sample_rate: int) -> "Speech":
        parts = [np.asarray(c, dtype=np.int16) for c in chunks]
        return cls(np.concatenate(parts) if parts else np.zeros(0, np.int16), sample_rate)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def save(self, path: str | os.PathLike[str], format: str | None = None, *, overwrite: bool = True) -> Path:
        """Write atomically (wav, flac, ogg, opus, mp3 where libsndfile can); returns the path."""
        from ..paths import atomic_write_bytes

        return atomic_write_bytes(path, encode(self.samples, self.sample_rate, format_for(path, format)),
                                  overwrite=overwrite)

    def play(self, device: str | int | None = None) -> bool:
        """Play on the output device (blocking); UserError when there is none."""
        from ..audio.playback import Speaker

        ok, why = Speaker.available()
        if not ok:
            raise UserError(why)
        return Speaker(device).play([self.samples], self.sample_rate)

    def __repr__(self) -> str:
        return f"Speech({self.duration:.2f}s, {self.sample_rate} Hz)"

    # Jupyter: an inline player that needs no PortAudio.
    def _repr_html_(self) -> str:
        b64 = base64.b64encode(encode(self.samples, self.sample_rate, "wav")).decode("ascii")
        return f'<audio controls preload="auto" src="data:audio/wav;base64,{b64}"></audio>'

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": repr(self)}
