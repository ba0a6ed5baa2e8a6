"""Image and mask preparation for edits (pure: PIL images and bytes in, PIL images and bytes out).

Pipeline: decode -> EXIF orientation -> RGB (transparency flattened onto white, 16-bit scaled,
CMYK converted) -> exact model size by ``fit`` (pad | crop | stretch) -> fast PNG under the
model's byte limit. Masks: user file (white = edit, or transparent = edit) or a spoken region ->
"L" (255 = edit) -> exactly 1-bit by threshold -> the same geometry as the image -> the API's
convention, an RGBA PNG whose alpha is 0 where the model repaints and 255 everywhere else.

Feathering (``feather`` > 0) never touches what is sent: the API mask is thresholded from the
unfeathered mask. It only shapes ``Prepared.soft_mask`` / ``source_mask``, the blend of the
model's answer with the original (blend.py): the soft ramp lies inside the edit area, so every
pixel outside it stays the original's.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import UserError
from . import png as fastpng
from .models import ModelCaps, prep_size
from .regions import region_mask

Fit = Literal["pad", "crop", "stretch"]
MaskMode = Literal["auto", "white", "transparent"]
FITS: tuple[str, ...] = ("pad", "crop", "stretch")
MASK_MODES: tuple[str, ...] = ("auto", "white", "transparent")
THRESHOLD = 128          # L value at or above which a mask pixel means "edit"
PAD_COLOR = (255, 255, 255)
ASPECT_TOLERANCE = 0.02  # a user mask of another size is scaled only if its aspect is this close
MAX_PIXELS = 50_000_000  # default images.max_megapixels: a 50 MP photo is fine, a bomb is not
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard; set_pixel_limit() follows the config


@dataclass(frozen=True)
class Geometry:
    """How the original maps into the prepared canvas: ``box`` is where the original's content
    sits (x0, y0, x1, y1) inside ``size``; ``source_box`` the part of the original that was kept."""

    original: tuple[int, int]
    size: tuple[int, int]
    fit: str
    box: tuple[int, int, int, int]
    source_box: tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class Prepared:
    image: Image.Image                  # RGB (RGBA fully opaque for dall-e-2), exactly ``geometry.size``
    png: bytes
    geometry: Geometry
    model: str
    mask: Image.Image | None = None     # RGBA: alpha 0 = repaint, 255 = keep
    mask_png: bytes | None = None
    bitmask: Image.Image | None = None  # mode "1": 1 = repaint
    soft_mask: Image.Image | None = None  # mode "L" (feathered when asked): 255 = repaint
    notes: tuple[str, ...] = field(default=())
    original: Image.Image | None = None     # the input, RGB, orientation applied (for blend.py)
    source_mask: Image.Image | None = None  # "L" at the original's size, feathered: 255 = repaint


# ------------------------------------------------------------------------------- decoding
def set_pixel_limit(max_pixels: int) -> None:
    """Pillow refuses (or, up to twice this, warns about) bigger images anywhere in the process."""
    Image.MAX_IMAGE_PIXELS = max(1, int(max_pixels))


def too_many_pixels(name: str, size: tuple[int, int], max_pixels: int) -> UserError:
    w, h = size
    return UserError(f"{name} is {w}x{h} ({w * h / 1e6:.0f} MP), over the {max_pixels / 1e6:g} MP limit "
                     "(images.max_megapixels); scale it down first")


def decode(data: bytes, name: str = "image", max_pixels: int | None = None) -> Image.Image:
    """Bytes -> loaded PIL image, or a one-line UserError. An image over ``max_pixels`` (default:
    Pillow's limit) is refused from its header, before any pixel is decoded."""
    limit = max_pixels or Image.MAX_IMAGE_PIXELS or MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > limit:
                raise too_many_pixels(name, img.size, limit)
            img.load()
    except UnidentifiedImageError:
        raise UserError(f"{name} is not an image file (no known image format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(f"{name} is over the {limit / 1e6:g} MP limit (images.max_megapixels); "
                        "scale it down first") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"{name} is not a readable image ({exc})") from None
    return img


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey (I;16*, I, F) -> L by scaling the 16-bit range."""
    arr = np.asarray(img)
    if img.mode == "F":
        scaled = np.clip(arr, 0, 255)
    else:
        scaled = np.clip(arr.astype(np.float32) / 257.0 + 0.5, 0, 255) if arr.max() > 255 else np.clip(arr, 0, 255)
    return Image.fromarray(scaled.astype(np.uint8), "L")


def has_transparency(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def to_rgba_or_rgb(img: Image.Image) -> Image.Image:
    """Orientation applied; RGBA when the image carries transparency, RGB otherwise."""
    if img.getexif().get(0x0112, 1) != 1:  # Orientation tag: only then transpose (it copies)
        img = ImageOps.exif_transpose(img) or img
    if img.mode.startswith("I") or img.mode == "F":
        img = _to_8bit(img)
    if has_transparency(img):
        return img if img.mode == "RGBA" else img.convert("RGBA")
    return img if img.mode == "RGB" else img.convert("RGB")


def flatten(img: Image.Image, background: tuple[int, int, int] = PAD_COLOR) -> Image.Image:
    """Any decoded image -> RGB, EXIF orientation applied, transparency composited on ``background``."""
    img = to_rgba_or_rgb(img)
    if img.mode == "RGBA":
        base = Image.new("RGBA", img.size, background + (255,))
        base.alpha_composite(img)
        return base.convert("RGB")
    return img


# ------------------------------------------------------------------------------- geometry
def plan(original: tuple[int, int], size: tuple[int, int], fit: str) -> Geometry:
    if fit not in FITS:
        raise UserError(f"--fit {fit}: use one of {', '.join(FITS)}")
    ow, oh = original
    tw, th = size
    if fit == "stretch":
        return Geometry(original, size, fit, (0, 0, tw, th), (0, 0, ow, oh))
    if fit == "pad":
        scale = min(tw / ow, th / oh)
        w, h = max(1, min(tw, round(ow * scale))), max(1, min(th, round(oh * scale)))
        x, y = (tw - w) // 2, (th - h) // 2
        return Geometry(original, size, fit, (x, y, x + w, y + h), (0, 0, ow, oh))
    scale = max(tw / ow, th / oh)  # crop: cover the target, cut the overflow evenly
    cw, ch = min(ow, round(tw / scale)), min(oh, round(th / scale))
    x, y = (ow - cw) // 2, (oh - ch) // 2
    return Geometry(original, size, fit, (0, 0, tw, th), (x, y, x + cw, y + ch))


def apply(img: Image.Image, geo: Geometry, *, resample: int, fill: int | tuple[int, ...]) -> Image.Image:
    """Put ``img`` (of size ``geo.original``) through the geometry: crop, resize, pad."""
    x0, y0, x1, y1 = geo.box
    src = img if geo.source_box == (0, 0, *geo.original) else img.crop(geo.source_box)
    inner = (x1 - x0, y1 - y0)
    if src.size != inner:
        kwargs = {"reducing_gap": 3.0} if resample != Image.Resampling.NEAREST else {}
        src = src.resize(inner, resample, **kwargs)
    if inner == geo.size:
        return src
    canvas = Image.new(src.mode, geo.size, fill)
    canvas.paste(src, (x0, y0))
    return canvas


def restore(result: Image.Image, geo: Geometry) -> Image.Image:
    """An edited image of the prepared canvas -> back to the original's aspect ratio: padding
    removed (pad), un-stretched (stretch); crop keeps the cropped view. Scales to ``result``'s size
    when the model answered at another resolution."""
    rw, rh = result.size
    sx, sy = rw / geo.size[0], rh / geo.size[1]
    if geo.fit == "pad":
        x0, y0, x1, y1 = geo.box
        box = (round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy))
        return result if box == (0, 0, rw, rh) else result.crop(box)
    if geo.fit == "stretch":
        ow, oh = geo.original
        scale = max(rw / ow, rh / oh)
        target = (max(1, round(ow * scale)), max(1, round(oh * scale)))
        return result if target == result.size else result.resize(target, Image.Resampling.LANCZOS)
    return result


# ------------------------------------------------------------------------------- masks
def user_mask(img: Image.Image, mode: str = "auto") -> Image.Image:
    """A user's mask file -> "L", 255 = edit. ``white``: white-on-black (luminance, transparent
    pixels count as black); ``transparent``: transparent pixels (alpha < 128) are the edit area;
    ``auto``: transparent when the file has any transparent pixel, white otherwise."""
    if mode not in MASK_MODES:
        raise UserError(f"--mask-mode {mode}: use one of {', '.join(MASK_MODES)}")
    img = to_rgba_or_rgb(img)
    alpha = img.getchannel("A") if img.mode == "RGBA" else None
    if mode == "auto":
        mode = "transparent" if alpha is not None and alpha.getextrema()[0] < THRESHOLD else "white"
    if mode == "transparent":
        if alpha is None:
            raise UserError("--mask-mode transparent: the mask has no transparency")
        return alpha.point(lambda a: 255 if a < THRESHOLD else 0)
    if alpha is not None:
        black = Image.new("RGBA", img.size, (0, 0, 0, 255))
        black.alpha_composite(img)
        img = black
    return img.convert("L")


def fit_mask_to(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale a mask to the image's size when only the resolution differs; another shape -> UserError."""
    if mask.size == size:
        return mask
    mw, mh = mask.size
    w, h = size
    if abs((mw / mh) / (w / h) - 1) > ASPECT_TOLERANCE:
        raise UserError(f"the mask is {mw}x{mh} but the image is {w}x{h}; it cannot be scaled to fit "
                        "(different aspect ratio)")
    return mask.resize(size, Image.Resampling.BILINEAR)


