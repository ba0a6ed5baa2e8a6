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


CORPUS_MAX_S = 12.0


def corpus_clips(language: str, limit: int) -> list:
    from tests import corpus

    clips = [c for c in corpus.select(language=language) if c.kind in ("command", "sentence") and c.duration_s <= CORPUS_MAX_S]
    return clips[:limit] if limit else clips


def real_speech(args) -> None:
    """Ours live at microphone pace (each lever on and off) against Home Assistant's local stack."""
    import _live
    from assistant.audio.playback import NullSpeaker
    from assistant.config import with_overrides
    from assistant.engines import build_engines, warm_up
    from tests import corpus

    if not corpus.available():
        print("real speech: skipped (no ../shared/corpus)")
        return
    cfg = with_overrides(load_config(), stt={"backend": "local"}, tts={"backend": "local"})
    eng = build_engines(cfg, speaker=NullSpeaker())
    warm_up(eng, cfg.tts.voice)
    variants = {"ours": cfg}
    for lever in args.levers:
        variants[f"ours, {lever}"] = LEVERS[lever](cfg)
    languages = [x for x in args.languages.split(",") if x]
    runs: dict[str, dict[str, tuple[list, _live.LiveRun]]] = {name: {} for name in variants}
    for language in languages:
        pcms = [c.pcm() for c in corpus_clips(language, args.clips)]
        for name, variant in variants.items():
            eng_v = build_engines(variant, speaker=NullSpeaker()) if variant is not cfg else eng
            runs[name][language] = (pcms, _live.live(variant, eng_v, pcms))
    ha = {} if args.skip_ha else _live.ha_stack(runs["ours"], eng.synthesizer)
    widths = (46, 5, 8, 8, 8)
    counts = ", ".join(f"{lang}: {len(runs['ours'][lang][0])} clips" for lang in languages)
    print(f"\nreal speech at microphone pace: end of speech -> first reply audio (s); {counts}")
    print(row("", "n", "p50", "p95", "ratio", widths=widths))
    for language in languages:
        ours = p50_p95(runs["ours"][language][1].latencies())
        for name in variants:
            values = runs[name][language][1].latencies()
            p50, p95 = p50_p95(values)
            ratio = "" if name == "ours" else f"{p50 / ours[0]:.2f}"
            kept, dropped = runs[name][language][1].speculated
            if kept or dropped:
                name = f"{name} (speculation kept {kept}, dropped {dropped})"
            print(row(f"{language} {name}", len(values), f"{p50:.2f}", f"{p95:.2f}", ratio, widths=widths))
        if language in ha:
            p50, p95 = p50_p95(ha[language])
            print(row(f"{language} Home Assistant local stack", len(ha[language]), f"{p50:.2f}", f"{p95:.2f}",
                      f"{p50 / ours[0]:.2f}", widths=widths))
        goal = GOALS.get(language)
        if goal:
            print(f"   goal p50 <= {goal[0]} s, p95 <= {goal[1]} s: "
                  f"{'met' if ours[0] <= goal[0] and ours[1] <= goal[1] else 'MISSED'}")
    print("(ratio: p50 over ours; Home Assistant: 0.7 s end-of-speech silence + wyoming-faster-whisper "
          "(tiny.en for en, base for ko, language given) + wyoming-piper first chunk (ko: espeak-ng, piper has no "
          "Korean voice))")
    if args.verbose:
        for name in variants:
            for language in languages:
                for t in runs[name][language][1].turns:
                    print(f"  {name} {language} clip {t.clip}: {t.latency if t.latency is None else round(t.latency, 2)} "
                          f"{t.text!r} -> {t.reply!r}")


GOALS = {"en": (0.45, 0.7), "ko": (0.9, 1.4)}

def _off(**sections):
    def make(cfg):
        from assistant.config import with_overrides

        return with_overrides(cfg, **sections)
    return make


# each variant of ours against the default (bench/loop.py --levers NAME,...)
LEVERS: dict = {
    "no-speculation": _off(vad={"speculate_ms": 0}),
    "speculate-30ms": _off(vad={"speculate_ms": 30}),  # at the first silent frame (padding cut short)
}


def startup() -> None:
    import _live

    ready, rss = _live.cold_start()
    print(f"\ncold start to listening (every model warmed): {ready:.2f} s (goal <= 3 s: "
          f"{'met' if ready <= 3 else 'MISSED'})")
    print(f"idle RSS after warm-up: {rss:.0f} MB (goal <= 350 MB: {'met' if rss <= 350 else 'MISSED'})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-ha", action="store_true", help="leave out Home Assistant's stack")
    parser.add_argument("--skip-start", action="store_true", help="leave out cold start and idle RSS")
    parser.add_argument("--languages", default="en,ko")
    parser.add_argument("--clips", type=int, default=0, help="first N clips per language (0: all)")
    parser.add_argument("--levers", default=",".join(LEVERS), type=lambda v: [x for x in v.split(",") if x],
                        help=f"variants run beside the default: {', '.join(LEVERS)}")
    parser.add_argument("-v", "--verbose", action="store_true")
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
        real_speech(args)
    if not args.skip_start:
        startup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
