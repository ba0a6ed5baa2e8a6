"""The model's answer -> the saved edit (pure: PIL images and bytes in, bytes out).

GPT image models repaint the whole canvas and answer at their own resolution (a 3000x2000 photo
comes back as 1536x1024). ``finish`` undoes the preparation (padding removed, stretching undone,
a crop pasted back where it came from), scales the answer to the input's size, and keeps the
original's pixels outside the edit area: ``result`` where the (feathered) mask is 255, the
original where it is 0. Without a mask the whole picture is the model's, at the input's size.
"""
from __future__ import annotations

import io

from PIL import Image

from . import png as fastpng
from .prepare import Prepared, decode, restore


def finish_image(result: Image.Image, prepared: Prepared) -> Image.Image:
    """The edited image at the original's size; outside the edit area, the original's pixels."""
    original = prepared.original
    if original is None:  # a Prepared made without the original: only undo the geometry
        return restore(result, prepared.geometry)
    geo = prepared.geometry
    back = restore(result.convert("RGB"), geo)
    x0, y0, x1, y1 = geo.source_box
    inner = (x1 - x0, y1 - y0)
    if back.size != inner:
        back = back.resize(inner, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if inner != original.size:  # crop: the model saw only the middle; the rest stays as it was
        canvas = original.copy()
        canvas.paste(back, (x0, y0))
        back = canvas
    if prepared.source_mask is None:
        return back
    return Image.composite(back, original, prepared.source_mask)


def finish(blob: bytes, prepared: Prepared, fmt: str = "png") -> bytes:
    """``finish_image`` on encoded bytes, answered in the format the model answered in."""
    img = decode(blob, "the returned image")
    out = finish_image(img, prepared)
    kind = format_of(blob, fmt)
    buf = io.BytesIO()
    if kind == "jpeg":
        out.convert("RGB").save(buf, "JPEG", quality=95)
    elif kind == "webp":
        out.save(buf, "WEBP", quality=95)
    else:
        return fastpng.encode(out if fastpng.supported(out) else out.convert("RGBA"))
    return buf.getvalue()


def format_of(blob: bytes, requested: str) -> str:
    """The format an answer really is (by its magic bytes), else the one asked for."""
    if blob.startswith(b"\x89PNG"):
        return "png"
    if blob.startswith(b"\xff\xd8"):
        return "jpeg"
    if blob[:4] == b"RIFF" and blob[8:12] == b"WEBP":
        return "webp"
    return requested
