"""Loop latency.

1. Pipeline overhead: zero-latency fake engines; time from the utterance being cut to the first
   reply audio (what the loop adds beyond the VAD hangover), p50/p95 over many turns.
2. Local engines: a spoken command set (synthesized with the local voices) through the real
   segmenter, local Whisper and local TTS; end-of-speech -> first reply audio p50/p95, where
   end-of-speech includes the hangover.

Usage: python bench/loop.py [--turns N] [--skip-local]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

from _common import ROOT, p50_p95, row  # noqa: F401  (sets sys.path)

from assistant.config import load_config
from assistant.loop import Assistant
from tests.loop.fakes import EventSource, FakeSpeaker, engines


def overhead(turns: int) -> tuple[float, float]:
    texts = [("speak slower", "en"), ("help", "en"), ("what is this", "en"), ("천천히 말해줘", "ko")] * (turns // 4)
    eng = engines(texts, speaker=FakeSpeaker())
    assistant = Assistant(load_config(), eng, turn_based=True)
    done = asyncio.run(assistant.run(lambda: EventSource(len(texts))))
    values = [t.timings()["overhead_to_first_audio"] for t in done if "overhead_to_first_audio" in t.timings()]
    return p50_p95(values)


def local_engines() -> dict[str, tuple[float, float]]:
    from assistant.audio.playback import NullSpeaker
    from assistant.engines import build_engines
    from assistant.service.runner import run_assistant

    recording = ROOT / "assistant/data/recordings/demo.wav"
    cfg = load_config()
    eng = build_engines(cfg, speaker=NullSpeaker())
    turns = run_assistant(cfg, input_path=str(recording), engines=eng, echo=lambda _l: None)
    out = {}
    english = [t for t in turns if t.language == "en"]
    for key in ("eos_to_first_audio", "stt", "reply_first_audio"):
        out[key] = p50_p95([t.timings()[key] for t in turns if key in t.timings()])
        out[f"{key} (English turns)"] = p50_p95([t.timings()[key] for t in english if key in t.timings()])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()
    print(row("measure", "p50 ms", "p95 ms", widths=(44, 10, 10)))
    p50, p95 = overhead(args.turns)
    print(row("pipeline overhead (fake engines)", f"{p50 * 1000:.1f}", f"{p95 * 1000:.1f}", widths=(44, 10, 10)))
    if not args.skip_local:
        t0 = time.perf_counter()
        for key, (p50, p95) in local_engines().items():
            print(row(f"local: {key}", f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}", widths=(44, 10, 10)))
        print(f"(local run took {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
