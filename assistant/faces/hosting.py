"""Starting and stopping faces around a running assistant, and `assistant serve` (no microphone)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, AsyncIterator, Callable, Sequence

log = logging.getLogger(__name__)
FACE_STOP_S = 0.5  # SIGTERM must exit within 2 s in total
WATCHDOG_S = 10.0  # WATCHDOG=1 while the event loop turns (assistant-serve.service: WatchdogSec=30)


async def _watchdog(notifier: Any, serve_task: asyncio.Task) -> None:
    """A hung event loop stops these pings, and systemd restarts the server."""
    while notifier is not None and not serve_task.done():
        notifier.watchdog()
        await asyncio.sleep(WATCHDOG_S)


@contextlib.asynccontextmanager
async def faces_started(assistant: Any, faces: Sequence[Any]) -> AsyncIterator[list[Any]]:
    """Start every face (in order); stop the started ones on the way out, each within FACE_STOP_S."""
    started: list[Any] = []
    try:
        for face in faces:
            await face.start(assistant)
            started.append(face)
        yield started
    finally:
        for face in reversed(started):
            try:
                await asyncio.wait_for(face.stop(), FACE_STOP_S)
            except Exception as exc:  # one face failing to stop must not keep the others open
                log.warning("stopping %s: %s", type(face).__name__, exc)


async def serve(assistant: Any, faces: Sequence[Any], *, stop_deadline: float = 0.6,
                on_reload: Callable[[], Any] | None = None) -> None:
    """Run the assistant without local audio (``Assistant.serve``) with ``faces`` until SIGTERM/SIGINT;
    SIGHUP calls ``on_reload`` (its default action would end the server)."""
    from ..service.runner import EXIT_DEADLINE_S, _exit_by, _hard_exit  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()

    def on_stop() -> None:
        # first, as `run` does: a model still loading in a thread (warm-up) kept the process
        # alive for tens of seconds after SIGTERM; the process now ends in time regardless
        _exit_by(EXIT_DEADLINE_S)
        stopped.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_stop)
    if on_reload is not None:
        from ..service.sighup import take_pending  # noqa: PLC0415

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, on_reload)
            take_pending(loop, on_reload)
    serve_task = asyncio.create_task(assistant.serve(), name="assistant")
    await asyncio.sleep(0)  # serve() sets up its queues before the first face takes a request
    try:
        async with faces_started(assistant, faces):
            notifier = getattr(assistant, "notifier", None)
            if notifier is not None:
                notifier.ready()
                notifier.status("serving " + ", ".join(getattr(f, "uri", type(f).__name__) for f in faces))
            stop_wait = asyncio.create_task(stopped.wait())
            pinger = asyncio.create_task(_watchdog(notifier, serve_task))
            await asyncio.wait({serve_task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            pinger.cancel()
    finally:
        assistant.stop()
        if not serve_task.done() and not assistant.loading:  # a model load cannot be hurried
            try:
                await asyncio.wait_for(serve_task, stop_deadline)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                log.warning("work still running at shutdown was abandoned")
        elif serve_task.done() and not serve_task.cancelled() and serve_task.exception() is not None:
            raise serve_task.exception()  # (a face that failed to start is already on its way out)
    if stopped.is_set():  # signalled: threads stuck in a model call must not hold the exit
        _hard_exit()
