"""`assistant run` (the main loop) and `assistant stats` (latency over the history)."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..errors import UserError
from ..history import default_history_path, format_ms, history_files, latency_table, read_history
from .common import get_config

log = logging.getLogger(__name__)


def _prepare_output_dir(path: Path, force: bool) -> Path:
    import errno
    import os

    from ..paths import WriteError, ensure_private_dir

    ensure_private_dir(path)  # 0700: replies and turns are private
    if not os.access(path, os.W_OK | os.X_OK):  # read-only: said now, not once per reply
        raise WriteError(path, PermissionError(errno.EACCES, "Permission denied"))
    old = sorted(path.glob("reply-*.wav")) + ([path / "turns.jsonl"] if (path / "turns.jsonl").exists() else [])
    if old and not force:
        raise UserError(f"{path} already holds replies from an earlier run; pass --force to replace them or choose another --output-dir")
    for f in old:
        f.unlink()
    return path


@click.command("run", short_help="Listen and answer (microphone, or a recording).")
@click.option("--input", "input_path", metavar="FILE|-", default=None, help="Audio file (or - for stdin) instead of the microphone.")
@click.option("--input-format", type=click.Choice(["auto", "raw"]), default="auto", show_default=True)
@click.option("--rate", type=int, default=None, help="Sample rate of raw input.")
@click.option("--realtime", is_flag=True, help="Feed file input at wall-clock speed, like a microphone.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write every reply as reply-NNN.wav and the turns as turns.jsonl here.")
@click.option("--wake-word", default=None, help="Only act after this wake word (okay_nabu, hey_jarvis, ...).")
@click.option("--force", is_flag=True, help="Replace replies left in --output-dir by an earlier run.")
@click.option("--quiet", is_flag=True, help="Do not print the live transcript and the summary table.")
@click.option("--http", "http", metavar="HOST:PORT", is_flag=False, flag_value="127.0.0.1:8765", default=None,
              help="Also serve the web page (bare --http: 127.0.0.1:8765; default [service] http).")
@click.option("--wyoming", "wyoming", metavar="tcp://HOST:PORT", default=None,
              help="Also serve Wyoming (Home Assistant: asr, tts, conversation; default [service] wyoming).")
@click.option("--satellite", "satellites", metavar="tcp://HOST:PORT", multiple=True,
              help="Drive a wyoming-satellite in a room (repeatable; default [service] satellites).")
@click.option("--events", "events_path", metavar="FILE|-", default=None,
              help="Write every turn event as a JSON line here (- for stdout; the transcript then goes to stderr).")
def run_cmd(input_path, input_format, rate, realtime, output_dir, wake_word, force, quiet, http, wyoming, satellites,
            events_path):
    """Listen, understand and answer (microphone, or a recording with --input)."""
    from ..service.runner import run_assistant

    cfg = get_config()
    if input_format == "raw" and not rate:
        raise UserError("--input-format raw needs --rate")
    if input_path not in (None, "-"):  # checked before --output-dir is created
        from ..audio.sources import existing_audio_file

        existing_audio_file(input_path)
    faces = []
    if http or cfg.service.http:
        from ..faces.web import WebFace

        faces.append(WebFace(cfg, http or cfg.service.http,  # the token rule is checked here
                             announce=lambda url: click.echo(f"web page: {url}", err=True)))
    from ..faces.wyoming import faces_from_options

    faces += faces_from_options(cfg, wyoming=wyoming, satellites=satellites)  # bad addresses: exit 2 here
    to_stdout = events_path == "-"
    events = _open_events(events_path) if events_path is not None else None
    if output_dir is not None:
        output_dir = _prepare_output_dir(output_dir, force)
    wake_word = wake_word if wake_word is not None else (cfg.router.wake_word or None)
    notice = cloud_listening_notice(cfg, wake_word)
    if notice:
        click.echo(notice, err=True)
        log.warning(notice)
    turns = run_assistant(
        cfg,
        input_path=input_path,
        input_format=input_format,
        rate=rate,
        realtime=realtime or cfg.audio.realtime,
        output_dir=output_dir,
        wake_word=wake_word,
        echo=(lambda line: None) if quiet else (lambda line: click.echo(line, err=to_stdout)),
        config_path=click.get_current_context().find_root().params.get("config_path"),
        events=events,
        faces=faces,
    )
    if events is not None and events is not sys.stdout:
        try:
            events.close()
        except OSError:  # already reported once by the listener (a full disk, /dev/full)
            pass
    if not quiet:
        click.echo(summary_table(turns), err=to_stdout)


def _open_events(path: str):
    """The --events stream: stdout, or a new file (appended if it exists; never through a
    symlink); a FIFO or a device is written without ever blocking the loop (PipeLines)."""
    import errno
    import os
    import stat
    import sys

    if path == "-":  # a pipe (`| jq`) is written without blocking too: a reader that stops must not freeze the loop
        sys.stdout.flush()
        if stat.S_ISREG(os.fstat(1).st_mode) or os.isatty(1):
            return sys.stdout
        from ..listeners import PipeLines

        return PipeLines(os.dup(1), "stdout")
    if os.path.islink(path):
        raise UserError(f"--events {path} is a symlink; give a regular file")
    if os.path.isdir(path):
        raise UserError(f"--events {path} is a directory")
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)  # O_NONBLOCK: a FIFO nobody reads is ENXIO, not a hang
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UserError(f"--events {path} is a named pipe nobody reads; start its reader first") from None
        raise UserError(f"cannot write events to {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        from ..listeners import PipeLines

        return PipeLines(fd, path)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)


def cloud_listening_notice(cfg, wake_word: str | None) -> str | None:
    """Said once at start when, with no wake word, every utterance goes to a cloud STT API."""
    from ..secrets import resolve_backend, server_url

    if wake_word or resolve_backend(cfg.stt.backend, cfg.stt.base_url) != "openai":
        return None
    where = server_url(cfg.stt.base_url) or "the OpenAI API (api.openai.com)"
    return (f"note: no wake word and stt.backend is openai: every utterance heard is sent to {where} "
            "for transcription (set router.wake_word, or stt.backend = \"local\", to keep audio here)")


def summary_table(turns) -> str:
    rows = [f"{'#':>3}  {'intent':<14} {'result':<8} {'latency':>8}  text"]
    for t in turns:
        timings = t.timings()
        latency = f"{timings['eos_to_first_audio']:.2f}s" if "eos_to_first_audio" in timings else "-"
        text = t.text if len(t.text) <= 50 else t.text[:47] + "..."
        rows.append(f"{t.id:>3}  {t.intent or '-':<14} {t.result:<8} {latency:>8}  {text}")
    return "\n".join(rows)


@click.command("stats", short_help="Latency p50/p95 over the turn history.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="History file (default: $XDG_STATE_HOME/assistant/history.jsonl).")
def stats_cmd(history_path):
    """p50/p95 of end-of-speech -> first reply audio, and of each stage."""
    cfg = get_config()
    path = history_path or default_history_path(cfg.service.history)
    files = history_files(path)
    if not files:
        raise UserError(f"no history yet at {path}")
    records = read_history(path, rotated=True)
    results: dict[str, int] = {}
    for r in records:
        result = str(r.get("result", "?"))
        results[result] = results.get(result, 0) + 1
    counts = ", ".join(f"{v} {k}" for k, v in sorted(results.items()))
    older = f" (+{len(files) - 1} rotated)" if len(files) > 1 else ""
    click.echo(f"{len(records)} turns in {path}{older}" + (f": {counts}" if counts else ""))
    rows = latency_table(records)
    if not rows:
        click.echo("no timed turns yet")
        return
    click.echo(f"{'stage':<26} {'n':>5} {'p50':>8} {'p95':>8}")
    for name, n, p50, p95 in rows:
        click.echo(f"{name:<26} {n:>5} {format_ms(p50):>8} {format_ms(p95):>8}")
    rooms = sorted({str(r.get("session") or "local") for r in records})
    if rooms != ["local"]:  # satellites, the web page: which room said what
        click.echo(f"{'room (session)':<26} {'turns':>5} {'p50':>8} {'p95':>8}  end of speech -> first audio")
        for room in rooms:
            mine = [r for r in records if str(r.get("session") or "local") == room]
            timed = {name: (n, p50, p95) for name, n, p50, p95 in latency_table(mine)}
            n, p50, p95 = timed.get("eos_to_first_audio", (0, float("nan"), float("nan")))
            cells = f"{format_ms(p50):>8} {format_ms(p95):>8}"  # "-" when untimed
            click.echo(f"{room:<26} {len(mine):>5} {cells}")


COMMANDS = [run_cmd, stats_cmd]
