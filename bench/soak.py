"""Soak: an hour of audio (the demo commands, looped) fed faster than real time through the real
segmenter and the loop with fake engines. Prints RSS and loop latency at the start and the end.

With ``--faults`` the engines are the real openai ones against the strict stand-in, a drawing
command joins the mix, and before a share of the turns (``--fault-rate``) one random fault is
armed for a random operation (garbage, cut bodies, resets, every error status): it
prints how turns ended, the faults injected, RSS drift, and checks that every saved file
decodes, every history line is whole JSON and the stand-in saw no invalid request.

With ``--idle`` it measures the daemon itself: ``assistant run`` with the local engines in a
subprocess (stdin input), its RSS once every model is warm (the "listening" state), then after
each round of real recordings (../shared/corpus, English and Korean, answered by the local
voices): idle RSS, its drift and the peak (goal, issue 17: idle RSS <= 350 MB).

Usage: python bench/soak.py [--minutes 60] [--faults [--fault-rate 0.3] [--seed 1]]
       python bench/soak.py --idle [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from _common import ROOT, end_daemon, p50_p95

from assistant.audio.format import FRAME_SAMPLES, SAMPLE_RATE, split_frames
from assistant.config import load_config
from assistant.history import HistoryWriter
from assistant.loop import Assistant
from assistant.memory import release
from tests.loop.fakes import FakeSpeaker, FakeSynthesizer, FakeTranscript

TEXTS = [("speak slower", "en"), ("help", "en"), ("speak faster", "en"), ("what can you do", "en"),
         ("천천히 말해줘", "ko"), ("normal speed", "en"), ("stop", "en"), ("the weather is nice", "en")]


class CyclingTranscriber:
    def __init__(self):
        self._texts = itertools.cycle(TEXTS)

    def transcribe(self, audio, **_kw):
        text, lang = next(self._texts)
        return FakeTranscript(text, lang)

    def listen_ahead(self, pcm):
        pass


class LoopedSource:
    def __init__(self, seconds: float, on_progress):
        audio, rate = sf.read(ROOT / "assistant/data/recordings/demo.wav", dtype="int16")
        assert rate == SAMPLE_RATE
        self.frames_once = split_frames(audio)
        self.total = int(seconds * SAMPLE_RATE / FRAME_SAMPLES)
        self.on_progress = on_progress

    async def frames(self):
        for n, frame in enumerate(itertools.islice(itertools.cycle(self.frames_once), self.total)):
            if n % 2000 == 0:
                self.on_progress(n * FRAME_SAMPLES / SAMPLE_RATE)
            yield frame


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class FaultyApi:
    """The openai engines against the stand-in; before each transcription a fault may be armed."""

    OPERATIONS = ("transcription", "speech", "generate")

    def __init__(self, srv, tmp: Path, rate: float, seed: int):
        import random

        from assistant.config import with_overrides
        from assistant.images.factory import make_image_service
        from assistant.stt.openai import OpenAITranscriber
        from assistant.tts.openai import OpenAISynthesizer

        self.srv, self.rng, self.rate = srv, random.Random(seed), rate
        self.texts = itertools.cycle(TEXTS + [("draw a small red fox", "en")])
        self.injected: dict[str, int] = {}
        self.requests = 0
        service = {"base_url": srv.base_url, "timeout": 3.0, "max_retries": 1}
        self.cfg = with_overrides(load_config(), stt={**service, "backend": "openai"},
                                  tts={**service, "backend": "openai"},
                                  images={**service, "backend": "openai", "model": "dall-e-2", "size": "256x256",
                                          "output_dir": str(tmp / "images")},
                                  chat={**service, "backend": "openai"},  # the stand-in, never the internet
                                  service={"fallback_local": False})
        self.stt = OpenAITranscriber(self.cfg.stt)
        self.tts = OpenAISynthesizer(self.cfg.tts)
        self.images = lambda: make_image_service(self.cfg)

    def transcribe(self, audio, **kw):
        from tests.standin import kinds_for

        text, _lang = next(self.texts)
        self.srv.transcript_text = text
        with self.srv._lock:
            self.srv._scripts.clear()
            self.requests += len(self.srv.requests)
            self.srv.requests.clear()          # the stand-in's record, not the assistant's memory
        if self.rng.random() < self.rate:
            op = self.rng.choice(self.OPERATIONS)
            kind = self.rng.choice([k for k in kinds_for(op) if k != "trickle"])
            self.srv.fault(op, kind, times=self.rng.choice((1, 2, 3)), size=2048)
            key = f"{op}:{kind}"
            self.injected[key] = self.injected.get(key, 0) + 1
        return self.stt.transcribe(audio, **kw)

    def listen_ahead(self, pcm):
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--faults", action="store_true", help="openai engines on the stand-in, faults in the mix")
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--idle", action="store_true", help="idle RSS of `assistant run` with the local models")
    parser.add_argument("--rounds", type=int, default=3, help="--idle: rounds of real recordings")
    args = parser.parse_args()
    if args.idle:
        return idle_rss(args.rounds)
    if args.faults:
        return soak_with_faults(args)
    from assistant.engines import Engines

    engines = Engines(CyclingTranscriber(), FakeSynthesizer(), FakeSpeaker(), lambda: None)
    samples: list[tuple[float, float]] = []

    def progress(audio_s: float) -> None:
        gc.collect()
        release()  # live memory, not the free pages a daemon gives back when idle (assistant/memory.py)
        samples.append((audio_s, rss_mb()))

    with tempfile.TemporaryDirectory() as tmp:
        history = HistoryWriter([Path(tmp) / "history.jsonl"])
        assistant = Assistant(load_config(), engines, history=history, turn_based=True)
        t0 = time.perf_counter()
        turns = asyncio.run(assistant.run(lambda: LoopedSource(args.minutes * 60, progress)))
        wall = time.perf_counter() - t0
    engines.synthesizer.spoken.clear()
    lat = [t.timings().get("overhead_to_first_audio") for t in turns]
    lat = [x for x in lat if x is not None]
    tenth = max(1, len(lat) // 10)
    start, end = p50_p95(lat[:tenth]), p50_p95(lat[-tenth:])
    warm = samples[min(1, len(samples) - 1)]
    last = samples[-1]
    print(f"audio {args.minutes:.0f} min in {wall:.1f} s ({args.minutes * 60 / wall:.0f}x real time), {len(turns)} turns")
    print(f"RSS start {warm[1]:.1f} MB (at {warm[0] / 60:.1f} min), end {last[1]:.1f} MB (at {last[0] / 60:.1f} min): "
          f"drift {last[1] - warm[1]:+.1f} MB")
    print(f"loop overhead p50/p95 first 10%: {start[0] * 1000:.2f}/{start[1] * 1000:.2f} ms, "
          f"last 10%: {end[0] * 1000:.2f}/{end[1] * 1000:.2f} ms")
    return 0


class _Unexpected(__import__("logging").Handler):
    """Prints the first few unexpected exceptions (log.exception) that the loop survived."""

    seen = 0

    def emit(self, record) -> None:
        if record.exc_info and _Unexpected.seen < 3:
            _Unexpected.seen += 1
            import traceback

            print("unexpected:", record.getMessage(), "".join(traceback.format_exception(*record.exc_info))[-1500:])


def soak_with_faults(args) -> int:
    import collections
    import json
    import logging

    import openai._base_client as sdk

    from assistant.engines import Engines
    from tests.faults.harness import check_outputs
    from tests.standin import StandIn

    logging.disable(logging.WARNING)           # thousands of expected "turn failed" lines
    logging.getLogger("assistant").addHandler(_Unexpected())
    sdk.INITIAL_RETRY_DELAY = 0.02             # the SDK's backoff, not what is soaked
    os.environ.setdefault("OPENAI_API_KEY", "sk-soak-0123456789")
    samples: list[tuple[float, float]] = []

    def progress(audio_s: float) -> None:
        gc.collect()
        release()  # live memory, not the free pages a daemon gives back when idle (assistant/memory.py)
        samples.append((audio_s, rss_mb()))

    with StandIn() as srv, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        api = FaultyApi(srv, tmp, args.fault_rate, args.seed)
        engines = Engines(api, api.tts, FakeSpeaker(), api.images)
        history_path = tmp / "history.jsonl"
        out = tmp / "out"
        out.mkdir()
        assistant = Assistant(api.cfg, engines, history=HistoryWriter([history_path]), turn_based=True, output_dir=out)
        t0 = time.perf_counter()
        turns = asyncio.run(assistant.run(lambda: LoopedSource(args.minutes * 60, progress)))
        wall = time.perf_counter() - t0
        lines = history_path.read_text().splitlines()
        records = [json.loads(line) for line in lines]          # every line whole
        check_outputs(tmp)                                      # every .wav / image decodes
        files = sum(1 for p in tmp.rglob("*") if p.suffix in (".wav", ".png"))
        violations = list(srv.violations)
        requests = api.requests + len(srv.requests)
    results = collections.Counter(r["result"] for r in records)
    reasons = collections.Counter(r["reason"].split(":")[0][:50] for r in records if r["result"] == "failed")
    odd = [r["reason"] for r in records if r["reason"].startswith(("TypeError", "AttributeError", "KeyError", "ValueError"))]
    if odd:
        print("unexpected errors:", odd[:3])
    warm, last = samples[min(1, len(samples) - 1)], samples[-1]
    print(f"audio {args.minutes:.0f} min in {wall:.1f} s, {len(turns)} turns, {requests} API requests, "
          f"{sum(api.injected.values())} faults injected ({len(api.injected)} kinds)")
    print("turns: " + ", ".join(f"{k} {v}" for k, v in sorted(results.items())))
    print("failed because: " + "; ".join(f"{k} ({v})" for k, v in reasons.most_common(6)))
    print(f"files checked: {files} (all decode), history lines: {len(lines)} (all whole JSON), "
          f"stand-in violations: {len(violations)}")
    print(f"RSS start {warm[1]:.1f} MB (at {warm[0] / 60:.1f} min), end {last[1]:.1f} MB (at {last[0] / 60:.1f} min): "
          f"drift {last[1] - warm[1]:+.1f} MB")
    return 1 if violations else 0


IDLE_GOAL_MB = 350  # issue 17: idle RSS with every local model warm


def idle_rss(rounds: int, settle_s: float = 3.0) -> int:
    """``assistant run`` (local engines, stdin) warm and idle, then after each round of real
    speech: VmRSS once the replies are over, and the process's peak (VmHWM)."""
    import threading

    import numpy as np

    from assistant.memory import status
    from tests import corpus, daemon

    if not corpus.available():
        print(corpus.SKIP_REASON)
        return 0
    clips = [c for c in corpus.select() if c.language in ("en", "ko")]
    clips = [c for c in clips if c.language == "ko"] + [c for c in clips if c.language == "en"][:10]
    gap = np.zeros(SAMPLE_RATE * 3 // 2, np.int16)
    with tempfile.TemporaryDirectory() as tmp:
        proc = daemon.start_local(tmp)
        listening = threading.Event()  # set while the assistant is idle (state "listening")
        last_event = [time.monotonic()]

        def read_events() -> None:
            for event in daemon.events(proc):
                if event.get("type") == "level":
                    continue
                last_event[0] = time.monotonic()
                if event.get("type") == "state":
                    (listening.set if (event.get("data") or {}).get("state") == "listening" else listening.clear)()

        def idle(quiet_s: float, timeout_s: float = 120.0) -> None:
            """Until the assistant has been listening, with nothing happening, for ``quiet_s``."""
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if listening.is_set() and time.monotonic() - last_event[0] >= quiet_s:
                    return
                time.sleep(0.1)

        threading.Thread(target=read_events, daemon=True).start()
        rows: list[tuple[str, dict[str, float]]] = []
        try:
            if not listening.wait(300):
                print("assistant run did not become ready")
                return 1
            proc.stdin.write(gap.tobytes())
            proc.stdin.flush()
            daemon.wait_until_quiet(proc.pid)  # the fixed replies are prepared in the background after READY
            idle(settle_s)
            rows.append(("warm, idle", status(proc.pid)))
            for n in range(1, rounds + 1):
                for clip in clips:
                    proc.stdin.write(clip.pcm().tobytes() + gap.tobytes())
                    proc.stdin.flush()
                    idle(1.0)  # one turn at a time, after its reply, as a person would talk
                daemon.wait_until_quiet(proc.pid)
                idle(settle_s)  # the trim when idle (assistant/memory.py) has run
                rows.append((f"after round {n} ({len(clips)} turns)", status(proc.pid)))
        finally:
            end_daemon(proc, 30)
    print(f"assistant run, local engines, every model warm; rounds of {len(clips)} real recordings "
          f"({sum(c.language == 'ko' for c in clips)} Korean)")
    print(f"{'':28s} {'VmRSS':>8s} {'anon':>8s} {'file':>8s} {'peak':>8s}  (MB)")
    for name, st in rows:
        print(f"{name:28s} {st.get('VmRSS', 0):8.0f} {st.get('RssAnon', 0):8.0f} {st.get('RssFile', 0):8.0f} "
              f"{st.get('VmHWM', 0):8.0f}")
    warm, last = rows[0][1].get("VmRSS", 0.0), rows[-1][1].get("VmRSS", 0.0)
    idle = max(st.get("VmRSS", 0.0) for _name, st in rows)
    print(f"idle RSS {warm:.0f} MB warm, {last:.0f} MB after {rounds} rounds (drift {last - warm:+.0f} MB); "
          f"goal <= {IDLE_GOAL_MB} MB: {'met' if idle <= IDLE_GOAL_MB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
