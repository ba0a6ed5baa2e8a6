"""wyoming-satellite 1.0.0 from PyPI (its own venv) driven by our SatelliteLink on 127.0.0.1.

Its --mic-command plays "Draw a red fox." (our local voice: no real recording of that phrase
exists, and this tests the protocol, not hearing) and its --snd-command writes what it plays to a
file: the picture must be saved (OpenAI stand-in) and the reply audio must reach that file.
Both modes: always streaming (no wake word on the satellite) and the satellite's own wake word
(a stand-in wake service that fires on the first audio). A satellite that goes away is
reconnected while the assistant goes on.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from wyoming.event import Event
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.wake import Detect, Detection

from assistant.audio.playback import NullSpeaker
from assistant.audio.resample import resample
from assistant.config import load_config, with_overrides
from assistant.engines import build_engines
from assistant.events import EventType
from assistant.faces.wyoming.satellite import SatelliteLink
from assistant.history import HistoryWriter, read_history
from assistant.tts.base import Speech
from tests.faces.satellite_venv import satellite_python
from tests.faces.wyoming_peers import free_port
from tests.standin import StandIn

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def sat_python():
    from assistant.loop import Assistant

    if not hasattr(Assistant, "handle_utterance"):
        pytest.skip("needs the turn-events loop (Assistant.handle_utterance)")
    python, why = satellite_python()
    if python is None:
        pytest.skip(why)
    return python


@pytest.fixture(scope="module")
def spoken_command(tmp_path_factory):
    """ "Draw a red fox." in our local English voice, 16 kHz s16le, with room before it."""
    cfg = with_overrides(load_config(), tts={"backend": "local", "deterministic": True})
    engines = build_engines(cfg, speaker=NullSpeaker())
    synth = engines.synthesizer
    speech = Speech.from_chunks(synth.synthesize("Draw a red fox.", voice="alloy", language="en"), synth.sample_rate)
    pcm = resample(speech.samples, synth.sample_rate, 16000)
    pcm = np.concatenate([np.zeros(8000, np.int16), pcm, np.zeros(16000, np.int16)])
    path = tmp_path_factory.mktemp("mic") / "draw-a-red-fox.raw"
    path.write_bytes(pcm.astype("<i2").tobytes())
    return path


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-satellite-0123456789")
    with StandIn() as server:
        yield server


def config(standin, tmp_path):
    return with_overrides(
        load_config(),
        stt={"backend": "local"},
        tts={"backend": "local", "deterministic": True},
        images={"backend": "openai", "base_url": standin.base_url, "timeout": 20.0, "max_retries": 0,
                "output_dir": str(tmp_path / "images")},
        service={"history": str(tmp_path / "history.jsonl"), "fallback_local": False},
    )


def start_satellite(python, port, raw, flag, out, *extra):
    mic = f"{sys.executable} {HERE / 'paced_mic.py'} {raw} {flag}"
    args = [str(python), "-m", "wyoming_satellite", "--uri", f"tcp://127.0.0.1:{port}", "--name", "kitchen sat",
            "--area", "Kitchen", "--no-zeroconf", "--mic-command", mic,
            "--snd-command", f"sh -c 'cat >> {out}'", "--snd-command-rate", "22050", *extra]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    import socket

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("wyoming-satellite did not listen")


def kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class FakeWake(AsyncEventHandler):
    """A wake-word service that 'hears' the wake word in the first audio after Detect."""

    armed = False
    detecting: asyncio.Event | None = None  # set once the satellite asked for detection

    async def handle_event(self, event: Event) -> bool:
        if Detect.is_type(event.type):
            self.armed = True
            if FakeWake.detecting is not None:
                FakeWake.detecting.set()
        elif event.type == "audio-chunk" and self.armed:
            self.armed = False
            await self.write_event(Detection(name="ok_nabu", timestamp=0).event())
        return True


async def drive(cfg, sat_port, flag, *, wake_port=None, until):
    """Run the assistant with a SatelliteLink until ``until(events)`` holds (or 120 s)."""
    from assistant.loop import Assistant

    wake_server = None
    if wake_port is not None:
        FakeWake.detecting = asyncio.Event()
        wake_server = AsyncTcpServer("127.0.0.1", wake_port)
        await wake_server.start(lambda r, w: FakeWake(r, w))
    engines = build_engines(cfg, speaker=NullSpeaker())
    assistant = Assistant(cfg, engines, history=HistoryWriter([Path(cfg.service.history)]))
    events = []
    assistant.subscribe(events.append)
    serving = asyncio.create_task(assistant.serve())
    link = SatelliteLink(cfg, "127.0.0.1", sat_port, backoff=(0.2, 1.0))
    await link.start(assistant)
    try:
        await asyncio.wait_for(link.connected.wait(), 30)
        await asyncio.sleep(0.5)  # RunSatellite -> the satellite starts its pipeline
        if wake_server is not None:  # the satellite reaches its wake service (it retries every few s)
            await asyncio.wait_for(FakeWake.detecting.wait(), 30)
        Path(flag).touch()
        deadline = time.monotonic() + 120
        while not until(events, link) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return events, link
    finally:
        await link.stop()
        assistant.stop()
        await asyncio.wait_for(serving, 10)
        if wake_server is not None:
            await wake_server.stop()


def drew_and_spoke(out):
    def check(events, link):
        saved = [e for e in events if e.type == EventType.IMAGE_SAVED and e.session == "Kitchen"]
        spoke = [e for e in events if e.type == EventType.REPLY_FINISHED and e.session == "Kitchen"]
        return len(saved) >= 1 and len(spoke) >= 2 and out.exists() and out.stat().st_size > 22050
    return check


@pytest.mark.parametrize("mode", ["always-streaming", "satellite-wake-word"])
def test_spoken_draw_from_the_satellite_saves_the_picture_and_plays_the_reply(mode, sat_python, spoken_command,
                                                                              standin, tmp_path):
    cfg = config(standin, tmp_path)
    out, flag = tmp_path / "played.raw", tmp_path / "go"
    sat_port = free_port()
    wake_port = free_port() if mode == "satellite-wake-word" else None
    extra = ["--wake-uri", f"tcp://127.0.0.1:{wake_port}", "--wake-word-name", "ok_nabu"] if wake_port else []
    proc = start_satellite(sat_python, sat_port, spoken_command, flag, out, *extra)
    try:
        events, link = asyncio.run(drive(cfg, sat_port, flag, wake_port=wake_port, until=drew_and_spoke(out)))
    finally:
        kill(proc)
    mine = [e for e in events if e.session == "Kitchen"]
    heard = [e.data["text"] for e in mine if e.type == EventType.TRANSCRIBED]
    assert any("fox" in t.lower() for t in heard), heard
    saved = [e for e in mine if e.type == EventType.IMAGE_SAVED]
    assert saved and Path(saved[0].data["path"]).is_file()
    played = np.frombuffer(out.read_bytes(), dtype="<i2")
    assert len(played) / 22050 > 1.0 and np.abs(played).max() > 1000  # real speech came out
    records = read_history(Path(cfg.service.history))
    assert any(r.get("session") == "Kitchen" or r.get("room") == "Kitchen" for r in records), records[-1]


def test_a_dropped_satellite_is_reconnected(sat_python, spoken_command, standin, tmp_path):
    cfg = config(standin, tmp_path)
    out, flag = tmp_path / "played.raw", tmp_path / "never"
    sat_port = free_port()
    proc = start_satellite(sat_python, sat_port, spoken_command, flag, out)

    async def main():
        from assistant.loop import Assistant

        assistant = Assistant(cfg, build_engines(cfg, speaker=NullSpeaker()))
        serving = asyncio.create_task(assistant.serve())
        link = SatelliteLink(cfg, "127.0.0.1", sat_port, backoff=(0.2, 1.0))
        await link.start(assistant)
        nonlocal proc
        try:
            await asyncio.wait_for(link.connected.wait(), 30)
            kill(proc)  # the room's satellite goes away ...
            for _ in range(100):
                if not link.connected.is_set():
                    break
                await asyncio.sleep(0.1)
            assert not link.connected.is_set()
            proc = start_satellite(sat_python, sat_port, spoken_command, flag, out)  # ... and comes back
            await asyncio.wait_for(link.connected.wait(), 30)
            ticket = await assistant.handle_text("help")  # the assistant went on meanwhile
            await asyncio.wait_for(ticket.finished(), 60)
            return link.connections
        finally:
            await link.stop()
            assistant.stop()
            await asyncio.wait_for(serving, 10)

    try:
        assert asyncio.run(main()) == 2
    finally:
        kill(proc)


def test_run_satellite_from_the_command_line(sat_python, spoken_command, standin, tmp_path):
    """`assistant run --satellite` (the microphone replaced by a silent stdin) against the real satellite."""
    out, flag = tmp_path / "played.raw", tmp_path / "go"
    images, history = tmp_path / "images", tmp_path / "history.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f'[stt]\nbackend = "local"\n[tts]\nbackend = "local"\ndeterministic = true\n'
                      f'[images]\nbackend = "openai"\nbase_url = "{standin.base_url}"\nmax_retries = 0\n'
                      f'output_dir = "{images}"\n[service]\nhistory = "{history}"\nfallback_local = false\n')
    sat_port = free_port()
    sat = start_satellite(sat_python, sat_port, spoken_command, flag, out)
    env = {**os.environ, "ASSISTANT_CONFIG": str(config)}
    run = subprocess.Popen([sys.executable, "-m", "assistant", "-v", "run", "--input", "-", "--input-format", "raw",
                            "--rate", "16000", "--quiet", "--satellite", f"tcp://127.0.0.1:{sat_port}"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                           cwd=str(HERE.parents[1]))
    try:
        deadline = time.monotonic() + 60
        while not b"connected" in (log := _peek(run)) and time.monotonic() < deadline:
            time.sleep(0.2)
        flag.touch()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (list(images.glob("*.png")) and out.exists()
                                                   and out.stat().st_size > 44100 and history.exists()
                                                   and "Kitchen" in history.read_text()):
            time.sleep(0.2)
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(10)
        except subprocess.TimeoutExpired:
            run.kill()
        kill(sat)
    assert list(images.glob("*.png")), _peek(run).decode(errors="replace")[-2000:]
    assert out.stat().st_size > 44100  # the reply was played in the room
    assert any(r.get("session") == "Kitchen" and r.get("intent") == "draw" for r in read_history(history))


_PEEKED: dict[int, bytes] = {}


def _peek(proc) -> bytes:
    """What the process logged so far (non-blocking)."""
    import fcntl

    fd = proc.stderr.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    try:
        chunk = proc.stderr.read() or b""
    except (BlockingIOError, ValueError):
        chunk = b""
    _PEEKED[proc.pid] = _PEEKED.get(proc.pid, b"") + chunk
    return _PEEKED[proc.pid]
