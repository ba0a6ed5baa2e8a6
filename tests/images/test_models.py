"""Capability table: option checks name the option and the models that take it; fields per model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import UserError
from assistant.images.models import (MODELS, Options, arbitrary_ok, edit_fields, generate_fields, get_caps,
                                     prep_size, spoken_fields, variation_fields)

SPEC = Path(__file__).resolve().parents[3] / "shared/openai/openapi.json"


def _x(**kw):
    return frozenset(kw)


@pytest.mark.skipif(not SPEC.is_file(), reason="spec not present")
def test_table_covers_the_spec_models():
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    for schema in ("CreateImageRequest", "CreateImageEditRequest"):
        enum = next(a["enum"] for a in schemas[schema]["properties"]["model"]["anyOf"] if "enum" in a)
        assert set(enum) <= set(MODELS), set(enum) - set(MODELS)


def test_style_on_gpt_image_names_option_and_takers():
    with pytest.raises(UserError) as err:
        generate_fields(get_caps("gpt-image-2"), Options(style="natural", explicit=_x(style=1)))
    assert str(err.value) == "--style natural: gpt-image-2 does not take style; models that take it: dall-e-3"


def test_quality_hd_on_gpt_image_suggests_high():
    with pytest.raises(UserError) as err:
        generate_fields(get_caps("gpt-image-1.5"), Options(quality="hd", explicit=_x(quality=1)))
    assert "--quality hd" in str(err.value) and "'high'" in str(err.value) and "dall-e-3" in str(err.value)


@pytest.mark.parametrize("model,opts,needle", [
    ("dall-e-3", Options(n=2), "--n 2"),
    ("dall-e-3", Options(output_format="webp", explicit=_x(output_format=1)), "--format webp"),
    ("dall-e-2", Options(size="1792x1024", explicit=_x(size=1)), "dall-e-3"),
    ("gpt-image-1", Options(size="1536x864", explicit=_x(size=1)), "gpt-image-2"),
    ("gpt-image-2", Options(size="1000x1000", explicit=_x(size=1)), "multiples of 16"),
    ("gpt-image-2", Options(size="3840x960", explicit=_x(size=1)), "1:3"),
    ("gpt-image-2", Options(size="4096x2048", explicit=_x(size=1)), "3840"),
    ("dall-e-3", Options(quality="high", explicit=_x(quality=1)), "hd"),
    ("gpt-image-2", Options(output_format="jpeg", background="transparent",
                            explicit=_x(output_format=1, background=1)), "transparent"),
])
def test_invalid_options(model, opts, needle):
    with pytest.raises(UserError) as err:
        generate_fields(get_caps(model), opts)
    assert needle in str(err.value)


def test_defaults_from_config_are_dropped_where_not_taken():
    cfg_like = Options(size="auto", quality="auto", style="vivid", output_format="png")
    assert generate_fields(get_caps("dall-e-2"), cfg_like) == {"model": "dall-e-2", "response_format": "b64_json"}
    assert generate_fields(get_caps("dall-e-3"), cfg_like) == {"model": "dall-e-3", "style": "vivid",
                                                               "response_format": "b64_json"}
    assert generate_fields(get_caps("gpt-image-2"), cfg_like) == {"model": "gpt-image-2", "output_format": "png"}


def test_dalle3_fields():
    f = generate_fields(get_caps("dall-e-3"), Options(quality="hd", style="natural", size="1792x1024",
                                                      explicit=_x(quality=1, style=1, size=1)))
    assert f == {"model": "dall-e-3", "quality": "hd", "style": "natural", "size": "1792x1024",
                 "response_format": "b64_json"}


def test_gpt_streaming_and_only_gpt_fields():
    f = generate_fields(get_caps("gpt-image-2"), Options(partial_images=2, output_format="webp",
                                                         output_compression=80, size="1536x864",
                                                         explicit=_x(size=1, output_compression=1)))
    assert f == {"model": "gpt-image-2", "output_format": "webp", "output_compression": 80, "size": "1536x864",
                 "stream": True, "partial_images": 2}
    f2 = generate_fields(get_caps("dall-e-3"), Options(partial_images=2, output_format="webp"))
    assert "stream" not in f2 and "output_format" not in f2


def test_edit_and_variation_models():
    with pytest.raises(UserError, match="cannot edit"):
        edit_fields(get_caps("dall-e-3"), Options())
    with pytest.raises(UserError, match="dall-e-2"):
        variation_fields(get_caps("gpt-image-2"), Options())
    assert edit_fields(get_caps("dall-e-2"), Options(size="1024x1024", explicit=_x(size=1))) == {
        "model": "dall-e-2", "size": "1024x1024", "response_format": "b64_json"}
    with pytest.raises(UserError, match="unknown image model"):
        get_caps("dall-e-4")


@pytest.mark.parametrize("wh", [(6000, 4000), (100, 100), (1920, 1080), (1080, 1920), (5000, 1000),
                                (1, 4000), (3000, 2000), (4000, 3000)])
def test_prep_sizes_are_allowed(wh):
    for name in ("gpt-image-2", "gpt-image-1", "dall-e-2"):
        caps = get_caps(name)
        w, h = prep_size(caps, *wh)
        if caps.arbitrary_size:
            assert arbitrary_ok(w, h) is None
        else:
            assert f"{w}x{h}" in caps.sizes
        if name == "dall-e-2":
            assert w == h == 1024
    assert prep_size(get_caps("gpt-image-2"), 3000, 2000) == (1536, 1024)
    assert prep_size(get_caps("gpt-image-1"), 1080, 1920) == (1024, 1536)


def test_spoken_fields_per_model():
    spoken = {"quality": "high", "style": "natural", "size": "wide"}
    assert spoken_fields(get_caps("dall-e-3"), spoken) == {"quality": "hd", "style": "natural", "size": "1792x1024"}
    assert spoken_fields(get_caps("gpt-image-2"), spoken) == {"quality": "high", "size": "1536x1024"}
    assert spoken_fields(get_caps("dall-e-2"), spoken) == {}
