"""`assistant run` as a user's daemon for memory tests and benches: local engines, raw 16 kHz
input on stdin, the event stream on stdout, its own state and data dirs, no API key."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]


def start_local(tmp: str | Path, *, realtime: bool = True, extra_config: str = "") -> subprocess.Popen:
    """Start it in ``tmp`` (its config and dirs go there); the caller closes stdin to end it.
    MALLOC_ARENA_MAX is left to the daemon (it sets one arena itself)."""
    tmp = Path(tmp)
    config = tmp / "config.toml"
    config.write_text(f'[stt]\nbackend = "local"\n[tts]\nbackend = "local"\n{extra_config}\n')
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "MALLOC_ARENA_MAX")}
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
