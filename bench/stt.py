"""Local STT: real-time factor (tiny.en, base; greedy vs beam 5) and WER of the VAD-segmented
pipeline (segmenter -> one call per utterance) vs one whole-file call, on tests/fixtures/speech.

    .venv/bin/python bench/stt.py

RTF = processing seconds / audio seconds (lower is faster; < 1 is faster than real time).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio.format import SAMPLE_RATE, split_frames  # noqa: E402
from assistant.config import load_config, with_overrides  # noqa: E402
from assistant.events import Utterance  # noqa: E402
from assistant.stt import local  # noqa: E402
from assistant.stt.audio import load_audio  # noqa: E402
from assistant.stt.local import LocalTranscriber  # noqa: E402
from assistant.stt.metrics import wer  # noqa: E402
from assistant.vad.segmenter import Segmenter  # noqa: E402

SPEECH = ROOT / "tests" / "fixtures" / "speech"


def utterances(pcm, vad_cfg) -> list[Utterance]:
    seg = Segmenter(vad_cfg)
    events = [e for f in split_frames(pcm) for e in seg.process(f)] + seg.flush()
    return [e for e in events if isinstance(e, Utterance)]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    cfg = load_config()
    manifest = json.loads((SPEECH / "manifest.json").read_text("utf-8"))
    english = [m for m in manifest if m["language"] == "en"]
    clips = {m["file"]: load_audio(SPEECH / m["file"]) for m in manifest}
    total_en = sum(len(clips[m["file"]]) for m in english) / SAMPLE_RATE
    print(f"fixtures: {len(manifest)} files, English {total_en:.1f} s; cpu_threads={cfg.stt.local_threads}")

    print("\n== real-time factor (English fixtures, whole-file calls; model load excluded)")
    for model, lang in (("tiny.en", "en"), ("base", "en"), ("base", None)):
        for beam in (1, 5):
            local.BEAM_SIZE = beam
            tr = LocalTranscriber(with_overrides(cfg, stt={"local_model": model}).stt)
            tr.model_for("transcribe", lang)  # load outside the timing
            hyp, ref, spent = [], [], 0.0
            for m in english:
                t, dt = timed(lambda: tr.transcribe(clips[m["file"]], language=lang))
                spent += dt
                hyp.append(t.text)
                ref.append(m["text"])
            print(f"{model:8s} language={lang or 'detect':6s} beam={beam}: RTF {spent / total_en:.3f}  "
                  f"WER {wer(' '.join(ref), ' '.join(hyp)):.1%}")
    local.BEAM_SIZE = 1

    print("\n== segmented pipeline vs whole file (default config: auto model, detection among stt.languages)")
    tr = LocalTranscriber(cfg.stt)
    for m in manifest:
        pcm = clips[m["file"]]
        whole, t_whole = timed(lambda: tr.transcribe(pcm))
        utts = utterances(pcm, cfg.vad)
        parts, t_seg = timed(lambda: [tr.transcribe(u.audio) for u in utts])
        seg_text = " ".join(p.text for p in parts if p.text)
        if m["language"] == "en":
            score = f"WER whole {wer(m['text'], whole.text):.1%}  segmented {wer(m['text'], seg_text):.1%}"
        else:  # character error rate is more telling for Korean
            ref, a, b = (" ".join(s.replace(" ", "")) for s in (m["text"], whole.text, seg_text))
            score = f"CER whole {wer(ref, a):.1%}  segmented {wer(ref, b):.1%}"
        langs = ",".join(sorted({p.language or '?' for p in parts}))
        print(f"{m['file']:22s} {len(utts)} utterances  {score}  "
              f"time whole {t_whole:.2f}s segmented {t_seg:.2f}s  lang whole={whole.language} segs={langs}")


if __name__ == "__main__":
    main()
