"""`assistant run` as a user's daemon for memory tests and benches: local engines, raw 16 kHz
input on stdin, the event stream on stdout, its own state and data dirs, no API key."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]


def start_local(tmp: str | Path, *, realtime: bool = True, extra_config: str = "") -> subprocess.Popen:
    """Start it in ``tmp`` (its config and dirs go there); the caller closes stdin to end it.
    MALLOC_ARENA_MAX and CT2_USE_MKL are left to the daemon (it sets both itself)."""
    tmp = Path(tmp)
    config = tmp / "config.toml"
    config.write_text(f'[stt]\nbackend = "local"\n[tts]\nbackend = "local"\n{extra_config}\n')
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "MALLOC_ARENA_MAX", "CT2_USE_MKL")}
    env.update(XDG_STATE_HOME=str(tmp / "state"), XDG_DATA_HOME=str(tmp / "data"), PYTHONPATH=str(ROOT))
    args = [sys.executable, "-m", "assistant", "--config", str(config), "run", "--input", "-",
            "--input-format", "raw", "--rate", "16000", *(["--realtime"] if realtime else []),
            "--events", "-", "--quiet"]
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            cwd=ROOT, env=env)


def events(proc: subprocess.Popen) -> Iterator[dict[str, Any]]:
    """The daemon's events (``--events -`` on stdout), parsed, until it closes stdout; a line that
    is not JSON (a library printing to stdout) is skipped."""
    for line in proc.stdout:
        try:
            yield json.loads(line)
        except ValueError:
            continue


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time (user + system) a process has used, from /proc (nan elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def runnable_threads(pid: int | str = "self") -> int:
    """How many of a process's threads are running or waiting for a CPU (state R), from /proc."""
    n = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                n += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            pass
    return n


def wait_until_quiet(pid: int, busy_share: float = 0.15, window_s: float = 1.0, timeout_s: float = 300.0) -> bool:
    """Wait until process ``pid`` used less than ``busy_share`` of a core over ``window_s`` and
    none of its threads was runnable in most samples (its background work, such as preparing the
    fixed replies after warm-up, is over). The second test matters on a loaded machine: a thread
    that waits for a CPU uses little of one, but it is runnable the whole time."""
    deadline = time.monotonic() + timeout_s
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        samples = runnable = 0
        end = time.monotonic() + window_s
        while time.monotonic() < end:
            time.sleep(window_s / 10)
            samples += 1
            runnable += runnable_threads(pid) > 0
        now = cpu_seconds(pid)
        if now != now or (now - before < busy_share * window_s and runnable <= samples // 2):
            return True
        before = now
    return False
