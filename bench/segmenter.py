"""Segmenter cost vs a bare webrtcvad loop over the same frames (the speech fixtures, repeated).

    .venv/bin/python bench/segmenter.py [--seconds N]

Prints frames/s of both and the ratio of time per frame (ours / bare); the target is <= 1.5.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import webrtcvad

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio.format import SAMPLE_RATE  # noqa: E402
from assistant.audio.sources import FileSource  # noqa: E402
from assistant.config import VadConfig  # noqa: E402
from assistant.vad.segmenter import Segmenter  # noqa: E402


def load_frames() -> list[bytes]:
    frames: list[bytes] = []
    for path in sorted((ROOT / "tests" / "fixtures" / "speech").glob("*.*")):
        if path.suffix in (".wav", ".flac"):
            frames += FileSource(path).iter_frames()
    return frames


def bare(frames: list[bytes], aggressiveness: int) -> float:
    vad = webrtcvad.Vad(aggressiveness)
    is_speech = vad.is_speech
    t = time.perf_counter()
    for f in frames:
        is_speech(f, SAMPLE_RATE)
    return time.perf_counter() - t


def ours(frames: list[bytes], cfg: VadConfig) -> float:
    seg = Segmenter(cfg)
    process = seg.process
    t = time.perf_counter()
    for f in frames:
        process(f)
    seg.flush()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20, help="times the fixtures are concatenated")
    ap.add_argument("--rounds", type=int, default=7, help="best of N rounds")
    args = ap.parse_args()
    cfg = VadConfig()
    frames = load_frames() * args.repeat
    t_bare = t_ours = float("inf")
    for _ in range(args.rounds):  # interleaved, best of N: robust to other load on the machine
        t_bare = min(t_bare, bare(frames, cfg.aggressiveness))
        t_ours = min(t_ours, ours(frames, cfg))
    n = len(frames)
    ratio = t_ours / t_bare
    print(f"frames: {n} ({n * 0.03:.0f} s of audio)")
    print(f"webrtcvad.Vad.is_speech loop: {n / t_bare:12,.0f} frames/s")
    print(f"Segmenter.process:            {n / t_ours:12,.0f} frames/s  ({n * 0.03 / t_ours:,.0f}x realtime)")
    print(f"ratio (time ours / bare):     {ratio:.2f}  (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
