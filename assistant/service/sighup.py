"""SIGHUP before the loop takes it. Its default action ends the process, and `run`/`serve` take
seconds (imports, model loading) before their event loop handles it: a reload sent meanwhile
killed the daemon. From the first line of the CLI on, it is remembered and done once the loop runs.
Kept free of heavy imports: it is installed before click and numpy are loaded."""
from __future__ import annotations

import signal
import threading
from typing import Any, Callable, Sequence

DAEMON_COMMANDS = ("run", "serve")
_pending = threading.Event()


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand in ``argv`` (after the group's own options: --config FILE, -v, …)."""
    args = iter(argv)
    for arg in args:
        if arg in ("--config",):
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def hold_reloads() -> None:
    """A SIGHUP from now on is remembered (see ``take_pending``) instead of ending the process."""
    signal.signal(signal.SIGHUP, lambda *_: _pending.set())


def hold_reloads_for(argv: Sequence[str]) -> None:
    """``hold_reloads`` when ``argv`` (sys.argv) is `assistant run|serve` (``say`` still ends on a
    hangup, and so does a test run importing the CLI)."""
    program = argv[0].replace("\\", "/").rsplit("/", 1)[-1] if argv else ""
    if program in ("assistant", "__main__.py") and command_of(argv[1:]) in DAEMON_COMMANDS:
        hold_reloads()


def take_pending(loop: Any, on_reload: Callable[[], None]) -> None:
    """Once ``on_reload`` is the loop's SIGHUP handler: a SIGHUP that came while starting is done now."""
    if _pending.is_set():
        _pending.clear()
        loop.call_soon(on_reload)
