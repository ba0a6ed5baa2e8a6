"""Loop latency.

1. Pipeline overhead: zero-latency fake engines; time from the utterance being cut to the first
   reply audio (what the loop adds beyond the VAD hangover), p50/p95 over many turns.
2. Local engines over the demo recording (the real segmenter, local Whisper, local TTS).
3. Local engines over REAL speech: the English and Korean commands and sentences of
   ../shared/corpus, each clip once, joined by 1.5 s of silence into one stream; end of speech ->
   first reply audio p50/p95 per language (end of speech includes the VAD hangover).

Usage: python bench/loop.py [--turns N] [--skip-local] [--skip-corpus]
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


def corpus_engines() -> dict[str, tuple[float, float, int]]:
    """End of speech -> first reply audio per language, over the real corpus clips."""
    import tempfile

    import numpy as np
    import soundfile as sf

    from assistant.audio.playback import NullSpeaker
    from assistant.engines import build_engines
    from assistant.service.runner import run_assistant
    from tests import corpus

    if not corpus.available():
        return {}
    out: dict[str, tuple[float, float, int]] = {}
    cfg = load_config()
    eng = build_engines(cfg, speaker=NullSpeaker())
    gap = np.zeros(24000, np.int16)
    for language in ("en", "ko"):
        clips = [c for c in corpus.select(language=language) if c.kind in ("command", "sentence") and c.duration_s <= 12]
        stream = np.concatenate([part for c in clips for part in (c.pcm(), gap)])
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/{language}.wav"
            sf.write(path, stream, 16000, subtype="PCM_16")
            turns = run_assistant(cfg, input_path=path, engines=eng, echo=lambda _l: None)
        values = [t.timings()["eos_to_first_audio"] for t in turns if "eos_to_first_audio" in t.timings()]
        p50, p95 = p50_p95(values)
        out[language] = (p50, p95, len(values))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--skip-corpus", action="store_true")
    args = parser.parse_args()
    print(row("measure", "p50 ms", "p95 ms", widths=(44, 10, 10)))
    p50, p95 = overhead(args.turns)
    print(row("pipeline overhead (fake engines)", f"{p50 * 1000:.1f}", f"{p95 * 1000:.1f}", widths=(44, 10, 10)))
    if not args.skip_local:
        t0 = time.perf_counter()
        for key, (p50, p95) in local_engines().items():
            print(row(f"local: {key}", f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}", widths=(44, 10, 10)))
        print(f"(local run took {time.perf_counter() - t0:.1f} s)")
    if not args.skip_corpus:
        for language, (p50, p95, n) in corpus_engines().items():
            print(row(f"real speech, {language}: eos -> first audio (n={n})", f"{p50 * 1000:.0f}",
                      f"{p95 * 1000:.0f}", widths=(44, 10, 10)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
