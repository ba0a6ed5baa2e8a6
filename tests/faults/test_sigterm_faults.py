"""SIGTERM while the API is misbehaving (a transcription answer trickling in, a speech answer cut
off): `assistant run --input -` exits within the promised 2 s, history lines whole."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.signals import StopClock
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assistant/data/recordings/demo.wav"


@pytest.mark.slow
@pytest.mark.parametrize("operation,kind,options", [
    ("transcription", "trickle", {"piece": 1, "every": 0.5}),   # an answer that never quite arrives
    ("speech", "truncated", {}),
])
def test_sigterm_during_a_fault_exits_within_2_s(tmp_path, operation, kind, options):
    audio, rate = sf.read(DEMO, dtype="int16")
    with StandIn() as srv:
        srv.transcript_text = "speak slower"
        srv.fault(operation, kind, times=100, **options)
        conf = tmp_path / "config.toml"
        conf.write_text("".join(f'[{s}]\nbackend = "openai"\nbase_url = "{srv.base_url}"\nmax_retries = 0\n'
                                f'timeout = 30.0\n' for s in ("stt", "tts"))
                        + "[service]\nfallback_local = false\n")
        env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
               "XDG_CONFIG_HOME": str(tmp_path / "config"), "ASSISTANT_CONFIG": str(conf),
               "OPENAI_API_KEY": "sk-test-sigterm-0123456789", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "run", "--input", "-", "--input-format", "raw", "--rate", str(rate),
             "--output-dir", str(tmp_path / "out"), "--quiet"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        try:
            proc.stdin.write(audio[: int(3.0 * rate)].tobytes() + np.zeros(rate, np.int16).tobytes())
            proc.stdin.flush()   # stdin stays open: the run would go on listening
            endpoint = {"transcription": "/audio/transcriptions", "speech": "/audio/speech"}[operation]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(r.endpoint == endpoint for r in srv.requests):
                assert proc.poll() is None, proc.stderr.read().decode()
                time.sleep(0.05)
            assert any(r.endpoint == endpoint for r in srv.requests), "the fault was never reached"
            time.sleep(0.2)
            with StopClock() as clock:
                stop = clock.stop(proc)               # waits up to 10 s; the promise is checked below
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"SIGTERM -> exit: {stop}")
    assert stop.elapsed <= stop.limit, str(stop)  # 2 s, plus the wait any process had for the CPU
    stderr = proc.stderr.read().decode()
    assert "Traceback" not in stderr, stderr
    history = tmp_path / "state" / "assistant" / "history.jsonl"
    for line in history.read_text().splitlines() if history.exists() else []:
        json.loads(line)
