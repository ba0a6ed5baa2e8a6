"""Runs the assistant loop as a process: engines, sources, signals, sd_notify, history."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Sequence

from ..config import Config, load_config
from ..errors import AssistantError
from ..memory import TrimWhenIdle
from ..history import HistoryWriter, default_history_path
from .notify import Notifier
from .sighup import take_pending

if TYPE_CHECKING:
    from ..audio.sources import MicSource
    from ..engines import Engines
    from ..loop import Assistant

log = logging.getLogger(__name__)
STOP_DEADLINE_S = 0.6  # for the loop to record what was pending as failed
EXIT_DEADLINE_S = 1.0  # systemd's TimeoutStopSec is 5 s; we promise 2 s (a loaded machine needs the margin)


def _source_factory(cfg: Config, input_path: str | None, input_format: str, rate: int | None, realtime: bool) -> Callable[[], Any]:
    from ..audio.sources import FileSource, MicSource, existing_audio_file

    if input_path is not None:
        if input_path != "-":
            existing_audio_file(input_path)
        return lambda: FileSource(input_path, input_format=input_format, rate=rate, realtime=realtime)
    # Under systemd the microphone is retried forever (it may be plugged in later); run by hand,
    # a microphone that never opened is an error the user should see at once.
    state = {"opened": bool(os.environ.get("NOTIFY_SOCKET"))}
    return lambda: _LiveMic(MicSource(cfg.audio.input_device or None, rate=cfg.audio.mic_rate), state)


class _LiveMic:
    """Turns microphone failures into SourceLost so the loop reopens the device with backoff."""

    def __init__(self, mic: MicSource, state: dict[str, bool]):
        self.mic = mic
        self.state = state

    async def frames(self):
        from ..loop import SourceLost

        try:
            async for frame in self.mic.frames():
                self.state["opened"] = True
                yield frame
        except AssistantError as exc:
            if not self.state["opened"]:
                raise
            raise SourceLost(str(exc)) from exc
        finally:
            self.mic.close()


def run_assistant(
    cfg: Config,
    *,
    input_path: str | None,
    input_format: str = "auto",
    rate: int | None = None,
    realtime: bool = False,
    output_dir: Path | None = None,
    wake_word: str | None = None,
    echo: Callable[[str], None] = print,
    config_path: str | None = None,
    engines: "Engines | None" = None,
    events: IO[str] | None = None,
    faces: Sequence[Any] = (),
) -> list:
    """Run the loop until the input ends or a signal stops it. ``events``: a text stream that
    gets every turn event as a JSON line (``run --events``). The models start loading as soon as
    the engines exist (``start_warm_up``): the loop is imported and set up meanwhile."""
    from ..engines import build_engines, start_warm_up

    notifier = Notifier()  # a no-op without $NOTIFY_SOCKET
    holder: dict[str, Assistant] = {}
    history_paths = [default_history_path(cfg.service.history)]
    if output_dir is not None:
        history_paths.append(output_dir / "turns.jsonl")
    history = _history_writer(history_paths, cfg)
    source_factory = _source_factory(cfg, input_path, input_format, rate, realtime)
    wake_gate = None
    if wake_word:
        from ..vad.wakeword import WakeGate

        wake_gate = WakeGate(wake_word)
    if engines is None:
        engines = build_engines(cfg, speaker=_speaker_for(cfg, output_dir, input_path),
                                on_fallback=lambda what: holder["assistant"].fallback_notice(what))
    warming = start_warm_up(engines, cfg.tts.voice)
    from ..loop import Assistant  # ~0.2 s of imports, while the models load
    from ..audio.echo import wrap_factory  # the assistant's own voice out of the microphone

    source_factory = wrap_factory(source_factory, cfg, microphone=input_path is None, speaker=engines.speaker)
    assistant = Assistant(
        cfg,
        engines,
        output_dir=output_dir,
        history=history,
        notifier=notifier,
        turn_based=input_path is not None and not realtime,
        wake_gate=wake_gate,
        console=echo,
        warm_up=warming,
        # a file or stdin cannot hear the assistant, nor can anything when nothing is played
        hears_itself=input_path is None and engines.speaker.audible,
    )
    holder["assistant"] = assistant
    assistant.subscribe(TrimWhenIdle())  # idle RSS stays where warm-up left it (assistant/memory.py)
    if events is not None:
        from ..listeners import JsonLinesListener

        assistant.subscribe(JsonLinesListener(events))
    return asyncio.run(_main(assistant, source_factory, config_path, faces))


def _history_writer(paths: list[Path], cfg: Config) -> Any:
    """The history writer (rotated per [service]); a state dir that cannot be created is reported, not fatal."""
    try:
        return HistoryWriter(paths, max_bytes=int(cfg.service.history_max_mb * 2**20), keep=cfg.service.history_keep)
    except (OSError, AssistantError) as exc:
        log.warning("history is not kept (%s)", getattr(exc, "strerror", None) or exc)
        return None


def _speaker_for(cfg: Config, output_dir: Path | None, input_path: str | None) -> Any:
    from ..audio.playback import NullSpeaker, Speaker

    if input_path is not None and output_dir is not None and os.environ.get("ASSISTANT_PLAY") != "1":
        return NullSpeaker()  # a file run with an output dir writes replies; it need not play them
    ok, why = Speaker.available()
    if not ok:
        log.warning("%s; replies are not played", why)
        return NullSpeaker()
    return Speaker(cfg.audio.output_device or None)


async def _main(assistant: Assistant, source_factory: Callable[[], Any], config_path: str | None,
                faces: Sequence[Any] = ()) -> list:
    """The loop, with ``faces`` (the web page, …) started beside it and stopped after it."""
    from ..faces.hosting import faces_started

    async with faces_started(assistant, faces):
        turns, signalled = await _run(assistant, source_factory, config_path)
    if signalled:  # a thread stuck in a model call or a stdin read must not hold the exit
        _hard_exit()
    return turns


async def _run(assistant: Assistant, source_factory: Callable[[], Any], config_path: str | None) -> tuple[list, bool]:
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()

    def on_stop() -> None:
        _exit_by(EXIT_DEADLINE_S)  # first: whatever happens below, the process ends in time
        log.info("stopping")
        stopped.set()
        try:
            assistant.stop()
        except Exception:  # stop must never keep the process alive
            log.exception("stopping the loop failed")

    def on_reload() -> None:
        reload(assistant, config_path)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_stop)
    loop.add_signal_handler(signal.SIGHUP, on_reload)
    take_pending(loop, on_reload)  # a SIGHUP that came while the models loaded
    run_task = asyncio.create_task(assistant.run(source_factory))
    stop_wait = asyncio.create_task(stopped.wait())
    done, _ = await asyncio.wait({run_task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if run_task in done:
        stop_wait.cancel()
        return run_task.result(), False
    # Stopping: give the loop a moment to record what was pending; a model call still running in
    # a thread cannot be interrupted, so the process exits then (or by the timer armed by on_stop).
    # While the models are still loading there is nothing to record and no way to hurry the load.
    if assistant.loading:
        log.info("stopped while loading the models")
        return list(assistant.turns), True
    try:
        return await asyncio.wait_for(run_task, STOP_DEADLINE_S), True
    except (asyncio.TimeoutError, asyncio.CancelledError):
        log.warning("work still running at shutdown was abandoned")
        return list(assistant.turns), True


def reload(assistant: Assistant, config_path: str | None) -> bool:
    """SIGHUP: the config file read and checked as at start (``load_config``, the same checks as
    ``run``, ``doctor`` and ``config show``), the engines rebuilt from it (what did not change is
    kept, and so is the fallback notice) and applied. A bad file keeps the old config: one log
    line naming the key. ``[audio]`` keys the open microphone cannot take are named."""
    from ..engines import audio_needs_restart, build_engines

    try:
        cfg = load_config(config_path)
        engines = build_engines(cfg, assistant.engines)
    except AssistantError as exc:
        log.error("config reload failed, keeping the old one: %s", exc)
        return False
    except Exception as exc:  # noqa: BLE001 - a reload must never take the running daemon down
        log.error("config reload failed, keeping the old one: %s: %s", type(exc).__name__, exc)
        return False
    restart = audio_needs_restart(assistant.cfg, cfg)
    log.info("config reloaded; changed: %s", ", ".join(assistant.reload(cfg, engines)) or "nothing")
    if restart:
        log.warning("%s: applied after a restart", ", ".join(restart))
    return True


def _exit_by(seconds: float) -> None:
    """Threads blocked in native code (a model call, a stdin read) would keep the interpreter
    from exiting; after ``seconds`` the process exits regardless (history lines are whole by then)."""

    timer = threading.Timer(seconds, _hard_exit)
    timer.daemon = True
    timer.start()


def _hard_exit() -> None:
    """Flush and exit now, without waiting for worker threads (history lines are whole)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)
