"""Requests against the strict stand-in: fields per model, multipart files, streaming, URLs, errors."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from assistant.config import load_config, with_overrides
from assistant.errors import ApiError, PolicyError, UserError
from assistant.images import store
from assistant.images.factory import make_image_service
from tests.standin import Reply, StandIn

GPT_ONLY = ("output_format", "output_compression", "background", "moderation", "stream", "partial_images",
            "input_fidelity")


@pytest.fixture(scope="module")
def srv():
    with StandIn() as s:
        yield s


@pytest.fixture
def server(srv):
    srv.reset()
    yield srv
    assert srv.violations == []


def _cfg(server, **images):
    return with_overrides(load_config(), images={"base_url": server.base_url, "max_retries": 0, "timeout": 10,
                                                 **images})


def _photo(tmp_path, size=(1200, 800), name="photo.jpg"):
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)
    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return path


def test_no_key_no_base_url():
    with pytest.raises(UserError) as err:
        make_image_service(load_config())
    assert str(err.value) == "drawing needs OPENAI_API_KEY or images.base_url"


def test_dalle3_generate_quality_style(server):
    service = make_image_service(_cfg(server, model="dall-e-3"))
    result = service.generate("a red fox in snow", quality="hd", style="natural", size="1792x1024")
    rec = server.requests[-1]
    assert rec.endpoint == "/images/generations"
    body = rec.json
    assert body == {"model": "dall-e-3", "prompt": "a red fox in snow", "quality": "hd", "style": "natural",
                    "size": "1792x1024", "response_format": "b64_json"}
    assert result.revised_prompt == "a red fox in snow"
    (path,) = result.paths
    assert path.parent == store.output_dir(service.cfg) and path.name.endswith("-a-red-fox-in-snow.png")
    assert Image.open(path).size == (1792, 1024)
    text = store.read_png_text(path)
    assert text["prompt"] == "a red fox in snow" and text["model"] == "dall-e-3" and text["style"] == "natural"
    assert service.last_image() == path


def test_gpt_image_2_generate_sends_only_its_fields(server):
    service = make_image_service(_cfg(server))
    result = service.generate("한강 위의 노을", n=2, size="1536x864")
    body = server.requests[-1].json
    assert body == {"model": "gpt-image-2", "prompt": "한강 위의 노을", "n": 2, "size": "1536x864",
                    "output_format": "png"}
    assert "style" not in body and "response_format" not in body
    assert len(result.paths) == 2 and all(p.exists() for p in result.paths)
    assert result.paths[0].name.endswith("-한강-위의-노을-1.png")
    lines = (store.output_dir(service.cfg) / store.INDEX).read_text().splitlines()
    assert [json.loads(line)["file"] for line in lines] == [p.name for p in result.paths]


def test_streaming_partials_reported(server, tmp_path):
    service = make_image_service(_cfg(server, partial_images=2))
    seen: list[str] = []
    result = service.generate("a lighthouse", on_progress=seen.append)
    body = server.requests[-1].json
    assert body["stream"] is True and body["partial_images"] == 2
    assert len(seen) == 2 and all(Image.open(p).format == "PNG" for p in seen)
    assert result.paths[0].exists()


def test_dalle2_edit_with_prepared_mask(server, tmp_path):
    src = _photo(tmp_path)
    mask = Image.new("L", (1200, 800), 0)
    mask.paste(255, (600, 0, 1200, 400))
    mask_path = tmp_path / "mask.png"
    mask.save(mask_path)
    service = make_image_service(_cfg(server, model="dall-e-2"))
    result = service.edit(src, "a hot air balloon", mask=mask_path)
    rec = server.requests[-1]
    assert rec.endpoint == "/images/edits"
    assert rec.form["model"] == "dall-e-2" and rec.form["prompt"] == "a hot air balloon"
    assert rec.form["size"] == "1024x1024" and rec.form["response_format"] == "b64_json"
    for forbidden in GPT_ONLY + ("style", "quality"):
        assert forbidden not in rec.form
    name, ctype, data = rec.files["image"]
    assert (name, ctype) == ("image.png", "image/png")
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (1024, 1024) and len(data) < 4 * 1024 * 1024
    mname, mctype, mdata = rec.files["mask"]
    assert (mname, mctype) == ("mask.png", "image/png")
    m = Image.open(io.BytesIO(mdata))
    assert m.size == (1024, 1024) and m.mode == "RGBA"
    alpha = np.asarray(m.getchannel("A"))
    assert set(np.unique(alpha)) == {0, 255}
    # 1200x800 padded to 1024x1024: content rows 171..853; the mask's top-right quarter of the content
    assert alpha[200, 900] == 0 and alpha[200, 100] == 255 and alpha[800, 900] == 255 and alpha[50, 900] == 255
    # the padding is removed again: the saved edit has the original aspect ratio
    out = Image.open(result.paths[0])
    assert abs(out.width / out.height - 1.5) < 0.01
    assert result.source == src and result.kind == "edit"


def test_gpt_image_2_edit_last_with_region(server):
    service = make_image_service(_cfg(server))
    first = service.generate("a quiet harbour", size="1536x1024")
    result = service.edit("last", "add a red boat", region="the bottom left corner")
    rec = server.requests[-1]
    assert rec.form["model"] == "gpt-image-2" and rec.form["size"] == "1536x1024"
    assert "response_format" not in rec.form and "style" not in rec.form
    image = Image.open(io.BytesIO(rec.files["image"][2]))
    mask = Image.open(io.BytesIO(rec.files["mask"][2]))
    assert image.size == mask.size == (1536, 1024)
    alpha = np.asarray(mask.getchannel("A"))
    want = np.full((1024, 1536), 255, np.uint8)
    want[512:, :768] = 0
    assert np.array_equal(alpha, want)
    assert result.source == first.paths[0]
    assert service.last_image() == result.paths[0]


def test_korean_region_edit(server, tmp_path):
    service = make_image_service(_cfg(server))
    service.edit(_photo(tmp_path, (1536, 1024)), "하늘을 보라색으로", region="왼쪽 위")
    alpha = np.asarray(Image.open(io.BytesIO(server.requests[-1].files["mask"][2])).getchannel("A"))
    assert (alpha[:512, :768] == 0).all() and (alpha[512:, :] == 255).all() and (alpha[:, 768:] == 255).all()


def test_variation_dalle2(server, tmp_path):
    service = make_image_service(_cfg(server, model="dall-e-2"))
    assert service.variation_supported()
    result = service.variation(_photo(tmp_path), n=2)
    rec = server.requests[-1]
    assert rec.endpoint == "/images/variations" and rec.form["model"] == "dall-e-2"
    assert rec.files["image"][:2] == ("image.png", "image/png")
    assert len(result.paths) == 2


def test_url_answers_are_downloaded_with_cap(server):
    service = make_image_service(_cfg(server, model="dall-e-2"))
    png = io.BytesIO()
    Image.new("RGB", (256, 256), (1, 2, 3)).save(png, "PNG")
    url = server._store(png.getvalue())
    server.script("/images/generations", [Reply(json={"created": 1, "data": [{"url": url}]})])
    result = service.generate("a tiny square", size="256x256")
    assert Image.open(result.paths[0]).size == (256, 256)
    big = server._store(b"\x89PNG" + bytes(2 * 1024 * 1024))
    server.script("/images/generations", [Reply(json={"created": 1, "data": [{"url": big}]})])
    small_cap = make_image_service(_cfg(server, model="dall-e-2", download_max_mb=1))
    with pytest.raises(ApiError, match="download_max_mb"):
        small_cap.generate("too big")


@pytest.mark.parametrize("code", ["content_policy_violation", "moderation_blocked"])
def test_content_policy_is_policy_error_not_retried(server, code):
    service = make_image_service(_cfg(server, max_retries=2))
    err = {"error": {"message": "Your request was rejected by the safety system.", "type": "image_generation_user_error",
                     "param": None, "code": code}}
    server.script("/images/generations", [Reply(status=400, json=err)])
    with pytest.raises(PolicyError) as exc:
        service.generate("something refused")
    assert exc.value.exit_code == 3
    assert len(server.requests) == 1


def test_other_errors_are_api_errors(server):
    service = make_image_service(_cfg(server))
    err = {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}}
    server.script("/images/generations", [Reply(status=500, json=err)])
    with pytest.raises(ApiError) as exc:
        service.generate("x")
    assert exc.value.status == 500 and not isinstance(exc.value, PolicyError)


def test_connection_refused_is_api_error():
    cfg = with_overrides(load_config(), images={"base_url": "http://127.0.0.1:9/v1", "max_retries": 0, "timeout": 2})
    with pytest.raises(ApiError, match="cannot reach"):
        make_image_service(cfg).generate("x")


def test_invalid_options_never_sent(server, tmp_path):
    service = make_image_service(_cfg(server))
    with pytest.raises(UserError, match="--style natural"):
        service.generate("x", style="natural")
    with pytest.raises(UserError, match="'high'"):
        service.generate("x", quality="hd")
    with pytest.raises(UserError, match="empty"):
        service.generate("   ")
    with pytest.raises(UserError, match="no such file"):
        service.edit(tmp_path / "missing.png", "x", region="left")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(UserError, match="not an image"):
        service.edit(bad, "x", region="left")
    with pytest.raises(UserError, match="only these regions"):
        service.edit(_photo(tmp_path), "x", region="the dog's ear")
    with pytest.raises(UserError, match="cannot edit"):
        make_image_service(_cfg(server, model="dall-e-3")).edit(_photo(tmp_path), "x", region="left")
    with pytest.raises(UserError, match="no last image"):
        service.edit("last", "x")
    assert server.requests == []


def test_spoken_options(server):
    service = make_image_service(_cfg(server, model="dall-e-3"))
    opts = service.spoken_options({"quality": "high", "style": "natural", "size": "tall"})
    service.generate("a tower", **opts)
    assert server.requests[-1].json["size"] == "1024x1792" and server.requests[-1].json["quality"] == "hd"


def test_gpt_edit_streams_partials(server, tmp_path):
    service = make_image_service(_cfg(server, partial_images=1))
    seen: list[str] = []
    result = service.edit(_photo(tmp_path, (1536, 1024)), "make it night", region="top", on_progress=seen.append)
    form = server.requests[-1].form
    assert form["stream"] == "true" and form["partial_images"] == "1"
    assert len(seen) == 1 and result.paths[0].exists()


def test_dalle2_edit_needs_a_mask_unless_transparent(server, tmp_path):
    service = make_image_service(_cfg(server, model="dall-e-2"))
    with pytest.raises(UserError, match="need --mask or --region"):
        service.edit(_photo(tmp_path), "x")
    holey = Image.new("RGBA", (512, 512), (0, 90, 0, 255))
    holey.paste((0, 0, 0, 0), (0, 0, 256, 256))
    path = tmp_path / "holey.png"
    holey.save(path)
    service.edit(path, "a sun")
    alpha = np.asarray(Image.open(io.BytesIO(server.requests[-1].files["mask"][2])).getchannel("A"))
    assert (alpha[:512, :512] == 0).all() and (alpha[512:, :] == 255).all()


def test_python_api(server, tmp_path, monkeypatch):
    from assistant import api

    cfg = _cfg(server)
    drawn = api.draw("a paper boat", config=cfg)
    assert drawn.images[0].size == (1024, 1024) and "<img" in drawn._repr_html_()
    edited = api.edit("last", "make it blue", region="center", config=cfg)
    assert edited.paths[0].exists() and edited.kind == "edit"
    prep = api.prepare(_photo(tmp_path), region="왼쪽", model="dall-e-2", out_dir=str(tmp_path), config=cfg)
    assert prep.image.size == (1024, 1024) and prep.mask.mode == "RGBA" and len(prep.paths) == 2
    assert "<img" in prep._repr_html_()


def test_gpt_edit_with_reference_images(server, tmp_path):
    service = make_image_service(_cfg(server))
    refs = [_photo(tmp_path, (3000, 1000), f"ref{i}.jpg") for i in range(2)]
    service.edit(_photo(tmp_path, (1536, 1024)), "put the hat from the other pictures on him", region="top",
                 references=refs)
    rec = server.requests[-1]
    images = [f for f in rec.file_list if f[0] in ("image", "image[]")]
    assert len(images) == 3
    assert [f[1] for f in images] == ["image.png", "image-2.png", "image-3.png"]
    assert all(f[2] == "image/png" for f in images)
    assert Image.open(io.BytesIO(images[1][3])).size == (2048, 683)
    with pytest.raises(UserError, match="at most 1 input"):
        make_image_service(_cfg(server, model="dall-e-2")).edit(refs[0], "x", region="left", references=refs[:1])


def test_region_edit_of_a_big_photo_keeps_size_and_every_outside_pixel(server, tmp_path):
    """Issue 16's check: a 3000x2000 photo's top-left edited against the stand-in (which, like GPT
    image models, repaints everything at its own resolution) is saved at 3000x2000 and every
    pixel outside the region equals the original's."""
    rng = np.random.default_rng(16)
    photo = Image.fromarray(rng.integers(0, 256, (2000, 3000, 3), dtype=np.uint8))
    src = tmp_path / "big.png"
    photo.save(src)
    service = make_image_service(_cfg(server))
    result = service.edit(src, "add a kite", region="top left")
    assert server.requests[-1].form["size"] != "3000x2000"  # the model worked at its own size
    out = np.asarray(Image.open(result.paths[0]).convert("RGB"))
    assert out.shape == (2000, 3000, 3)
    orig = np.asarray(photo)
    keep = np.ones((2000, 3000), bool)
    keep[:1000, :1500] = False
    assert np.array_equal(out[keep], orig[keep])
    assert not np.array_equal(out[:1000, :1500], orig[:1000, :1500])
    row = json.loads((store.output_dir(service.cfg) / store.INDEX).read_text().splitlines()[-1])
    assert row["kind"] == "edit" and row["parent"] == str(src.resolve())


def test_edit_of_last_records_its_parent_by_name(server):
    service = make_image_service(_cfg(server))
    first = service.generate("a quiet harbour", size="1024x1024")
    second = service.edit("last", "add a boat", region="left")
    rows = [json.loads(line) for line in (store.output_dir(service.cfg) / store.INDEX).read_text().splitlines()]
    assert rows[-1]["file"] == second.paths[0].name and rows[-1]["parent"] == first.paths[0].name
    assert "parent" not in rows[-2]
