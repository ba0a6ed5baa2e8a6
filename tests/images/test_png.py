"""The fast PNG writer round-trips exactly through Pillow for every mode and odd sizes."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant.images import png

rng = np.random.default_rng(3)


@pytest.mark.parametrize("mode,channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
@pytest.mark.parametrize("size", [(1, 1), (1, 300), (257, 3), (130, 260)])
def test_round_trip(mode, channels, size):
    w, h = size
    arr = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    arr[: h // 2] //= 16  # some smooth-ish rows too
    img = Image.fromarray(arr[..., 0] if channels == 1 else arr, mode)
    data = png.encode(img)
    back = Image.open(io.BytesIO(data))
    back.load()
    assert back.format == "PNG" and back.mode == mode and back.size == size
    assert np.array_equal(np.asarray(back), np.asarray(img))


def test_flat_image_is_tiny():
    data = png.encode(Image.new("RGBA", (1024, 1024), (0, 0, 0, 255)))
    assert len(data) < 20_000


def test_rejects_other_modes():
    with pytest.raises(ValueError):
        png.encode(Image.new("P", (4, 4)))
