"""Soak: an hour of audio (the demo commands, looped) fed faster than real time through the real
segmenter and the loop with fake engines. Prints RSS and loop latency at the start and the end.

Usage: python bench/soak.py [--minutes 60]
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

from _common import ROOT, p50_p95

from assistant.audio.format import FRAME_SAMPLES, SAMPLE_RATE, split_frames
from assistant.config import load_config
from assistant.history import HistoryWriter
from assistant.loop import Assistant
from tests.loop.fakes import FakeSpeaker, FakeSynthesizer, FakeTranscript

TEXTS = [("speak slower", "en"), ("help", "en"), ("speak faster", "en"), ("what can you do", "en"),
         ("천천히 말해줘", "ko"), ("normal speed", "en"), ("stop", "en"), ("the weather is nice", "en")]


class CyclingTranscriber:
    def __init__(self):
        self._texts = itertools.cycle(TEXTS)

    def transcribe(self, audio, **_kw):
        text, lang = next(self._texts)
        return FakeTranscript(text, lang)


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    from assistant.engines import Engines

    engines = Engines(CyclingTranscriber(), FakeSynthesizer(), FakeSpeaker(), lambda: None)
    samples: list[tuple[float, float]] = []

    def progress(audio_s: float) -> None:
        gc.collect()
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


if __name__ == "__main__":
    sys.exit(main())
