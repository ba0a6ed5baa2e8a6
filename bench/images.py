"""Image preparation: time and bytes for a 3000x2000 photo-like image, ours vs a Pillow
``optimize=True`` baseline in the same run (same decode/orient/flatten/resize, only the PNG
encoding differs), plus the naive "save the full photo with optimize=True" for context.

    .venv/bin/python bench/images.py [--repeat N]

Target: ours <= 1/4 of the optimize=True baseline's time. Times are the best of N runs.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from assistant.images.models import get_caps, prep_size  # noqa: E402
from assistant.images.prepare import PAD_COLOR, apply, decode, flatten, plan, prepare  # noqa: E402


def photo(w: int = 3000, h: int = 2000, seed: int = 1) -> Image.Image:
    """Photo-like: smooth low-frequency structure, gradients and sensor-like grain."""
    rng = np.random.default_rng(seed)
    blobs = Image.fromarray(rng.integers(0, 256, (h // 50, w // 50, 3), dtype=np.uint8))
    base = np.asarray(blobs.resize((w, h), Image.Resampling.BICUBIC), dtype=np.int16) * 7 // 10
    y, x = np.mgrid[0:h, 0:w]
    base += np.stack([x * 80 // w, y * 80 // h, (x + y) * 40 // (w + h)], -1).astype(np.int16)
    base += rng.integers(-6, 7, (h, w, 3), dtype=np.int16)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def baseline(img: Image.Image, model: str) -> bytes:
    caps = get_caps(model)
    rgb = flatten(img)
    geo = plan(rgb.size, prep_size(caps, *rgb.size), "pad")
    out = apply(rgb, geo, resample=Image.Resampling.LANCZOS, fill=PAD_COLOR)
    if caps.family == "dall-e-2":
        out = out.convert("RGBA")
    buf = io.BytesIO()
    out.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def naive(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    flatten(img).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    img = photo()
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=92)
    t_decode, _ = best(lambda: decode(jpeg.getvalue()), args.repeat)
    print(f"input: 3000x2000 photo-like image (JPEG decode {t_decode * 1000:.0f} ms, not counted below)")
    print(f"{'case':34} {'ours ms':>8} {'bytes':>10} {'base ms':>8} {'bytes':>10} {'ratio':>6}")
    worst = 0.0
    for model, region in (("gpt-image-2", None), ("gpt-image-2", "top-left"), ("dall-e-2", None),
                          ("dall-e-2", "outside-center")):
        caps = get_caps(model)
        t_ours, prep = best(lambda: prepare(img, caps, region=region), args.repeat)
        t_base, data = best(lambda: baseline(img, model), max(2, args.repeat // 2))
        ratio = t_ours / t_base
        worst = max(worst, ratio)
        name = f"{model}{' + ' + region + ' mask' if region else ''}"
        print(f"{name:34} {t_ours * 1000:8.0f} {len(prep.png):10,} {t_base * 1000:8.0f} {len(data):10,} {ratio:6.2f}")
    t_naive, data = best(lambda: naive(img), 2)
    print(f"{'naive: full photo, optimize=True':34} {'':8} {'':10} {t_naive * 1000:8.0f} {len(data):10,}")
    print(f"worst ratio ours/baseline: {worst:.2f} (target <= 0.25: {'met' if worst <= 0.25 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
