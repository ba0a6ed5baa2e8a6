"""`assistant transcribe`: a file (or N seconds of microphone) -> text in one of five formats."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import UserError
from .common import get_config

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--translate", is_flag=True, help="Translate the speech into English.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Output format (default: text).")
@click.option("--language", help="ISO-639-1 code of the speech (e.g. en, ko); default: detect.")
@click.option("--prompt", help="Text to guide the style or vocabulary.")
@click.option("--backend", type=click.Choice(("local", "openai")), help="Default: stt.backend.")
@click.option("--model", help="Model id (openai) or local model (auto, tiny.en, base, a directory).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (atomically) instead of stdout.")
@click.option("--detect-language", is_flag=True, help="Print the language code and its probability.")
@click.option("--record", type=float, metavar="N", help="Record N seconds from the microphone first.")
@click.option("--vad/--no-vad", "vad", default=False, help="Local backend: skip silence inside the file (Silero VAD).")
def transcribe(file: Path | None, translate: bool, fmt: str, language: str | None, prompt: str | None,
               backend: str | None, model: str | None, out: Path | None, detect_language: bool,
               record: float | None, vad: bool) -> None:
    """Transcribe FILE (wav, flac, ogg, mp3, …) and print it as text, json, srt, vtt or verbose_json."""
    from ..config import with_overrides
    from ..paths import data_dir, unique_path
    from ..secrets import resolve_backend
    from ..stt.factory import make_transcriber

    cfg = get_config()
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
    if out is not None and not out.parent.is_dir():
        raise UserError(f"directory does not exist: {out.parent}")
    engine = make_transcriber(cfg, chosen, vad_filter=vad)
    if record is not None:
        from ..stt.audio import record as record_mic

        base = out.with_suffix(".wav") if out else unique_path(_recordings(data_dir()), "recording", ".wav")
        wav = unique_path(base.parent, base.stem, ".wav")
        record_mic(record, wav)
        click.echo(f"recorded {record:g} s to {wav}", err=True)
        file = wav
    if detect_language:
        if translate or fmt:
            raise UserError("--detect-language prints only the language; drop --translate/--format")
        code, prob = _detect(engine, file, prompt)
        _emit(f"{code or 'unknown'} {'unknown' if prob is None else f'{prob:.2f}'}\n", out)
        return
    fmt = fmt or "text"
    result = engine.transcribe(file, task="translate" if translate else "transcribe",
                               language=language or cfg.stt.language or None, prompt=prompt,
                               want_timestamps=fmt in ("srt", "vtt", "verbose_json"))
    _emit(result.to(fmt), out)


def _detect(engine, file: Path, prompt: str | None) -> tuple[str | None, float | None]:
    if hasattr(engine, "detect_language"):  # local: one 30 s window, no decoding
        return engine.detect_language(file)
    result = engine.transcribe(file, prompt=prompt, want_timestamps=True)  # verbose_json carries language
    return result.language, result.language_probability


def _emit(text: str, out: Path | None) -> None:
    from ..paths import atomic_write_bytes

    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_bytes(out, text.encode("utf-8"))


def _recordings(base: Path) -> Path:
    d = base / "recordings"
    d.mkdir(parents=True, exist_ok=True)
    return d


COMMANDS = [transcribe]