def to_bitmask(mask_l: Image.Image, threshold: int = THRESHOLD) -> Image.Image:
    """"L" (255 = edit) -> mode "1" by threshold (no dithering): 1 = edit."""
    return mask_l.point(lambda v: 255 if v >= threshold else 0).convert("1", dither=Image.Dither.NONE)


def api_mask(bitmask: Image.Image) -> Image.Image:
    """Mode "1" (1 = edit) -> the API's RGBA mask: alpha 0 where to repaint, 255 elsewhere."""
    alpha = ImageOps.invert(bitmask.convert("L"))
    out = Image.new("RGBA", bitmask.size, (0, 0, 0, 255))
    out.putalpha(alpha)
    return out


# ------------------------------------------------------------------------------- encoding
def encode_png(img: Image.Image, limit: int | None = None) -> tuple[bytes, tuple[str, ...]]:
    """Fast PNG (png.encode: adaptive Sub/Up/Average rows, zlib Z_RLE; no optimize pass); kept
    under ``limit`` bytes by re-encoding at zlib level 9 and then reducing to 256 colours."""
    notes: list[str] = []
    data = fastpng.encode(img) if fastpng.supported(img) else _png(img, 6)
    if limit is None or len(data) < limit:
        return data, ()
    data = _png(img, 9)
    notes.append("re-encoded at zlib level 9 to stay under the size limit")
    if len(data) < limit:
        return data, tuple(notes)
    if img.mode == "RGBA":
        quant = img.quantize(256, method=Image.Quantize.FASTOCTREE)
    else:
        quant = img.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    data = _png(quant, 9)
    notes.append("reduced to 256 colours to stay under the size limit")
    if len(data) >= limit:
        raise UserError(f"cannot encode the image under {limit / 1048576:.0f} MB")
    return data, tuple(notes)


