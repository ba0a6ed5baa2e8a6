"""Local STT on real recordings (../shared/corpus): the language cascade against direct calls.

    .venv/bin/python bench/stt.py [--rounds N]

Rows:
- cascade: the default (`stt.local_model = "auto"`, languages en+ko, no hint, uniform prior):
  a short multilingual evidence pass, the full window only when unsure; English decoded by
  tiny.en, everything else by base; base decodes a decided language from an encoder window of the
  speech + 1 s, at least `stt.local_window_s` (10 s).
- cascade, 30 s window: the same with Whisper's full 30 s window for every decode.
- one full pass: base encodes the full window once, detects and decodes from it (English too).
- base, right language: the multilingual model told the language (the accuracy reference).
- tiny.en, English: the English-only model told "en" (English clips only).
Columns: clips heard in the right language (an empty text counts as not heard), the pieces of
the Korean keyword list as the live loop cuts them ("헤이 컴퓨터", "빅스비", "코뿔소", "아이스크림": short
loanwords and names where base's language evidence is unsure) heard as Korean, of those that gave
any text (the fifth piece is a noise burst), WER on the
English clips with text, CER on the Korean clips with text, seconds per utterance p50/p95
(model load excluded), and full-window encoder passes per utterance. Absolute seconds depend on
the machine's load (8 helpers shared 2 cores when the README's figures were taken): compare rows.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from _common import p50_p95, row  # noqa: F401  (sets sys.path)

from assistant.config import load_config, with_overrides
from assistant.stt.local import build
from assistant.stt.metrics import wer
from tests import corpus


def cer(ref: str, hyp: str) -> float:
    """Character error rate: the WER of the characters, spaces and punctuation ignored."""
    strip = lambda s: " ".join(ch for ch in s if ch.isalnum())  # noqa: E731
    return wer(strip(ref), strip(hyp))


def systems(cfg):
    stt = cfg.stt
    return [
        ("cascade (default)", build(stt), lambda c: None, ("en", "ko")),
        ("cascade, 30 s window", build(with_overrides(cfg, stt={"local_window_s": 30.0}).stt),
         lambda c: None, ("en", "ko")),
        ("one full pass (base)", build(with_overrides(cfg, stt={"local_model": "base"}).stt),
         lambda c: None, ("en", "ko")),
        ("base, right language", build(with_overrides(cfg, stt={"local_model": "base"}).stt),
         lambda c: c.language, ("en", "ko")),
        ("tiny.en, English", build(with_overrides(cfg, stt={"local_model": "tiny.en"}).stt),
         lambda c: "en", ("en",)),
    ]


@dataclass(frozen=True)
class Piece:
    """One utterance of a corpus clip as the live segmenter cuts it (0.3 s either side)."""
    name: str
    language: str
    audio: np.ndarray
    text: str | None = None

    def pcm(self) -> np.ndarray:
        return self.audio


def live_pieces(name: str = "porcupine_keywords_ko", pad_s: float = 0.3) -> list[Piece]:
    from tests.vad.sequences import segment_pcm

    clip = next(c for c in corpus.select() if c.name == name)
    pcm = clip.pcm()
    return [Piece(f"{name}@{a:.2f}", clip.language, pcm[max(0, int((a - pad_s) * 16000)):int((b + pad_s) * 16000)])
            for a, b in segment_pcm(pcm)]


def measure(tr, hint, langs, clips, rounds, count="every clip"):
    """``count``: "every clip" (an empty text is not heard) or "with text" (only the clips that
    gave some text: the live cut's last piece is a noise burst the loop ignores as no speech)."""
    right, heard, times, encodes = 0, 0, [], []
    en_ref, en_hyp, ko_ref, ko_hyp = [], [], [], []
    for c in clips:
        if c.language not in langs:
            continue
        heard += 1
        for r in range(rounds):
            tr.last_language = None  # each clip on its own: the uniform prior
            t0 = time.perf_counter()
            t = tr.transcribe(c.pcm(), language=hint(c))
            times.append(time.perf_counter() - t0)
            encodes.append(tr.last_route.encodes if tr.last_route else 0.0)
        if count == "with text" and not t.text:
            heard -= 1
            continue
        right += bool(t.text) and t.language == c.language
        if c.text and c.language == "en":
            en_ref.append(c.text), en_hyp.append(t.text)
        elif c.text and c.language == "ko":
            ko_ref.append(c.text), ko_hyp.append(t.text)
    p50, p95 = p50_p95(times)
    w = wer(" ".join(en_ref), " ".join(en_hyp)) if en_ref else float("nan")
    ce = cer(" ".join(ko_ref), " ".join(ko_hyp)) if ko_ref else float("nan")
    return right, heard, w, ce, p50, p95, sum(encodes) / max(1, len(encodes))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    if not corpus.available():
        print(corpus.SKIP_REASON)
        return 0
    cfg = load_config()
    clips = [c for c in corpus.select() if c.language in ("en", "ko")]
    n_en = sum(c.language == "en" for c in clips)
    print(f"real recordings: {n_en} English, {len(clips) - n_en} Korean (../shared/corpus); "
          f"cpu_threads={cfg.stt.local_threads}, {cfg.stt.local_compute_type}, greedy")
    pieces = live_pieces()
    widths = (24, 14, 10, 8, 8, 9, 9, 9)
    print(row("system", "language right", "live cuts", "WER en", "CER ko", "p50 s", "p95 s", "encodes", widths=widths))
    for name, tr, hint, langs in systems(cfg):
        tr.warm_up()
        right, n, w, ce, p50, p95, enc = measure(tr, hint, langs, clips, args.rounds)
        cuts, n_cuts = measure(tr, hint, langs, pieces, 1, count="with text")[:2]
        print(row(name, f"{right}/{n}", f"{cuts}/{n_cuts}" if n_cuts else "-", f"{w:.1%}",
                  "-" if ce != ce else f"{ce:.1%}", f"{p50:.2f}", f"{p95:.2f}", f"{enc:.2f}", widths=widths), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
