"""SIGHUP with an invalid config keeps the old one and the daemon keeps answering (issue 17 #3).

Before: `[vad] pre_roll_ms = -300` reloaded into `ValueError: maxlen must be non-negative` and the
process died. Each bad file here must give one log line naming the key, and the turns after it
must still be answered."""
from __future__ import annotations

import json
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

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assistant/data/recordings/demo.wav"
BAD = [("[vad]\npre_roll_ms = -300\n", "vad.pre_roll_ms"), ("[stt]\ntimeout = nan\n", "stt.timeout"),
       ("[stt]\nmax_retries = -1\n", "stt.max_retries"), ('[tts]\nvoice = "bob"\n', "tts.voice"),
       ("[vad]\nhangover_ms = -100\n", "vad.hangover_ms"), ("not toml [", "invalid TOML"),
       ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),  # was a RecursionError
       (None, "not a regular file")]  # the config path replaced by a FIFO: was a frozen loop


def _wait(pred, what: str, proc, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert proc.poll() is None, f"the daemon died waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.slow
def test_sighup_with_bad_values_keeps_the_old_config_and_answering(tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}  # this checkout's code
    env.pop("OPENAI_API_KEY", None)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[tts]\nspeed = 1.0\n")
    audio, rate = sf.read(DEMO, dtype="int16")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--config", str(cfg), "run", "--input", "-", "--input-format", "raw",
         "--rate", str(rate), "--output-dir", str(tmp_path / "out"), "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(line.decode(errors="replace") for line in proc.stderr),
                              daemon=True)
    reader.start()
    history = tmp_path / "state" / "assistant" / "history.jsonl"

    def turns() -> int:
        return len(history.read_text().splitlines()) if history.exists() else 0

    try:
        proc.stdin.write(audio[: int(3.0 * rate)].tobytes() + np.zeros(rate, np.int16).tobytes())
        proc.stdin.flush()
        _wait(lambda: turns() >= 1, "the first turn", proc)
        for text, key in BAD:
            if text is None:
                cfg.unlink()
                os.mkfifo(cfg)
            else:
                cfg.write_text(text)
            proc.send_signal(signal.SIGHUP)
            _wait(lambda key=key: any("keeping the old one" in line and key in line for line in log),
                  f"the reload error for {key}: {log[-5:]}", proc, 30)
        before = turns()
        proc.stdin.write(audio[int(3.0 * rate): int(8.0 * rate)].tobytes() + np.zeros(rate, np.int16).tobytes())
        proc.stdin.flush()
        _wait(lambda: turns() > before, "a turn after the bad reloads", proc)
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert proc.returncode == 0, "".join(log)[-2000:]
    failures = [line for line in log if "keeping the old one" in line]
    assert len(failures) == len(BAD)  # one line each
    assert not any("Traceback" in line for line in log)
    records = [json.loads(line) for line in history.read_text().splitlines()]
    assert len(records) > before