def _png(img: Image.Image, level: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=level)
    return buf.getvalue()


# ------------------------------------------------------------------------------- pipeline
def prepare(img: Image.Image, caps: ModelCaps, *, mask: Image.Image | None = None,
            region: str | None = None, fit: str = "pad", mask_mode: str = "auto", feather: int = 0,
            size: str | None = None) -> Prepared:
    """Prepare ``img`` (a decoded image) for an edit with ``caps``; ``mask`` is a decoded user mask
    (see ``user_mask``) or ``region`` a canonical region name; neither -> no mask, except that an
    input with transparent areas becomes its own mask (its transparent pixels are repainted)."""
    if mask is not None and region:
        raise UserError("give either a mask file or a region, not both")
    oriented = to_rgba_or_rgb(img)
    original = oriented.size
    soft: Image.Image | None = None
    if mask is not None:
        soft = fit_mask_to(user_mask(mask, mask_mode), original)
    elif region:
        soft = region_mask(region, original)
    elif oriented.mode == "RGBA" and oriented.getchannel("A").getextrema()[0] < THRESHOLD:
        soft = oriented.getchannel("A").point(lambda a: 255 if a < THRESHOLD else 0)
    rgb = flatten(oriented)

    geo = plan(original, prep_size(caps, *original, size), fit)
    prepared = apply(rgb, geo, resample=Image.Resampling.LANCZOS, fill=PAD_COLOR)
    if caps.family == "dall-e-2":
        prepared = prepared.convert("RGBA")  # the live endpoint wants RGBA/LA/L; alpha stays 255
    limit = caps.edit_image_max_bytes or None
    png, notes = encode_png(prepared, limit)
    if not caps.gpt and png[:8] != b"\x89PNG\r\n\x1a\n":  # pragma: no cover - encode_png makes PNG
        raise UserError("internal: not a PNG")

    if soft is None:
        return Prepared(prepared, png, geo, caps.name, notes=notes, original=rgb)
    bit_original = to_bitmask(soft)
    bitmask = apply(bit_original, geo, resample=Image.Resampling.NEAREST, fill=0)  # padding: keep
    if not bitmask.getbbox():
        raise UserError("the mask selects nothing to edit")
    source_mask = feather_inside(bit_original.convert("L"), feather)
    soft_prepared = apply(source_mask, geo, resample=Image.Resampling.BILINEAR, fill=0)
    rgba = api_mask(bitmask)
    mask_png, mask_notes = encode_png(rgba, caps.mask_max_bytes)
    return Prepared(prepared, png, geo, caps.name, rgba, mask_png, bitmask, soft_prepared, notes + mask_notes,
                    original=rgb, source_mask=source_mask)


def feather_inside(hard: Image.Image, feather: int) -> Image.Image:
    """A 0/255 "L" mask softened by ``feather`` px, the ramp only inside the edit area: pixels
    outside stay exactly 0, so a blend keeps them; deep inside stays 255."""
    if feather <= 0:
        return hard
    from PIL import ImageChops, ImageFilter

    blurred = hard.filter(ImageFilter.GaussianBlur(feather))  # ~128 on the edge
    inner = blurred.point(lambda v: max(0, 2 * v - 255))      # 0 on the edge, 255 deep inside
    return ImageChops.darker(hard, inner)


def blend_back(original_rgb: Image.Image, result: Image.Image, soft_mask: Image.Image) -> Image.Image:
    """Keep the original's pixels outside the edit area (GPT image models may redraw them):
    ``result`` where ``soft_mask`` is 255, the original where it is 0, a blend in between."""
    if original_rgb.size != result.size:
        original_rgb = original_rgb.resize(result.size, Image.Resampling.LANCZOS)
    if soft_mask.size != result.size:
        soft_mask = soft_mask.resize(result.size, Image.Resampling.BILINEAR)
    return Image.composite(result.convert("RGB"), original_rgb.convert("RGB"), soft_mask)
