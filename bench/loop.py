"""Loop latency.

1. Pipeline overhead: zero-latency fake engines; time from the utterance being cut to the first
   reply audio (what the loop adds beyond the VAD hangover), p50/p95 over many turns.
2. Local engines over the demo recording (the real segmenter, local Whisper, local TTS).
3. Local engines over REAL speech at microphone pace (bench/_live.py): the English and Korean
   commands and sentences of ../shared/corpus, joined by 1.5 s of silence, fed to the live loop in
   real time; end of speech -> first reply audio p50/p95 per language (the VAD hangover, queueing,
   STT, routing and TTS inside). Beside it, in the same run: Home Assistant's local stack on the same
   clips (0.7 s end-of-speech silence + wyoming-faster-whisper + wyoming-piper, same local models),
   and each lever (--levers) switched off or changed on the first --lever-clips clips, as a ratio
   to ours on the same clips.
4. Cold start of `assistant run` to "listening" (every model loaded and warmed; `--starts` times,
   median and range, with the load average) and idle RSS.

Usage: python bench/loop.py [--turns N] [--skip-local] [--skip-corpus] [--skip-ha] [--skip-start] [--starts 3]
                            [--languages en,ko] [--clips N] [--levers a,b] [--lever-clips N] [-v]
Absolute times depend on the machine's load (see `uptime`); compare within one run.
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
    from assistant.tts.text import sentences
    from tests import corpus

    if not corpus.available():
        print("real speech: skipped (no ../shared/corpus)")
        return
    cfg = with_overrides(load_config(), stt={"backend": "local"}, tts={"backend": "local"})

    def ready(variant):
        """Engines warmed like the daemon before READY, the fixed replies prepared (as a few
        seconds after READY)."""
        engines = build_engines(variant, speaker=NullSpeaker())
        warm_up(engines, variant.tts.voice)
        engines.synthesizer.prepared.wait(120)
        return engines

    eng = ready(cfg)
    variants = {"ours": cfg}
    for lever in args.levers:
        variants[f"ours, {lever}"] = LEVERS[lever](cfg)
    languages = [x for x in args.languages.split(",") if x]
    runs: dict[str, dict[str, tuple[list, _live.LiveRun]]] = {name: {} for name in variants}
    for language in languages:
        pcms = [c.pcm() for c in corpus_clips(language, args.clips)]
        for name, variant in variants.items():
            eng_v = ready(variant) if variant is not cfg else eng
            some = pcms if variant is cfg else pcms[: args.lever_clips or None]  # variants: the first clips
            runs[name][language] = (some, _live.live(variant, eng_v, some))
    ha = {} if args.skip_ha else _live.ha_stack(runs["ours"], eng.synthesizer)
    widths = (50, 4, 6, 6, 7, 6)
    counts = ", ".join(f"{lang}: {len(runs['ours'][lang][0])} clips" for lang in languages)
    print(f"\nreal speech at microphone pace: end of speech -> first reply audio (s); {counts}")
    print(row("", "n", "p50", "p95", "ratio", "same", widths=widths))
    for language in languages:
        ours_run = runs["ours"][language][1]
        ours = p50_p95(ours_run.latencies())
        print(row(f"{language} ours", len(ours_run.latencies()), f"{ours[0]:.2f}", f"{ours[1]:.2f}", "1", "",
                  widths=widths))
        if language in ha:
            p50, p95 = p50_p95(ha[language])
            print(row(f"{language} Home Assistant's local stack", len(ha[language]), f"{p50:.2f}", f"{p95:.2f}",
                      f"{p50 / ours[0]:.2f}", "", widths=widths))
        mine = ours_run.first_per_clip()
        for name in variants:
            if name == "ours":
                continue
            run = runs[name][language][1]
            theirs = run.first_per_clip()
            both = [i for i in theirs if i in mine and theirs[i].latency is not None and mine[i].latency is not None]
            p50, p95 = p50_p95([theirs[i].latency for i in both])
            base = p50_p95([mine[i].latency for i in both])[0]
            same = sum(theirs[i].text == mine[i].text for i in both)
            kept, dropped = run.speculated
            label = f"{language} {name}" + (f" (kept {kept}/{kept + dropped})" if kept or dropped else "")
            label += f" (early {run.ended_early})" if run.ended_early else ""
            print(row(label, len(both), f"{p50:.2f}", f"{p95:.2f}", f"{p50 / base:.2f}", f"{same}/{len(both)}",
                      widths=widths))
        goal = GOALS.get(language)
        if goal:
            print(f"   goal p50 <= {goal[0]} s, p95 <= {goal[1]} s: "
                  f"{'met' if ours[0] <= goal[0] and ours[1] <= goal[1] else 'MISSED'}")
    kept, dropped = (sum(runs["ours"][lang][1].speculated[k] for lang in languages) for k in (0, 1))
    early = sum(runs["ours"][lang][1].ended_early for lang in languages)
    print(f"(ours: speculative transcriptions kept {kept}, dropped {dropped}; turns ended early {early}. ratio: p50 over ours on the same clips; "
          "same: clips with the same text as ours. Home Assistant: 0.7 s end-of-speech silence + "
          "wyoming-faster-whisper (tiny.en for en, base for ko, the language given) + wyoming-piper's first "
          "chunk (ko: espeak-ng, piper has no Korean voice); its intent step is not counted)")
    replies = sorted({(t.language or "en", t.reply) for lang in languages for t in runs["ours"][lang][1].turns
                      if t.reply and len(list(sentences(t.reply))) > 1})
    if replies:
        plain = build_engines(with_overrides(cfg, tts={"cache_phrases": False}), speaker=NullSpeaker()).synthesizer
        firsts, wholes = _live.streaming(plain, replies, cfg.tts.voice)
        print(f"streaming the first sentence ({len(replies)} replies of 2+ sentences, nothing prepared): first audio "
              f"p50 {p50_p95(firsts)[0]:.2f} s, whole reply p50 {p50_p95(wholes)[0]:.2f} s "
              f"(ratio {p50_p95(firsts)[0] / p50_p95(wholes)[0]:.2f})")
    if args.verbose:
        for name in variants:
            for language in languages:
                for t in runs[name][language][1].turns:
                    print(f"  {name} {language} clip {t.clip}: {t.latency if t.latency is None else round(t.latency, 2)} "
                          f"{t.text!r} -> {t.reply!r}")


GOALS = {"en": (0.45, 0.7), "ko": (0.9, 1.4)}


def breakdown(args) -> None:
    """Where each live turn's time goes (bench/_breakdown.py): ours only, every clip."""
    import _breakdown
    import _live
    from assistant.audio.playback import NullSpeaker
    from assistant.config import with_overrides
    from assistant.engines import build_engines, warm_up
    from tests import corpus

    if not corpus.available():
        print("breakdown: skipped (no ../shared/corpus)")
        return
    cfg = with_overrides(load_config(), stt={"backend": "local"}, tts={"backend": "local"})
    for name in args.levers:
        cfg = LEVERS[name](cfg)
    engines = build_engines(cfg, speaker=NullSpeaker())
    warm_up(engines, cfg.tts.voice)
    engines.synthesizer.prepared.wait(120)
    for language in [x for x in args.languages.split(",") if x]:
        pcms = [c.pcm() for c in corpus_clips(language, args.clips)]
        with _breakdown.instrumented() as stamps:
            run = _live.live(cfg, engines, pcms)
        rows = _breakdown.per_turn(run, stamps, run.t0)
        print(f"\n{language}: where the time goes, s after the end of speech ({len(rows)} turns"
              f"{', variant ' + ','.join(args.levers) if args.levers else ''})")
        for r in rows:
            fmt = lambda v: "   -" if v is None else f"{v:4.2f}"  # noqa: E731
            stages = " ".join(f"{n.replace(' ', '-')}={s * 1000:.0f}" for n, s in r["stages"])
            print(f"  clip {r['clip']:2d} paused {fmt(r['paused'])} cut {fmt(r['cut'])} stt {fmt(r['stt_start'])}"
                  f"->{fmt(r['stt_done'])} handled {fmt(r['handled'])} routed {fmt(r['routed'])} "
                  f"audio {fmt(r['latency'])} [{stages}] {r['intent']} {r['text'][:40]!r}")
        print(row("step", "p50 ms", "p95 ms", widths=(44, 10, 10)))
        for name, p50, p95 in _breakdown.summary(rows):
            print(row(name, f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}", widths=(44, 10, 10)))

def _off(**sections):
    def make(cfg):
        from assistant.config import with_overrides

        return with_overrides(cfg, **sections)
    return make


# each variant of ours against the default (bench/loop.py --levers NAME,...)
LEVERS: dict = {
    "no-speculation": _off(vad={"speculate_ms": 0}),
    "speculate-30ms": _off(vad={"speculate_ms": 30}),  # at the first silent frame (padding cut short)
    "no-phrase-cache": _off(tts={"cache_phrases": False}),
    "no-prior": _off(stt={"last_language_weight": 0.0}),  # uniform over stt.languages
    "stt-threads-1": _off(stt={"local_threads": 1}),
    "end-early": _off(vad={"end_early": True}),  # a complete command ends the turn without the rest of the hangover
    "no-english-parallel": _off(stt={"english_parallel": False}),  # evidence first, then tiny.en
    "no-early-evidence": _off(stt={"early_evidence_s": 0.0}),  # no language evidence while the user speaks
    "window-30s": _off(stt={"local_window_s": 30.0}),  # decode from Whisper's full 30 s window
}


def startup(starts: int) -> None:
    """Cold start ``starts`` times (median and range: one start is noisy) and the idle RSS."""
    import os
    import statistics

    import _live

    runs = []
    for _ in range(max(1, starts)):
        load = os.getloadavg()[0]  # other work on the machine slows a start more than anything here
        runs.append((*_live.cold_start(), load))
    readies, rsses, loads = (sorted(column) for column in zip(*runs))
    ready, rss = statistics.median(readies), statistics.median(rsses)
    print(f"\ncold start to listening (every model warmed), {len(runs)} starts: median {ready:.2f} s, "
          f"{readies[0]:.2f}-{readies[-1]:.2f} s (goal <= 3 s: {'met' if ready <= 3 else 'MISSED'}; "
          f"load average {loads[0]:.1f}-{loads[-1]:.1f})")
    print(f"idle RSS after warm-up: {rss:.0f} MB (goal <= 350 MB: {'met' if rss <= 350 else 'MISSED'})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-ha", action="store_true", help="leave out Home Assistant's stack")
    parser.add_argument("--skip-start", action="store_true", help="leave out cold start and idle RSS")
    parser.add_argument("--starts", type=int, default=3, help="cold starts measured (median and range)")
    parser.add_argument("--languages", default="en,ko")
    parser.add_argument("--clips", type=int, default=0, help="first N clips per language (0: all)")
    parser.add_argument("--levers", default=None, type=lambda v: [x for x in v.split(",") if x],
                        help=f"variants run beside the default (all; with --breakdown: none): {', '.join(LEVERS)}")
    parser.add_argument("--lever-clips", type=int, default=8, help="clips per language for each lever (0: all)")
    parser.add_argument("--breakdown", action="store_true",
                        help="only: where each live turn's time goes (ours, with --levers applied to it)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    import os
    import tempfile

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="bench-loop-")  # not the user's history
    if args.breakdown:  # one configuration: the levers given, applied together
        args.levers = args.levers or []
        breakdown(args)
        return 0
    args.levers = list(LEVERS) if args.levers is None else args.levers
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
        startup(args.starts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
