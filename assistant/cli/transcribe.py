"""`assistant transcribe`: a file (or N seconds of microphone) -> text in one of five formats."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import UserError
from .common import OutFile, get_config, text_option

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


@click.command(short_help="Transcribe or translate an audio file (or the mic).")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--translate", is_flag=True, help="Translate the speech into English.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Output format (default: text).")
@click.option("--language", help="ISO-639-1 code of the speech (e.g. en, ko); default: detect.")
@click.option("--prompt", callback=text_option("--prompt"), help="Text to guide the style or vocabulary.")
@click.option("--backend", type=click.Choice(("local", "openai")), help="Default: stt.backend.")
@click.option("--model", help="Model id (openai) or local model (auto, tiny.en, base, a directory).")
@click.option("--out", type=OutFile(allow_dash=True, path_type=Path),
              help="Write here (atomically) instead of stdout (- = stdout).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--detect-language", is_flag=True, help="Print the language code and its probability.")
@click.option("--record", type=float, metavar="N", help="Record N seconds from the microphone first.")
@click.option("--vad/--no-vad", "vad", default=False, help="Local backend: skip silence inside the file (Silero VAD).")
def transcribe(file: Path | None, translate: bool, fmt: str, language: str | None, prompt: str | None,
               backend: str | None, model: str | None, out: Path | None, detect_language: bool,
               record: float | None, vad: bool, force: bool) -> None:
    """Transcribe FILE (wav, flac, ogg, mp3, …; - reads stdin) and print it as text, json, srt, vtt or verbose_json."""
    from ..config import with_overrides
    from ..paths import data_dir, unique_path
    from ..secrets import resolve_backend
    from ..stt.factory import make_transcriber

    cfg = get_config()
    out = None if out is not None and str(out) == "-" else out
    if record is not None:
        if file is not None:
            raise UserError("give either FILE or --record N, not both")
        if not 0 < record <= 600:
            raise UserError("--record takes 0 < N <= 600 seconds")
    elif file is None:
        raise UserError("missing FILE (or --record N)")
    chosen = resolve_backend(backend or cfg.stt.backend, cfg.stt.base_url)
    if model:
        cfg = with_overrides(cfg, stt={"local_model" if chosen == "local" else "model": model})
    if vad and chosen != "local":
        raise UserError("--vad applies to the local backend only")
    if detect_language and (translate or fmt):
        raise UserError("--detect-language prints only the language; drop --translate/--format")
    if out is not None and not out.parent.is_dir():
        raise UserError(f"directory does not exist: {out.parent}")
    if out is not None and out.exists() and not force:
        raise UserError(f"{out} exists; pass --force to overwrite it")
    audio = _read_stdin() if file is not None and str(file) == "-" else file
    engine = make_transcriber(cfg, chosen, vad_filter=vad)
    if record is not None:
        from ..stt.audio import record as record_mic

        base = out.with_suffix(".wav") if out else unique_path(_recordings(data_dir()), "recording", ".wav")
        wav = unique_path(base.parent, base.stem, ".wav")
        record_mic(record, wav)
        click.echo(f"recorded {record:g} s to {wav}", err=True)
        audio = wav
    if detect_language:
        code, prob = _detect(cfg, chosen, engine, audio, prompt)
        _emit(f"{code or 'unknown'} {'unknown' if prob is None else f'{prob:.2f}'}\n", out, force)
        return
    fmt = fmt or "text"
    result = engine.transcribe(audio, task="translate" if translate else "transcribe",
                               language=language or cfg.stt.language or None, prompt=prompt,
                               want_timestamps=fmt in ("srt", "vtt", "verbose_json"))
    _emit(result.to(fmt), out, force)


def _read_stdin():
    """All of stdin (WAV, FLAC, OGG, … via the file reader) as int16 mono 16 kHz samples."""
    import numpy as np

    from ..audio.sources import FileSource

    return np.frombuffer(b"".join(FileSource("-").iter_frames()), dtype=np.int16)


def _detect(cfg, chosen: str, engine, file, prompt: str | None) -> tuple[str | None, float | None]:
    if chosen == "local":  # one 30 s window's evidence, no decoding
        import numpy as np

        from ..stt.files import read_pcm
        from ..stt.local import WhisperTranscriber

        pcm = file if isinstance(file, np.ndarray) else read_pcm(file)
        return WhisperTranscriber(cfg.stt).detect_language(pcm)
    result = engine.transcribe(file, prompt=prompt, want_timestamps=True)  # verbose_json carries language
    return result.language, result.language_probability


def _emit(text: str, out: Path | None, force: bool = False) -> None:
    from ..paths import atomic_write_bytes

    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_bytes(out, text.encode("utf-8"), overwrite=force)


def _recordings(base: Path) -> Path:
    from ..paths import ensure_private_dir

    return ensure_private_dir(base / "recordings")


COMMANDS = [transcribe]
