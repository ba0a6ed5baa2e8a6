"""blend.py: the model's answer back at the input's size, the original kept outside the mask."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant.images.blend import finish, finish_image
from assistant.images.models import get_caps
from assistant.images.prepare import prepare

rng = np.random.default_rng(3)


def _photo(w: int, h: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def _answer(prep, size=None) -> Image.Image:
    """What a GPT image model does: repaint everything, maybe at another resolution."""
    return Image.new("RGB", size or prep.geometry.size, (10, 200, 30))


@pytest.mark.parametrize("fit", ["pad", "crop", "stretch"])
@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-1", "dall-e-2"])
def test_outside_the_region_is_the_original_at_its_size(fit, model):
    img = _photo(900, 600)
    prep = prepare(img, get_caps(model), region="top-left", fit=fit)
    out = finish_image(_answer(prep, (1248, 832)), prep)
    assert out.size == img.size and out.mode == "RGB"
    a, b = np.asarray(out), np.asarray(img)
    keep = np.ones((600, 900), bool)
    keep[:300, :450] = False
    assert np.array_equal(a[keep], b[keep])
    if fit != "crop":  # cropped away parts of the region were never seen by the model
        assert (a[10:290, 10:440] == (10, 200, 30)).all()


def test_no_mask_is_all_the_models_at_the_inputs_size():
    img = _photo(1024, 1024)
    prep = prepare(img, get_caps("gpt-image-2"))
    out = finish_image(_answer(prep, (1248, 1248)), prep)
    assert out.size == (1024, 1024)
    assert (np.asarray(out) == (10, 200, 30)).all()


def test_feather_ramps_inside_only_and_never_changes_the_api_mask():
    img = _photo(800, 600)
    hard = prepare(img, get_caps("gpt-image-2"), region="center")
    soft = prepare(img, get_caps("gpt-image-2"), region="center", feather=20)
    assert soft.mask_png == hard.mask_png
    assert np.array_equal(np.asarray(soft.bitmask), np.asarray(hard.bitmask))
    out = np.asarray(finish_image(_answer(soft), soft)).astype(int)
    orig = np.asarray(img).astype(int)
    outside = np.ones((600, 800), bool)
    outside[150:450, 200:600] = False
    assert np.array_equal(out[outside], orig[outside])
    assert (out[300, 400] == (10, 200, 30)).all()  # deep inside: the edit
    ramp = np.asarray(soft.source_mask)[300, 200:280]
    assert ramp[0] < 40 and ramp[-1] >= 250 and (np.diff(ramp.astype(int)) >= 0).all()


def test_user_mask_of_any_shape_keeps_the_rest():
    img = _photo(640, 480)
    mask = Image.new("L", (640, 480), 0)
    mask.paste(255, (100, 100, 200, 150))
    prep = prepare(img, get_caps("gpt-image-1.5"), mask=mask)
    out = np.asarray(finish_image(_answer(prep), prep))
    sel = np.asarray(mask) > 0
    assert np.array_equal(out[~sel], np.asarray(img)[~sel])


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("jpeg", b"\xff\xd8"), ("webp", b"RIFF")])
def test_finish_keeps_the_answers_format(fmt, magic):
    img = _photo(300, 200)
    prep = prepare(img, get_caps("gpt-image-2"), region="left")
    buf = io.BytesIO()
    _answer(prep).save(buf, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt])
    data = finish(buf.getvalue(), prep, fmt)
    assert data.startswith(magic)
    assert Image.open(io.BytesIO(data)).size == (300, 200)


def test_cli_edit_and_prepare_feather(tmp_path, monkeypatch):
    """`prepare --feather 20` writes the same API mask as without; `edit --region … --feather`
    against the stand-in saves the input's size with the outside kept."""
    from click.testing import CliRunner

    from assistant.cli import main
    from tests.standin import StandIn

    img = _photo(900, 600)
    src = tmp_path / "in.png"
    img.save(src)
    runner = CliRunner()
    masks = []
    for feather in ("0", "20"):
        out = tmp_path / f"prep{feather}"
        result = runner.invoke(main, ["prepare", str(src), "--region", "top left", "--feather", feather,
                                      "--model", "gpt-image-2", "--out-dir", str(out)])
        assert result.exit_code == 0, result.output
        masks.append((out / "in-mask.png").read_bytes())
    assert masks[0] == masks[1]
    with StandIn() as srv:
        conf = tmp_path / "c.toml"
        conf.write_text(f'[images]\nbase_url = "{srv.base_url}"\nmax_retries = 0\n')
        monkeypatch.setenv("ASSISTANT_CONFIG", str(conf))
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-blend")
        result = runner.invoke(main, ["edit", str(src), "add a kite", "--region", "top left", "--feather", "8"])
        assert result.exit_code == 0, result.output
        assert srv.violations == []
    out = np.asarray(Image.open(result.output.strip().splitlines()[0]).convert("RGB"))
    assert out.shape == (600, 900, 3)
    keep = np.ones((600, 900), bool)
    keep[:300, :450] = False
    assert np.array_equal(out[keep], np.asarray(img)[keep])
