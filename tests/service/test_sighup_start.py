"""A SIGHUP while `run` is starting (imports, model loading: seconds) is done once the loop runs.
Its default action used to end the daemon: `kill -HUP` 0.3-2 s after the start exited with -1."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.service.sighup import command_of, hold_reloads_for

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assistant/data/recordings/demo.wav"


@pytest.mark.parametrize("argv, command", [(["run"], "run"), (["--config", "run", "serve"], "serve"),
                                           (["-v", "-v", "say", "run"], "say"), ([], None)])
def test_command_of_skips_the_group_options(argv, command):
    assert command_of(argv) == command


def test_only_the_daemon_commands_hold_sighup():
    before = signal.getsignal(signal.SIGHUP)
    try:
        hold_reloads_for(["/usr/bin/assistant", "say", "run"])
        hold_reloads_for(["/x/pytest", "run"])
        assert signal.getsignal(signal.SIGHUP) is before
        hold_reloads_for(["/usr/bin/assistant", "--config", "c.toml", "run", "--input", "-"])
        assert signal.getsignal(signal.SIGHUP) is not before
    finally:
        signal.signal(signal.SIGHUP, before)


def _caught(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    return 0


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads SigCgt from /proc")
def test_sighup_while_loading_is_a_reload_afterwards(tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    audio, rate = sf.read(DEMO, dtype="int16")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "-v", "run", "--input", "-", "--input-format", "raw", "--rate", str(rate),
         "--output-dir", str(tmp_path / "out"), "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(line.decode(errors="replace") for line in proc.stderr),
                              daemon=True)
    reader.start()
    hup, term = 1 << (signal.SIGHUP - 1), 1 << (signal.SIGTERM - 1)
    try:
        deadline = time.monotonic() + 60
        while not _caught(proc.pid) & hup:  # the CLI's first line takes SIGHUP
            assert proc.poll() is None and time.monotonic() < deadline, "".join(log)
            time.sleep(0.005)
        # the loop's handlers (SIGTERM with them) come only after the models are loaded
        assert not _caught(proc.pid) & term, "SIGHUP was taken only by the running loop"
        proc.send_signal(signal.SIGHUP)
        proc.send_signal(signal.SIGHUP)
        proc.stdin.write(audio[: int(3.0 * rate)].tobytes() + np.zeros(rate, np.int16).tobytes())
        proc.stdin.close()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert proc.returncode == 0, "".join(log)[-2000:]
    assert any("config reloaded" in line for line in log), "".join(log)[-2000:]
    assert list((tmp_path / "out").glob("reply-*.wav")), "the turn after the reload was not answered"
