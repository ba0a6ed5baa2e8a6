"""The segmenter stays in the same cost class as a bare webrtcvad loop (bench/segmenter.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from assistant.config import VadConfig

BENCH = Path(__file__).resolve().parents[2] / "bench" / "segmenter.py"


def test_bench_ratio_is_reasonable():
    spec = importlib.util.spec_from_file_location("bench_segmenter", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    frames = bench.load_frames() * 3
    t_bare = t_ours = float("inf")
    for _ in range(5):
        t_bare = min(t_bare, bench.bare(frames, 2))
        t_ours = min(t_ours, bench.ours(frames, VadConfig()))
    # the target (<= 1.5x against webrtcvad with the same hangover loop) is checked with `make bench`;
    # here, against bare webrtcvad calls, a loose bound that survives noisy CI (per frame 2.7-3.3x on
    # an AMD EPYC, 2026-12-02, with or without that day's segmenter changes): a gross regression fails
    assert t_ours / t_bare < 5.0
