"""Spoken regions: EN/KO phrases -> canonical names, unknown regions, pixel-exact masks."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.errors import UserError
from assistant.images.regions import REGION_NAMES, describe, find_region, parse_region, region_mask

PHRASES = [
    ("top left", "top-left"), ("the upper left corner", "top-left"), ("Top-Left!", "top-left"),
    ("make the upper-left corner of the image blue", "top-left"), ("top right", "top-right"),
    ("the lower right quadrant", "bottom-right"), ("bottom left corner", "bottom-left"),
    ("in the left half", "left"), ("the right side", "right"), ("the top half", "top"),
    ("the bottom", "bottom"), ("the middle", "center"), ("the centre", "center"), ("CENTER", "center"),
    ("everything but the center", "outside-center"), ("everything except the middle", "outside-center"),
    ("all but the centre", "outside-center"), ("the left third", "left-third"),
    ("the right third", "right-third"), ("the centre column", "center-third"),
    ("the middle third", "middle-third"), ("the top third", "top-third"), ("lower third", "bottom-third"),
    ("the whole image", "all"), ("everything", "all"),
    ("왼쪽 위", "top-left"), ("왼쪽 상단", "top-left"), ("왼쪽 상단을 바다로 바꿔줘", "top-left"),
    ("오른쪽 위에", "top-right"), ("오른쪽 아래", "bottom-right"), ("왼쪽 하단", "bottom-left"),
    ("가운데", "center"), ("중앙에 고양이를 넣어줘", "center"), ("왼쪽", "left"), ("오른쪽을", "right"),
    ("위쪽", "top"), ("아래쪽", "bottom"), ("가운데 빼고", "outside-center"),
    ("가운데를 빼고 나머지를 바꿔줘", "outside-center"), ("가장자리", "outside-center"),
    ("왼쪽 3분의 1", "left-third"), ("전체", "all"),
    ("in the middle of the picture", "center"), ("the top of it", "top"), ("make it brighter on the right", "right"),
    ("위를 파랗게", "top"), ("그림 위를 파랗게", "top"),
]


@pytest.mark.parametrize("text,name", PHRASES)
def test_find_region(text, name):
    match = find_region(text)
    assert match is not None and match.name == name
    assert 0 <= match.start < match.end <= len(text)


def test_span_covers_the_phrase():
    text = "please paint the upper left corner red"
    m = find_region(text)
    assert text[m.start:m.end] == "the upper left corner"
    k = "왼쪽 위를 파랗게"
    m = find_region(k)
    assert k[m.start:m.end] == "왼쪽 위"


@pytest.mark.parametrize("text", ["the dog's ear", "draw a cat", "leftover pizza", "bright sky", "위치를 바꿔",
                                  "중간고사", "to the left of the tree", "put a hat on top of the car",
                                  "top left of the tree", "do it right now", "nothing left", "고양이 위에 모자"])
def test_no_region(text):
    assert find_region(text) is None


def test_parse_region_unknown_lists_regions():
    with pytest.raises(UserError) as err:
        parse_region("the dog's ear")
    msg = str(err.value)
    assert "only these regions are understood" in msg
    for name in REGION_NAMES:
        assert name in msg
    assert "\n" not in msg


def test_parse_region_accepts_canonical_names():
    for name in REGION_NAMES:
        assert parse_region(name) == name
    assert parse_region("왼쪽 위") == "top-left"


def _expected(name: str, w: int, h: int) -> np.ndarray:
    # boxes written out independently: floor(size * fraction)
    half_w, half_h, t1w, t2w, t1h, t2h = w // 2, h // 2, w // 3, 2 * w // 3, h // 3, 2 * h // 3
    q1w, q3w, q1h, q3h = w // 4, 3 * w // 4, h // 4, 3 * h // 4
    boxes = {
        "left": (0, 0, half_w, h), "right": (half_w, 0, w, h), "top": (0, 0, w, half_h),
        "bottom": (0, half_h, w, h), "top-left": (0, 0, half_w, half_h), "top-right": (half_w, 0, w, half_h),
        "bottom-left": (0, half_h, half_w, h), "bottom-right": (half_w, half_h, w, h),
        "left-third": (0, 0, t1w, h), "center-third": (t1w, 0, t2w, h), "right-third": (t2w, 0, w, h),
        "top-third": (0, 0, w, t1h), "middle-third": (0, t1h, w, t2h), "bottom-third": (0, t2h, w, h),
        "center": (q1w, q1h, q3w, q3h), "outside-center": (q1w, q1h, q3w, q3h), "all": (0, 0, w, h),
    }
    x0, y0, x1, y1 = boxes[name]
    out = np.zeros((h, w), np.uint8)
    out[y0:y1, x0:x1] = 255
    return 255 - out if name == "outside-center" else out


@pytest.mark.parametrize("name", REGION_NAMES)
@pytest.mark.parametrize("size", [(1024, 1024), (1537, 1023), (7, 5)])
def test_region_mask_pixel_exact(name, size):
    mask = region_mask(name, size)
    assert mask.mode == "L" and mask.size == size
    assert np.array_equal(np.asarray(mask), _expected(name, *size))


@pytest.mark.parametrize("text,name", [("the top left", "top-left"), ("왼쪽 위", "top-left"),
                                        ("everything but the centre", "outside-center"),
                                        ("가운데 빼고", "outside-center"), ("가운데", "center")])
def test_spoken_masks_en_ko_identical(text, name):
    size = (300, 200)
    assert np.array_equal(np.asarray(region_mask(parse_region(text), size)), _expected(name, *size))


def test_complements_tile_exactly():
    size = (1001, 777)
    for a, b in (("left", "right"), ("top", "bottom"), ("center", "outside-center")):
        total = np.asarray(region_mask(a, size)).astype(int) + np.asarray(region_mask(b, size))
        assert (total == 255).all()
    thirds = sum(np.asarray(region_mask(n, size)).astype(int) for n in ("left-third", "center-third", "right-third"))
    assert (thirds == 255).all()
    quads = sum(np.asarray(region_mask(n, size)).astype(int)
                for n in ("top-left", "top-right", "bottom-left", "bottom-right"))
    assert (quads == 255).all()


def test_feather_softens_edges_only():
    hard = np.asarray(region_mask("left", (200, 100)))
    soft = np.asarray(region_mask("left", (200, 100), feather=6))
    assert soft[50, 20] == 255 and soft[50, 180] == 0
    assert 0 < soft[50, 100] < 255 or 0 < soft[50, 99] < 255
    # thresholding the feathered mask at 128 gives back the hard edge (within a pixel)
    assert np.abs((soft >= 128).astype(int) - (hard >= 128)).sum() <= 100


def test_describe():
    assert describe("top-left") == "the top left"
    assert describe("top-left", "ko") == "왼쪽 위"
    assert describe("outside-center", "en") == "everything but the centre"
    with pytest.raises(UserError):
        describe("nose")
