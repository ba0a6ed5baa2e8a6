"""The tutorial path: ``sounddevice.rec`` for N seconds, saved with soundfile (atomically)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..paths import PRIVATE, atomic_path
from .format import SAMPLE_RATE
from .sources import MicrophoneError, _first_line, _import_sounddevice, _is_rate_error, resolve_device

MAX_SECONDS = 3600.0


def check_target(out: str | Path, force: bool) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".wav":
        raise UserError(f"--out must be a .wav file: {out}")
    if out.exists() and not force:
        raise UserError(f"{out} exists; use --force to overwrite it")
    if not out.parent.is_dir():
        raise UserError(f"directory does not exist: {out.parent}")
    return out


def record(seconds: float, out: str | Path, *, device: str | int | None = None, force: bool = False,
           rate: int = SAMPLE_RATE) -> Path:
    """Record ``seconds`` of mono audio to ``out`` (16-bit WAV). Returns the path written."""
    if not 0 < seconds <= MAX_SECONDS:
        raise UserError(f"--seconds must be between 0 and {MAX_SECONDS:.0f}, got {seconds}")
    target = check_target(out, force)
    sd = _import_sounddevice()
    index = resolve_device(sd, device, "input")
    try:
        try:
            data = sd.rec(int(seconds * rate), samplerate=rate, channels=1, dtype="int16", device=index)
        except Exception as exc:
            if not _is_rate_error(exc):
                raise
            rate = int(sd.query_devices(index, "input")["default_samplerate"])  # device refuses 16 kHz
            data = sd.rec(int(seconds * rate), samplerate=rate, channels=1, dtype="int16", device=index)
        sd.wait()
    except MicrophoneError:
        raise
    except Exception as exc:
        raise MicrophoneError(f"recording failed ({_first_line(exc)})") from None
    import soundfile as sf

    with atomic_path(target, overwrite=force, mode=PRIVATE) as tmp:  # a recording is private
        sf.write(tmp, data, rate, format="WAV", subtype="PCM_16")
    return target
