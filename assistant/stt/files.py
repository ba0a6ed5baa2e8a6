"""Audio files in front of any Transcriber: one wrapper, the same for every backend.

``FileInput.transcribe`` takes samples or a path. A path is offered to the engine as it is
(``transcribe_file``: the openai backend uploads the user's own file when the API takes it);
otherwise it is decoded here: libsndfile first, ffmpeg for what libsndfile cannot read (m4a, mp4,
webm), to 16 kHz mono int16. Checks give one line (UserError), never a traceback."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

import numpy as np

from ..audio.format import SAMPLE_RATE
from ..audio.sources import existing_audio_file
from ..errors import UserError
from .audio import as_pcm
from .base import Audio, Task, Transcriber, Transcript

log = logging.getLogger(__name__)
_LIBSNDFILE_TYPES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")
_SNIFFABLE = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}  # libsndfile can check these


class FileInput:
    def __init__(self, inner: Transcriber):
        self.inner = inner

    def transcribe(self, audio: Audio, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        if isinstance(audio, np.ndarray):
            return self.inner.transcribe(as_pcm(audio), task=task, language=language, prompt=prompt,
                                         want_timestamps=want_timestamps, prior=prior)
        return self.transcribe_file(Path(audio), task=task, language=language, prompt=prompt,
                                    want_timestamps=want_timestamps)

    def transcribe_file(self, path: Path, *, task: Task = "transcribe", language: str | None = None,
                        prompt: str | None = None, want_timestamps: bool = False) -> Transcript:
        found = self.inner.transcribe_file(path, task=task, language=language, prompt=prompt,
                                           want_timestamps=want_timestamps)
        if found is not None:
            return found
        return self.inner.transcribe(read_pcm(path), task=task, language=language, prompt=prompt,
                                     want_timestamps=want_timestamps)

    def warm_up(self) -> None:
        self.inner.warm_up()

    def listen_ahead(self, pcm: np.ndarray) -> None:
        self.inner.listen_ahead(pcm)


def read_pcm(path: str | os.PathLike[str], *, why_ffmpeg: str = "") -> np.ndarray:
    """16 kHz mono int16 from libsndfile, or from ffmpeg for what it cannot read (m4a, mp4, webm).
    ``why_ffmpeg``: the caller's reason the file must be decoded, named when ffmpeg is missing."""
    import shutil
    import subprocess

    p = existing_audio_file(path, "audio file")
    try:
        return as_pcm(p)
    except UserError as exc:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            if why_ffmpeg:
                raise UserError(f"{p.name} {why_ffmpeg} and converting it needs ffmpeg (not found); "
                                "install ffmpeg or convert it to flac/ogg") from None
            raise
        libsndfile_says = exc
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(p), "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE),
           "-f", "s16le", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    pcm = np.frombuffer(proc.stdout[: len(proc.stdout) // 2 * 2], dtype="<i2").astype(np.int16)
    if proc.returncode != 0 or len(pcm) == 0:
        if p.suffix.lower() in _LIBSNDFILE_TYPES:  # a broken wav: libsndfile's reason is the clearer one
            raise libsndfile_says
        why = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no audio"])[-1]
        raise UserError(f"cannot read audio file {p}: {why}")
    log.info("decoded %s with ffmpeg", p.name)
    return pcm


def sniff(p: Path) -> float | None:
    """The file's duration when this libsndfile can check its format (mp3 needs >= 1.1), else
    None (the file is trusted); a broken or empty file is a UserError."""
    import soundfile as sf

    if _SNIFFABLE.get(p.suffix.lower()) not in sf.available_formats():
        return None
    try:
        info = sf.info(str(p))
    except Exception:
        raise UserError(f"cannot read audio file {p}: not a valid {p.suffix[1:]} file") from None
    if info.frames == 0:
        raise UserError(f"audio file is empty: {p}")
    return info.frames / info.samplerate
