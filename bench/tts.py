"""Time to first audio chunk vs time to the full audio, per TTS engine.

    .venv/bin/python bench/tts.py [--runs N]

Local engines (piper for English, espeak-ng for Korean) synthesize sentence by sentence, so the
first chunk is ready after one sentence. The openai backend is measured against a local server
(tests/standin.py) that sends the pcm body in chunks with a delay between them: playback can
start after the first chunk instead of after the whole body.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import p50_p95, row  # noqa: E402

from assistant.config import TtsConfig  # noqa: E402
from assistant.tts.local import LocalSynthesizer  # noqa: E402
from assistant.tts.openai import OpenAISynthesizer  # noqa: E402

EN = ("Turn on the kitchen lights. Then draw a red fox in the snow. "
      "After that, tell me what the weather will be like tomorrow morning.")
KO = "부엌 불을 켜 주세요. 그리고 눈 속의 붉은 여우를 그려 주세요. 내일 아침 날씨는 어떨까요?"


def measure(synth, text: str, voice: str) -> tuple[float, float, float]:
    """(seconds to first chunk, seconds to the last, seconds of audio)."""
    start = time.perf_counter()
    first, samples = None, 0
    for chunk in synth.synthesize(text, voice=voice):
        if first is None:
            first = time.perf_counter() - start
        samples += len(chunk)
    return first or 0.0, time.perf_counter() - start, samples / synth.sample_rate


def report(name: str, synth, text: str, voice: str, runs: int) -> None:
    measure(synth, text, voice)  # warm-up: model load, caches
    firsts, fulls, audio = [], [], 0.0
    for _ in range(runs):
        f, t, audio = measure(synth, text, voice)
        firsts.append(f)
        fulls.append(t)
    print(row(name, p50_p95(firsts)[0], p50_p95(fulls)[0], audio, widths=(34, 12, 12, 10)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk-delay", type=float, default=0.1, help="server delay between chunks (s)")
    args = ap.parse_args()
    print(row("engine", "first (s)", "full (s)", "audio (s)", widths=(34, 12, 12, 10)))
    local = LocalSynthesizer(TtsConfig(deterministic=True))
    report("local piper (en, 3 sentences)", local, EN, "alloy", args.runs)
    report("local espeak-ng (ko, 3 sentences)", local, KO, "nova", args.runs)

    from tests.standin import Reply, StandIn, tone_pcm

    with StandIn() as srv:
        pcm = tone_pcm(3.0)
        size = 24000 * 2 // 5  # 200 ms of audio per chunk
        chunks = [pcm[i:i + size] for i in range(0, len(pcm), size)]
        srv.script("/audio/speech", [Reply(chunks=chunks, chunk_delay=args.chunk_delay, content_type="audio/pcm")
                                     for _ in range(args.runs + 1)])
        synth = OpenAISynthesizer(TtsConfig(base_url=srv.base_url, max_retries=0, model="tts-1"))
        report(f"openai pcm stream ({len(chunks)} x {args.chunk_delay:g} s)", synth, EN, "nova", args.runs)
        assert not srv.violations, srv.violations


if __name__ == "__main__":
    main()
