"""SIGTERM to a running `assistant run --input -` exits within 2 s with the history intact.
The 2 s are measured beside an idle reference process signalled at the same instant
(tests/signals.py): under load the allowance is what any process waited for the CPU."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.signals import StopClock

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assistant/data/recordings/demo.wav"


@pytest.mark.slow
def test_sigterm_exits_quickly_with_history_intact(tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}  # this checkout's code
    env.pop("OPENAI_API_KEY", None)
    audio, rate = sf.read(DEMO, dtype="int16")
    speech = audio[: int(8.0 * rate)]  # the first three commands
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "run", "--input", "-", "--input-format", "raw", "--rate", str(rate),
         "--output-dir", str(tmp_path / "out"), "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )
    history = tmp_path / "state" / "assistant" / "history.jsonl"
    try:
        proc.stdin.write(speech.tobytes())
        proc.stdin.write(np.zeros(rate, np.int16).tobytes())
        proc.stdin.flush()  # stdin stays open: the run would go on listening
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (history.exists() and history.read_text().strip()):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
        assert history.exists(), "no turn was recorded"
        with StopClock() as clock:
            stop = clock.stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    print(stop)
    assert stop.elapsed <= stop.limit, str(stop)  # 2 s, plus the wait any process had for the CPU
    assert proc.returncode in (0, -signal.SIGTERM, 143)
    lines = history.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is whole JSON
    assert records and all(r["result"] in ("done", "failed", "ignored") for r in records)


def _caught(pid: int, sig: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
    return False


@pytest.mark.slow
@pytest.mark.parametrize("command", [["serve", "--wyoming", "tcp://127.0.0.1:{port}"],
                                     ["run", "--input", "-", "--input-format", "raw", "--rate", "16000"]])
def test_sigterm_while_the_models_load_exits_in_time(tmp_path, command):
    """`serve` signalled while warming up waited for the model load in its thread: alive 20 s
    after SIGTERM (found by the hostile acceptance run). The loop takes SIGTERM from the moment it
    runs, while the models are still loading; from then on, 2 s."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    proc = subprocess.Popen([sys.executable, "-m", "assistant", *(a.format(port=port) for a in command)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not _caught(proc.pid, signal.SIGTERM):  # the event loop runs: warming up
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.005)
        with StopClock() as clock:
            stop = clock.stop(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(stop)
    assert stop.elapsed <= stop.limit, str(stop)
    assert proc.returncode in (0, -signal.SIGTERM, 143)
    assert "Traceback" not in proc.stderr.read().decode()
