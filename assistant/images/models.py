"""What each image model takes: a capability table (data), read from the prose of the official
OpenAPI document (CreateImageRequest / CreateImageEditRequest / CreateImageVariationRequest), and
the pure functions that turn user options into request fields or a one-line UserError.

Nothing a model does not take is ever put into a request: ``generate_fields`` / ``edit_fields``
build the field dicts the service sends, and they only ever contain what the table allows.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import UserError

MB = 1024 * 1024
STANDARD_GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536")


@dataclass(frozen=True)
class ModelCaps:
    name: str
    family: Literal["dall-e-2", "dall-e-3", "gpt"]
    prompt_max: int                      # characters
    sizes: tuple[str, ...]               # fixed sizes it takes ("auto" included when allowed)
    arbitrary_size: bool = False         # any WxH (multiples of 16, 1:3..3:1, pixel/edge limits)
    n_max: int = 10
    qualities: tuple[str, ...] = ()      # generation
    edit_qualities: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    output_formats: tuple[str, ...] = ()  # GPT image models only
    backgrounds: tuple[str, ...] = ()
    moderations: tuple[str, ...] = ()
    output_compression: bool = False
    response_format: bool = False        # dall-e: url | b64_json; GPT image: always base64
    stream: bool = False                 # streaming with partial_images (0..3)
    input_fidelity: bool = False
    generate: bool = True
    edit: bool = False
    variation: bool = False
    edit_max_images: int = 0
    edit_image_formats: tuple[str, ...] = ()   # Pillow format names
    edit_image_max_bytes: int = 0        # strictly less than this
    edit_square: bool = False
    mask_max_bytes: int = 4 * MB         # "Must be a valid PNG file, less than 4MB"

    @property
    def gpt(self) -> bool:
        return self.family == "gpt"


_GPT_COMMON: dict[str, Any] = dict(
    family="gpt", prompt_max=32000, sizes=STANDARD_GPT_SIZES + ("auto",), n_max=10,
    qualities=("low", "medium", "high", "auto"), edit_qualities=("low", "medium", "high", "auto"),
    output_formats=("png", "jpeg", "webp"), backgrounds=("transparent", "opaque", "auto"),
    moderations=("low", "auto"), output_compression=True, stream=True, input_fidelity=True,
    edit=True, edit_max_images=16, edit_image_formats=("PNG", "WEBP", "JPEG"),
    edit_image_max_bytes=50 * MB,
)

_TABLE: tuple[ModelCaps, ...] = (
    ModelCaps("dall-e-2", "dall-e-2", prompt_max=1000, sizes=("256x256", "512x512", "1024x1024"),
              n_max=10, qualities=("standard", "auto"), edit_qualities=("standard", "auto"),
              response_format=True, edit=True, variation=True, edit_max_images=1,
              edit_image_formats=("PNG",), edit_image_max_bytes=4 * MB, edit_square=True),
    ModelCaps("dall-e-3", "dall-e-3", prompt_max=4000, sizes=("1024x1024", "1792x1024", "1024x1792"),
              n_max=1, qualities=("standard", "hd", "auto"), styles=("vivid", "natural"),
              response_format=True),
    ModelCaps("gpt-image-2", arbitrary_size=True, **_GPT_COMMON),
    ModelCaps("gpt-image-2-2026-04-21", arbitrary_size=True, **_GPT_COMMON),
    ModelCaps("gpt-image-1.5", **_GPT_COMMON),
    ModelCaps("gpt-image-1", **_GPT_COMMON),
    ModelCaps("gpt-image-1-mini", **{**_GPT_COMMON, "input_fidelity": False}),
    # edits only ("follows the same input constraints as GPT image models")
    ModelCaps("chatgpt-image-latest", **{**_GPT_COMMON, "generate": False}),
)
MODELS: dict[str, ModelCaps] = {m.name: m for m in _TABLE}

# gpt-image-2 arbitrary sizes. The spec: multiples of 16, aspect 1:3..3:1, at most 3840x2160,
# "above 2560x1440 experimental", "the model's current pixel and edge limits" (the image guide
# gives 655,360 .. 8,294,400 pixels and a 3840 px longest edge).
SIZE_MULTIPLE = 16
MAX_EDGE = 3840
MIN_PIXELS = 655_360
MAX_PIXELS = 3840 * 2160
MAX_RATIO = 3.0
# what preparation aims for on arbitrary-size models: about as many pixels as 1536x1024
PREP_PIXELS = 1536 * 1024

_SIZE_RE = re.compile(r"^\s*(\d{1,5})\s*[x×X*]\s*(\d{1,5})\s*$")


def get_caps(model: str) -> ModelCaps:
    """Capabilities of ``model``. Unknown names are a UserError listing the known ones."""
    caps = MODELS.get(model)
    if caps is None:
        raise UserError(f"unknown image model {model!r}; known: {', '.join(MODELS)}")
    return caps


def takers(attr: str, value: str | None = None, *, op: str = "generate") -> list[str]:
    """Models whose table entry allows ``attr`` (and ``value`` when given)."""
    out = []
    for m in _TABLE:
        if (op == "generate" and not m.generate) or (op == "edit" and not m.edit):
            continue
        allowed = getattr(m, attr)
        if isinstance(allowed, bool):
            ok = allowed
        elif value is None:
            ok = bool(allowed)
        else:
            ok = value in allowed or (attr == "sizes" and m.arbitrary_size and parse_size(value) is not None
                                      and size_allowed(m, value))
        if ok:
            out.append(m.name)
    return out


def parse_size(text: str) -> tuple[int, int] | None:
    m = _SIZE_RE.match(text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def arbitrary_ok(w: int, h: int) -> str | None:
    """Why WxH breaks the gpt-image-2 rules, or None when it is fine."""
    if w % SIZE_MULTIPLE or h % SIZE_MULTIPLE:
        return f"width and height must be multiples of {SIZE_MULTIPLE}"
    if max(w, h) > MAX_EDGE:
        return f"the longest edge may be at most {MAX_EDGE}"
    if max(w, h) / min(w, h) > MAX_RATIO:
        return "the aspect ratio must be between 1:3 and 3:1"
    if not MIN_PIXELS <= w * h <= MAX_PIXELS:
        return f"the pixel count must be between {MIN_PIXELS:,} and {MAX_PIXELS:,}"
    return None


def size_allowed(caps: ModelCaps, size: str) -> bool:
    if size in caps.sizes:
        return True
    wh = parse_size(size)
    return bool(caps.arbitrary_size and wh and min(wh) > 0 and arbitrary_ok(*wh) is None)


def _check_choice(caps: ModelCaps, option: str, attr: str, value: str, op: str) -> None:
    allowed: tuple[str, ...] = getattr(caps, attr)
    if value in allowed:
        return
    flag = f"{_FLAGS.get(option, '--' + option.replace('_', '-'))} {value}"
    if not allowed:
        others = takers(attr, value, op=op) or takers(attr, op=op)
        raise UserError(f"{flag}: {caps.name} does not take {option}; models that take it: {', '.join(others)}")
    hint = ""
    if option == "quality" and value == "hd" and caps.gpt:
        hint = " (did you mean 'high'?)"
    elif option == "quality" and value in ("high", "low", "medium") and caps.family == "dall-e-3":
        hint = " (dall-e-3: 'hd' or 'standard')"
    others = [m for m in takers(attr, value, op=op) if m != caps.name]
    also = f"; models that take {value!r}: {', '.join(others)}" if others else ""
    raise UserError(f"{flag}: {caps.name} takes {option} {' | '.join(allowed)}{hint}{also}")


def check_size(caps: ModelCaps, size: str, op: str = "generate") -> str:
    size = size.strip().lower().replace("×", "x")
    if size_allowed(caps, size):
        return size
    wh = parse_size(size)
    if caps.arbitrary_size and wh:
        why = arbitrary_ok(*wh) if min(wh) > 0 else "width and height must be positive"
        raise UserError(f"--size {size}: {why} for {caps.name}")
    others = [m for m in takers("sizes", size, op=op) if m != caps.name]
    also = f"; models that take it: {', '.join(others)}" if others else ""
    extra = " or any WxH within its limits" if caps.arbitrary_size else ""
    raise UserError(f"--size {size}: {caps.name} takes {' | '.join(caps.sizes)}{extra}{also}")


def check_prompt(caps: ModelCaps, prompt: str) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise UserError("the prompt is empty")
    if len(prompt) > caps.prompt_max:
        raise UserError(f"the prompt is {len(prompt)} characters; {caps.name} takes at most {caps.prompt_max}")
    return prompt


@dataclass(frozen=True)
class Options:
    """What the user asked for. ``explicit`` names come from the user (wrong ones are errors);
    the others are config defaults, silently left out for models that do not take them."""

    size: str | None = None
    quality: str | None = None
    style: str | None = None
    n: int = 1
    output_format: str | None = None
    output_compression: int | None = None
    background: str | None = None
    moderation: str | None = None
    input_fidelity: str | None = None
    partial_images: int = 0
    explicit: frozenset[str] = frozenset()


_FLAGS = {"output_format": "--format"}
_CHOICE_ATTRS = {"quality": "qualities", "style": "styles", "output_format": "output_formats",
                 "background": "backgrounds", "moderation": "moderations"}


def _fields(caps: ModelCaps, opts: Options, op: str) -> dict[str, Any]:
    """Request fields (besides prompt/image/mask) for ``op`` in generate | edit | variation."""
    out: dict[str, Any] = {"model": caps.name}
    if op == "generate" and not caps.generate:
        raise UserError(f"{caps.name} cannot generate images; use one of {', '.join(takers('generate', op='generate'))}")
    if op == "edit" and not caps.edit:
        raise UserError(f"{caps.name} cannot edit images; models that can: {', '.join(m.name for m in _TABLE if m.edit)}")
    if op == "variation" and not caps.variation:
        raise UserError(f"{caps.name} cannot make variations; models that can: {', '.join(m.name for m in _TABLE if m.variation)}")
    explicit = opts.explicit

    if not 1 <= opts.n <= caps.n_max:
        raise UserError(f"--n {opts.n}: {caps.name} makes 1..{caps.n_max} images per request")
    if opts.n != 1:
        out["n"] = opts.n

    if opts.size:
        if "size" in explicit:
            out["size"] = check_size(caps, opts.size, op)
        elif opts.size != "auto" and size_allowed(caps, opts.size):
            out["size"] = opts.size
        if op == "variation" and out.get("size") == "auto":
            out.pop("size")

    if op == "variation":
        out["response_format"] = "b64_json"
        return out

    choices = dict(_CHOICE_ATTRS)
    if op == "edit":
        choices["quality"] = "edit_qualities"
        choices.pop("style")
        choices.pop("moderation")
    for option, attr in choices.items():
        value = getattr(opts, option)
        if not value:
            continue
        if option in explicit:
            _check_choice(caps, option, attr, value, op)
            out[option] = value
        elif value != "auto" and value in getattr(caps, attr):
            out[option] = value  # a config default: only when the model takes it

    if opts.output_compression is not None:
        fmt = out.get("output_format", "png")
        if not caps.output_compression or fmt not in ("jpeg", "webp"):
            if "output_compression" in explicit:
                raise UserError(f"--compression: only GPT image models with --format jpeg or webp take it "
                                f"({', '.join(takers('output_compression', op=op))})")
        elif not 0 <= opts.output_compression <= 100:
            raise UserError("--compression must be 0..100")
        else:
            out["output_compression"] = opts.output_compression
    if out.get("background") == "transparent" and out.get("output_format", "png") not in ("png", "webp"):
        raise UserError("--background transparent needs --format png or webp")
    if opts.input_fidelity and op == "edit":
        if caps.input_fidelity and opts.input_fidelity in ("high", "low"):
            out["input_fidelity"] = opts.input_fidelity
        elif "input_fidelity" in explicit:
            raise UserError(f"--input-fidelity: models that take it: {', '.join(takers('input_fidelity', op=op))}")
    if caps.response_format:
        out["response_format"] = "b64_json"  # no 60-minute URLs to chase
    if opts.partial_images and caps.stream:
        out["stream"] = True
        out["partial_images"] = max(0, min(3, opts.partial_images))
    return out


def generate_fields(caps: ModelCaps, opts: Options) -> dict[str, Any]:
    return _fields(caps, opts, "generate")


def edit_fields(caps: ModelCaps, opts: Options) -> dict[str, Any]:
    return _fields(caps, opts, "edit")


def variation_fields(caps: ModelCaps, opts: Options) -> dict[str, Any]:
    return _fields(caps, opts, "variation")


# ------------------------------------------------------------------- sizes for preparation
def prep_size(caps: ModelCaps, width: int, height: int, requested: str | None = None) -> tuple[int, int]:
    """The exact size an input image is prepared to for an edit with ``caps``.

    dall-e-2: square (the requested size if it is one of its sizes, else 1024x1024);
    fixed-size GPT models: the standard size whose aspect is nearest; gpt-image-2: about
    PREP_PIXELS pixels at the image's own aspect (clamped to 1:3..3:1), multiples of 16.
    """
    wh = parse_size(requested) if requested else None
    if wh and requested and size_allowed(caps, requested):
        if caps.edit_square and wh[0] != wh[1]:
            raise UserError(f"{caps.name} edits are square; --size {requested} is not")
        return wh
    if caps.edit_square:
        return (1024, 1024)
    if width <= 0 or height <= 0:
        raise UserError(f"invalid image size {width}x{height}")
    if not caps.arbitrary_size:
        fixed = [parse_size(s) for s in caps.sizes if parse_size(s)]
        aspect = math.log(width / height)
        best = min(fixed, key=lambda s: abs(math.log(s[0] / s[1]) - aspect))  # type: ignore[index]
        return best  # type: ignore[return-value]
    ratio = min(MAX_RATIO, max(1 / MAX_RATIO, width / height))
    m = SIZE_MULTIPLE
    w = max(m, round(math.sqrt(PREP_PIXELS * ratio) / m) * m)
    h = max(m, round(math.sqrt(PREP_PIXELS / ratio) / m) * m)
    # rounding must not push the aspect past 3:1 (PREP_PIXELS keeps edges and pixels in range)
    w = min(w, int(h * MAX_RATIO) // m * m)
    h = min(h, int(w * MAX_RATIO) // m * m)
    return w, h


# ------------------------------------------------------------------- spoken options
_SPOKEN_SIZES = {
    "dall-e-2": {"square": "1024x1024"},
    "dall-e-3": {"square": "1024x1024", "wide": "1792x1024", "tall": "1024x1792"},
    "gpt": {"square": "1024x1024", "wide": "1536x1024", "tall": "1024x1536"},
}
_SPOKEN_QUALITY = {
    "dall-e-2": {},
    "dall-e-3": {"high": "hd", "medium": "standard", "low": "standard"},
    "gpt": {"high": "high", "medium": "medium", "low": "low"},
}


def spoken_fields(caps: ModelCaps, spoken: dict[str, str]) -> dict[str, Any]:
    """Router options (quality high|medium|low, style natural|vivid, size wide|tall|square) ->
    keyword arguments for ImageService.generate; what the model cannot take is dropped."""
    family = caps.family
    out: dict[str, Any] = {}
    q = _SPOKEN_QUALITY[family].get(spoken.get("quality", ""))
    if q:
        out["quality"] = q
    style = spoken.get("style")
    if style and style in caps.styles:
        out["style"] = style
    size = _SPOKEN_SIZES[family].get(spoken.get("size", ""))
    if size:
        out["size"] = size
    return out
