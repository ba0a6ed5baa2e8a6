"""Preparation over many kinds of input: exact size, mode, byte limit, 0/255 alpha, mask geometry."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant.errors import UserError
from assistant.images.models import MB, get_caps
from assistant.images.prepare import (api_mask, decode, encode_png, flatten, plan, prepare, restore, to_bitmask,
                                      user_mask)
from assistant.images.regions import region_mask

rng = np.random.default_rng(7)


def _bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _photo(w: int, h: int, noise: float = 10.0) -> Image.Image:
    small = Image.fromarray(rng.integers(0, 256, (max(2, h // 64), max(2, w // 64), 3), dtype=np.uint8))
    base = np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    grain = rng.integers(-int(noise), int(noise) + 1, (h, w, 3), dtype=np.int16)
    return Image.fromarray(np.clip(base.astype(np.int16) + grain, 0, 255).astype(np.uint8))


def _inputs() -> dict[str, Image.Image]:
    out: dict[str, Image.Image] = {}
    rgba = Image.new("RGBA", (640, 480), (255, 0, 0, 255))
    rgba.paste((0, 0, 255, 0), (0, 0, 320, 480))
    out["rgba"] = decode(_bytes(rgba, "PNG"))
    p = Image.new("P", (300, 300), 1)
    p.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    p.paste(0, (0, 0, 150, 300))
    out["p_transparent"] = decode(_bytes(p, "PNG", transparency=0))
    out["l"] = decode(_bytes(Image.new("L", (800, 600), 90), "PNG"))
    cmyk = Image.new("CMYK", (500, 400), (0, 255, 255, 0))
    out["cmyk_jpeg"] = decode(_bytes(cmyk, "JPEG"))
    i16 = Image.fromarray(np.tile(np.linspace(0, 65535, 400).astype(np.uint16), (300, 1)))
    assert i16.mode.startswith("I")
    out["png16"] = decode(_bytes(i16, "PNG"))
    rotated = Image.new("RGB", (400, 200), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    out["exif_jpeg"] = decode(_bytes(rotated, "JPEG", exif=exif.tobytes()))
    return out


INPUTS = _inputs()


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("model", ["dall-e-2", "gpt-image-2", "gpt-image-1"])
def test_prepared_image_rules(name, model):
    caps = get_caps(model)
    prep = prepare(INPUTS[name], caps, region="top-left")
    img = decode(prep.png)
    assert img.format == "PNG"
    assert img.size == prep.geometry.size == prep.mask.size
    assert len(prep.png) < caps.edit_image_max_bytes and len(prep.mask_png) < 4 * MB
    if model == "dall-e-2":
        assert img.width == img.height == 1024 and img.mode == "RGBA"
        assert img.getchannel("A").getextrema() == (255, 255)
    else:
        assert img.mode == "RGB"
    mask = decode(prep.mask_png)
    assert mask.mode == "RGBA" and mask.format == "PNG"
    assert set(np.unique(np.asarray(mask.getchannel("A")))) <= {0, 255}
    assert prep.bitmask.mode == "1"


def test_transparency_is_flattened_onto_white():
    rgb = flatten(INPUTS["rgba"])
    assert rgb.mode == "RGB" and rgb.getpixel((10, 10)) == (255, 255, 255) and rgb.getpixel((600, 10)) == (255, 0, 0)
    pal = flatten(INPUTS["p_transparent"])
    assert pal.getpixel((10, 10)) == (255, 255, 255) and pal.getpixel((200, 10)) == (0, 200, 0)


def test_cmyk_16bit_and_exif():
    assert flatten(INPUTS["cmyk_jpeg"]).getpixel((250, 200))[0] > 200  # red-ish, not inverted
    grey = flatten(INPUTS["png16"])
    assert grey.mode == "RGB" and grey.getpixel((0, 0))[0] < 3 and grey.getpixel((399, 0))[0] > 252
    turned = flatten(INPUTS["exif_jpeg"])
    assert turned.size == (200, 400)


def test_transparent_input_becomes_its_own_mask():
    prep = prepare(INPUTS["rgba"], get_caps("gpt-image-1"))  # 640x480 -> 1536x1024 padded
    assert prep.mask is not None
    box = prep.geometry.box
    a = np.asarray(prep.mask.getchannel("A"))
    inner = a[box[1]:box[3], box[0]:box[2]]
    half = inner.shape[1] // 2
    assert (inner[:, : half - 2] == 0).all() and (inner[:, half + 2:] == 255).all()


def test_big_photo_meets_limits_fast_enough():
    photo = _photo(6000, 4000)
    for model in ("dall-e-2", "gpt-image-2"):
        caps = get_caps(model)
        prep = prepare(photo, caps, region="outside-center")
        assert decode(prep.png).size == prep.geometry.size
        assert len(prep.png) < caps.edit_image_max_bytes
        a = np.asarray(prep.mask.getchannel("A"))
        assert set(np.unique(a)) == {0, 255}


def test_region_mask_geometry_pad_dalle2():
    # 2:1 image padded into 1024x1024: content rows 256..768; "left" edits the left half of content only
    img = Image.new("RGB", (2000, 1000), (10, 20, 30))
    prep = prepare(img, get_caps("dall-e-2"), region="left")
    assert prep.geometry.box == (0, 256, 1024, 768)
    a = np.asarray(prep.mask.getchannel("A"))
    expected = np.full((1024, 1024), 255, np.uint8)
    expected[256:768, 0:512] = 0
    assert np.array_equal(a, expected)


def test_region_mask_exact_when_no_padding():
    img = Image.new("RGB", (1536, 1024), (1, 2, 3))
    for text, name in (("the top left", "top-left"), ("왼쪽 위", "top-left"), ("가운데", "center"),
                       ("everything but the centre", "outside-center")):
        from assistant.images.regions import parse_region

        prep = prepare(img, get_caps("gpt-image-2"), region=parse_region(text))
        want = 255 - np.asarray(region_mask(name, (1536, 1024)))
        assert np.array_equal(np.asarray(prep.mask.getchannel("A")), want), text


def test_user_masks_white_and_transparent():
    size = (400, 300)
    white = Image.new("L", size, 0)
    white.paste(255, (0, 0, 200, 150))
    transparent = Image.new("RGBA", size, (20, 20, 20, 255))
    transparent.paste((0, 0, 0, 0), (0, 0, 200, 150))
    for mask, mode in ((white, "white"), (white, "auto"), (transparent, "transparent"), (transparent, "auto")):
        m = np.asarray(to_bitmask(user_mask(decode(_bytes(mask, "PNG")), mode)))
        assert m[:150, :200].all() and not m[150:, :].any() and not m[:, 200:].any(), mode
    with pytest.raises(UserError, match="no transparency"):
        user_mask(white, "transparent")


def test_user_mask_scaled_when_only_resolution_differs():
    img = Image.new("RGB", (800, 600), (5, 5, 5))
    small = Image.new("L", (400, 300), 0)
    small.paste(255, (200, 0, 400, 300))
    prep = prepare(img, get_caps("gpt-image-1"), mask=small)
    assert prep.mask.size == prep.geometry.size
    with pytest.raises(UserError, match="cannot be scaled"):
        prepare(img, get_caps("gpt-image-1"), mask=Image.new("L", (500, 300), 255))
    with pytest.raises(UserError, match="selects nothing"):
        prepare(img, get_caps("gpt-image-1"), mask=Image.new("L", (800, 600), 0))


def test_feathered_region_still_gives_binary_api_mask():
    prep = prepare(Image.new("RGB", (1024, 1024)), get_caps("dall-e-2"), region="center", feather=12)
    a = np.asarray(prep.mask.getchannel("A"))
    assert set(np.unique(a)) == {0, 255}
    soft = np.asarray(prep.soft_mask)
    assert ((soft > 0) & (soft < 255)).any()


def test_api_mask_convention():
    bit = to_bitmask(region_mask("right", (10, 4)))
    m = np.asarray(api_mask(bit))
    assert m.shape == (4, 10, 4)
    assert (m[:, :5, 3] == 255).all() and (m[:, 5:, 3] == 0).all()


@pytest.mark.parametrize("fit", ["pad", "crop", "stretch"])
def test_fit_and_restore(fit):
    img = Image.new("RGB", (1600, 900), (200, 10, 10))
    prep = prepare(img, get_caps("dall-e-2"), fit=fit)
    assert prep.image.size == (1024, 1024)
    back = restore(prep.image.convert("RGB"), prep.geometry)
    if fit == "crop":
        assert back.size == (1024, 1024)
        assert prep.geometry.source_box == (350, 0, 1250, 900)
    else:
        assert abs(back.width / back.height - 16 / 9) < 0.01
        if fit == "pad":  # padding gone: no white rows left
            arr = np.asarray(back)
            assert (arr[:, :, 1] < 60).all()


def test_byte_limit_enforced_by_reencoding():
    noise = Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8))
    data, notes = encode_png(noise, limit=300_000)
    assert len(data) < 300_000 and notes and decode(data).size == (512, 512)


def test_bad_inputs():
    with pytest.raises(UserError, match="not an image"):
        decode(b"hello, not an image")
    with pytest.raises(UserError, match="fit"):
        plan((10, 10), (20, 20), "zoom")
    with pytest.raises(UserError, match="either"):
        prepare(Image.new("RGB", (10, 10)), get_caps("gpt-image-1"), mask=Image.new("L", (10, 10), 255),
                region="left")


def test_prep_is_much_faster_than_optimize_baseline():
    """Lenient in-suite check of the bench target (bench/images.py measures the real ratio)."""
    import time

    img = _photo(3000, 2000, noise=6)
    caps = get_caps("gpt-image-2")

    def best(fn, n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    ours = best(lambda: prepare(img, caps), 3)
    rgb = flatten(img)
    geo = plan(rgb.size, (1536, 1024), "pad")

    def baseline():
        from assistant.images.prepare import apply

        apply(rgb, geo, resample=Image.Resampling.LANCZOS, fill=(255, 255, 255)).save(io.BytesIO(), "PNG",
                                                                                     optimize=True)
    assert ours < 0.5 * best(baseline, 2)
