"""`assistant listen`, `assistant record`, `assistant devices`."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Iterable, Iterator

import click
import numpy as np

from ..config import VadConfig
from ..errors import UserError
from ..events import Utterance
from ..paths import ensure_private_dir
from .common import OutFile, get_config


_FILE_BLOCK = 34  # frames (~1 s: what a file source reads at a time)


# ---------------------------------------------------------------------- pure helpers
def utterance_record(n: int, utt: Utterance, file: str | None = None) -> dict:
    rec = {"index": n, "start": round(utt.start, 3), "end": round(utt.end, 3), "duration": round(utt.end - utt.start, 3)}
    if file:
        rec["file"] = file
    return rec


def format_human(rec: dict) -> str:
    line = f"{rec['index']:3d}  {rec['start']:.2f}-{rec['end']:.2f} s  ({rec['duration']:.2f} s)"
    return line + (f"  {rec['file']}" if "file" in rec else "")


def segment(frames: Iterable[bytes], cfg: VadConfig, *, block: int = 1) -> Iterator[Utterance]:
    """Utterances of a frame stream, as soon as each one ends. Ctrl-C ends the stream like EOF
    (the utterance in progress is still emitted). ``block`` > 1: the frames go to the segmenter
    that many at a time (the same utterances, less CPU; for input read faster than real time)."""
    from ..vad.segmenter import Segmenter

    seg = Segmenter(cfg)
    feed = seg.process if block <= 1 else seg.process_block
    try:
        for chunk in frames if block <= 1 else _chunks(frames, block):
            for event in feed(chunk):
                if isinstance(event, Utterance):
                    yield event
    except KeyboardInterrupt:
        pass
    for event in seg.flush():
        if isinstance(event, Utterance):
            yield event


def _chunks(frames: Iterable[bytes], n: int) -> Iterator[bytes]:
    """The frames joined ``n`` at a time (the last chunk may be shorter)."""
    chunk: list[bytes] = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) == n:
            yield b"".join(chunk)
            chunk = []
    if chunk:
        yield b"".join(chunk)


def _prepare_save_dir(path: str | None) -> Path | None:
    if path is None:
        return None
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise UserError(f"--save-dir is not a directory: {d}")
    ensure_private_dir(d)  # 0700: recordings are private
    if any(re.fullmatch(r"utterance-\d{3,}\.wav", p.name) for p in d.iterdir()):
        raise UserError(f"{d} already holds utterance-NNN.wav files; choose an empty directory")
    return d


def _save(utt: Utterance, directory: Path, n: int) -> Path:
    import soundfile as sf

    from ..paths import PRIVATE, atomic_path

    target = directory / f"utterance-{n:03d}.wav"
    with atomic_path(target, overwrite=False, mode=PRIVATE) as tmp:
        sf.write(tmp, np.asarray(utt.audio, dtype=np.int16), utt.sample_rate, format="WAV", subtype="PCM_16")
    return target


def _mic_iter(device: str | None, rate: int) -> Iterator[bytes]:  # pragma: no cover - needs hardware
    """Microphone frames as a sync iterator (a private event loop runs the async source)."""
    from ..audio.sources import MicSource

    mic = MicSource(device or None, rate=rate)
    loop = asyncio.new_event_loop()
    agen = mic.frames()
    try:
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        try:
            loop.run_until_complete(agen.aclose())
        finally:
            mic.close()
            loop.close()


# ---------------------------------------------------------------------- commands
@click.command()
@click.option("--input", "input_path", metavar="FILE|-", default=None,
              help="Sound file (WAV, FLAC, OGG, ...) or - for stdin. Default: the microphone until Ctrl-C.")
@click.option("--input-format", type=click.Choice(["auto", "raw"]), default="auto", show_default=True,
              help="raw = headerless s16le mono (needs --rate).")
@click.option("--rate", type=int, default=None, help="Sample rate of raw input (Hz).")
@click.option("--realtime", is_flag=True, default=None, help="Pace file input at wall-clock speed.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per utterance and line.")
@click.option("--save-dir", type=click.Path(file_okay=False), default=None,
              help="Write each utterance as utterance-NNN.wav here.")
@click.option("--device", default=None, help="Microphone index or name substring (default: [audio] input_device).")
def listen(input_path: str | None, input_format: str, rate: int | None, realtime: bool | None, as_json: bool,
           save_dir: str | None, device: str | None) -> None:
    """Cut speech into utterances and print one line per utterance."""
    cfg = get_config()
    if input_format == "raw" and input_path is None:
        raise UserError("--input-format raw needs --input FILE or -")
    if rate is not None and input_format != "raw" and input_path is not None:
        raise UserError("--rate only applies to --input-format raw")
    directory = _prepare_save_dir(save_dir)
    if input_path is not None:
        from ..audio.sources import FileSource

        realtime = cfg.audio.realtime if realtime is None else realtime
        frames: Iterable[bytes] = FileSource(input_path, input_format=input_format, rate=rate,
                                             realtime=False).iter_frames()
        if realtime:
            frames = _paced(frames)
    else:
        frames = _mic_iter(device or cfg.audio.input_device or None, cfg.audio.mic_rate)
    n = 0
    # a file is read ahead anyway: its frames go to the segmenter ~1 s at a time (not stdin, a
    # paced file or a microphone: their utterances are printed as soon as they end)
    block = _FILE_BLOCK if input_path not in (None, "-") and not realtime else 1
    for utt in segment(frames, cfg.vad, block=block):
        n += 1
        saved = str(_save(utt, directory, n)) if directory else None
        rec = utterance_record(n, utt, saved)
        click.echo(json.dumps(rec) if as_json else format_human(rec))
    if not as_json and n == 0:
        click.echo("no speech found", err=True)


def _paced(frames: Iterable[bytes]) -> Iterator[bytes]:
    import time

    from ..audio.format import FRAME_SECONDS

    t0 = time.monotonic()
    for i, frame in enumerate(frames):
        delay = t0 + i * FRAME_SECONDS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield frame


@click.command()
@click.option("--seconds", type=float, required=True, help="How long to record.")
@click.option("--out", "out", type=OutFile(), required=True, help="Output .wav file.")
@click.option("--device", default=None, help="Microphone index or name substring.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def record(seconds: float, out: str, device: str | None, force: bool) -> None:
    """Record N seconds from the microphone into a 16-bit WAV file."""
    from ..audio.record import check_target, record as do_record

    cfg = get_config()
    check_target(out, force)  # fail before touching the device
    path = do_record(seconds, out, device=device or cfg.audio.input_device or None, force=force)
    click.echo(f"wrote {path}")


@click.command(short_help="List audio inputs and outputs with their default rates.")
def devices() -> None:
    """List audio input and output devices with their default sample rates."""
    from ..audio.devices import format_devices, list_devices

    for line in format_devices(list_devices()):
        click.echo(line)


COMMANDS = [listen, record, devices]
