"""Audio in and out of the STT stage: load any file to 16 kHz mono int16, encode WAV/FLAC, split."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..audio.format import FRAME_SAMPLES, SAMPLE_RATE, to_int16, to_mono
from ..audio.resample import resample
from ..audio.sources import soundfile_reason, existing_audio_file
from ..errors import UserError

UPLOAD_TYPES = {".flac": "audio/flac", ".mp3": "audio/mpeg", ".mp4": "audio/mp4", ".mpeg": "audio/mpeg",
                ".mpga": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".wav": "audio/wav",
                ".webm": "audio/webm"}


def load_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Any soundfile-readable file -> int16 mono 16 kHz. Missing/corrupt/empty -> UserError."""
    import soundfile as sf

    from ..audio.quiet import is_mpeg, sniff, without_mpg123_noise

    p = existing_audio_file(path, "audio file")
    try:
        with without_mpg123_noise(is_mpeg(sniff(p))):  # a broken MP3: our one line, not libmpg123's
            data, rate = sf.read(os.fsencode(p), dtype="float32", always_2d=True)  # any file name bytes
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise UserError(f"cannot read audio file {p}: {soundfile_reason(exc)}") from None
    # NaN/inf samples (a broken float file) are 0 / the rails before resampling smears them
    pcm = resample(to_mono(np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)), rate, SAMPLE_RATE)
    if len(pcm) == 0:
        raise UserError(f"audio file is empty: {p}")
    return pcm


def as_pcm(audio: np.ndarray | str | os.PathLike[str]) -> np.ndarray:
    if isinstance(audio, np.ndarray):
        pcm = to_int16(to_mono(audio))
        if len(pcm) == 0:
            raise UserError("audio is empty")
        return pcm
    return load_audio(audio)


def encode(pcm: np.ndarray, fmt: str = "WAV") -> bytes:
    """int16 mono 16 kHz -> WAV or FLAC bytes."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, pcm, SAMPLE_RATE, format=fmt, subtype="PCM_16")
    return buf.getvalue()


def split_points(pcm: np.ndarray, n_chunks: int, search_s: float = 10.0) -> list[int]:
    """Sample indices cutting ``pcm`` into ``n_chunks`` near-equal parts, each cut moved to the
    quietest 30 ms frame within ``search_s`` of the even boundary (energy-based; never mid-word
    when the speech has any pause). The one place to swap in the VAD segmenter later."""
    n_frames = len(pcm) // FRAME_SAMPLES
    if n_chunks <= 1 or n_frames < 2 * n_chunks:
        return []
    frames = pcm[: n_frames * FRAME_SAMPLES].astype(np.float32).reshape(n_frames, FRAME_SAMPLES)
    energy = (frames**2).mean(axis=1)
    radius = max(1, min(int(search_s * SAMPLE_RATE / FRAME_SAMPLES), n_frames // n_chunks // 4))
    cuts: list[int] = []
    for k in range(1, n_chunks):
        centre = k * n_frames // n_chunks
        lo = max(cuts[-1] // FRAME_SAMPLES + 1 if cuts else 1, centre - radius)
        hi = min(n_frames - 1, centre + radius)
        if hi <= lo:
            cuts.append(centre * FRAME_SAMPLES)
            continue
        window = energy[lo:hi]
        # near-quietest frames (within 5 % of the window's range); the one closest to the centre
        quiet = np.flatnonzero(window <= window.min() + 0.05 * (window.max() - window.min()))
        mask = np.zeros(len(window), bool)
        mask[quiet] = True
        a = b = int(quiet[np.argmin(np.abs(lo + quiet - centre))])
        while a > 0 and mask[a - 1]:
            a -= 1
        while b + 1 < len(window) and mask[b + 1]:
            b += 1
        cuts.append((lo + (a + b) // 2) * FRAME_SAMPLES)  # the middle of that quiet run
    return cuts


def record(seconds: float, path: Path) -> np.ndarray:
    """Record ``seconds`` from the default microphone (sounddevice imported here only)."""
    from ..audio.sources import _import_sounddevice
    from ..paths import atomic_path

    sd = _import_sounddevice()  # needs PortAudio; only for --record (one-line error without it)

    try:
        rate = SAMPLE_RATE
        try:
            sd.check_input_settings(samplerate=rate, channels=1, dtype="int16")
        except Exception:
            rate = int(sd.query_devices(kind="input")["default_samplerate"])
        data = sd.rec(int(seconds * rate), samplerate=rate, channels=1, dtype="int16")
        sd.wait()
    except Exception as exc:
        raise UserError(f"cannot record from the microphone: {exc}") from None
    pcm = resample(data[:, 0], rate, SAMPLE_RATE)
    with atomic_path(path, overwrite=False) as tmp:
        tmp.write_bytes(encode(pcm, "WAV"))
    return pcm
