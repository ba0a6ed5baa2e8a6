"""SIGTERM to a running `assistant run --input -` exits within 2 s with the history intact."""
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

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assistant/data/recordings/demo.wav"


@pytest.mark.slow
def test_sigterm_exits_quickly_with_history_intact(tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
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
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert elapsed <= 2.0, f"took {elapsed:.2f} s to stop"
    assert proc.returncode in (0, -signal.SIGTERM, 143)
    lines = history.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is whole JSON
    assert records and all(r["result"] in ("done", "failed", "ignored") for r in records)
