"""`assistant say`: text -> speech, played as it streams and/or saved to a file."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import UserError
from .common import OutFile, get_config, read_stdin_text, text_option

FORMATS = ("wav", "flac", "ogg", "mp3", "opus", "aac", "pcm")


@click.command()
@click.argument("text", callback=text_option("TEXT"))
@click.option("--voice", help="alloy, echo, fable, nova, onyx, shimmer, … (default: tts.voice).")
@click.option("--model", help="OpenAI TTS model: tts-1, tts-1-hd, gpt-4o-mini-tts (default: tts.model).")
@click.option("--speed", type=float, help="0.25 .. 4.0 (default: tts.speed).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="File format (default: from --out's suffix, else wav).")
@click.option("--instructions", callback=text_option("--instructions"), help="How to speak (gpt-4o-mini-tts only).")
@click.option("--language", help="Language of the text (en, ko, …); default: detected from the script.")
@click.option("--backend", type=click.Choice(("local", "openai")), help="Default: tts.backend.")
@click.option("--out", type=OutFile(path_type=Path), help="Save here (atomically).")
@click.option("--no-play", is_flag=True, help="Do not play; save only.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def say(text: str, voice: str | None, model: str | None, speed: float | None, fmt: str | None,
        instructions: str | None, language: str | None, backend: str | None, out: Path | None,
        no_play: bool, force: bool) -> None:
    """Speak TEXT ("-" reads it from stdin) and/or save it to a file."""
    from ..audio.playback import Speaker
    from ..paths import atomic_write_bytes
    from ..tts.base import format_for
    from ..tts.openai import OpenAISynthesizer
    from ..tts.speak import default_output, fetch_encoded, plan, render, stream_to_file

    if text == "-":
        text = read_stdin_text()
    p = plan(get_config(), text, voice=voice, model=model, speed=speed, instructions=instructions,
             language=language, backend=backend)
    ignored = [flag for flag, value in (("--model", model), ("--instructions", instructions)) if value]
    if p.backend == "local" and ignored:
        click.echo(f"note: the local voices ignore {' and '.join(ignored)} (they are for the openai backend)", err=True)
    if out is not None:
        suffix = Path(out).suffix.lstrip(".").lower()
        if fmt and suffix in FORMATS and suffix != fmt and (suffix, fmt) != ("ogg", "opus"):
            raise UserError(f"--format {fmt} does not match {out.name}; name it .{fmt} or drop --format")
        fmt = fmt or suffix or None
        if fmt is None:
            raise UserError(f"cannot tell the audio format of {out}: add a suffix (.wav, .flac, .ogg, .mp3) or --format")
        if not out.parent.is_dir():
            raise UserError(f"directory does not exist: {out.parent}")
        if out.exists() and not force:
            raise UserError(f"{out} exists; pass --force to overwrite it")
    fmt = fmt or "wav"
    if fmt == "aac" and (p.backend != "openai" or len(OpenAISynthesizer.parts(p.text)) != 1):
        raise UserError("aac comes only from the openai backend, for texts up to 4096 characters; "
                        "use wav, flac, ogg or mp3")
    if fmt not in ("aac",):
        format_for(out or f"x.{fmt}", fmt)  # fails early for formats we cannot write

    speaker = None
    if not no_play:
        ok, why = Speaker.available()
        if ok:
            speaker = Speaker(get_config().audio.output_device or None)
        else:
            out = out or default_output(fmt)
            click.echo(f"{why}; saving to {out} instead", err=True)
    elif out is None:
        out = default_output(fmt)

    if speaker is None and out is not None:
        data = fetch_encoded(p, fmt)
        if data is not None:
            atomic_write_bytes(out, data, overwrite=force)
            click.echo(str(out))
            return
        if stream_to_file(p, out, fmt, overwrite=force):  # flat memory for any length of text
            click.echo(str(out))
            return
    speech, finished = render(p, speaker)
    if out is not None:
        speech.save(out, fmt, overwrite=force)
        click.echo(str(out))
    if not finished:
        click.echo("playback stopped", err=True)


COMMANDS = [say]
