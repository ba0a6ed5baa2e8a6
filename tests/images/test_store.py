"""Saving: names, atomic writes that never overwrite, PNG text chunks, index.jsonl, `last`."""
from __future__ import annotations

import io
import json
import os
import stat

import pytest
from PIL import Image

from assistant.config import load_config, with_overrides
from assistant.errors import UserError
from assistant.images import store


def _png(size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (9, 9, 9)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("prompt,slug", [
    ("A red fox, in the snow!", "a-red-fox-in-the-snow"),
    ("../../etc/passwd", "etc-passwd"),
    ("/absolute/path\\with\0nul", "absolute-path-with-nul"),
    ("", "image"), ("!!!", "image"), ("한강 위의 노을", "한강-위의-노을"),
    ("word " * 30, "word-word-word-word-word-word-word-word"),
])
def test_slug_is_a_plain_name(prompt, slug):
    out = store.slugify(prompt)
    assert out == slug
    assert "/" not in out and "\\" not in out and "\0" not in out and not out.startswith(".")
    assert len(out) <= store.SLUG_MAX


def test_default_dir_is_private_and_names_are_stamped():
    cfg = load_config()
    (p1,) = store.target_paths(cfg, "a cat", 1, "png", None, now=0)
    d = store.output_dir(cfg)
    assert p1.parent == d and str(d).endswith("assistant/images")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert p1.name == f"{store.stamp(0)}-a-cat.png"
    store.save_image(p1, _png(), {"prompt": "a cat"})
    (p2,) = store.target_paths(cfg, "a cat", 1, "png", None, now=0)
    assert p2.name == f"{store.stamp(0)}-a-cat-2.png"
    assert store.target_paths(cfg, "a cat", 1, "jpeg", None, now=0)[0].suffix == ".jpg"


def test_save_never_overwrites(tmp_path):
    target = tmp_path / "x.png"
    target.write_bytes(b"user's file")
    saved = store.save_image(target, _png(), {"prompt": "p"})
    assert saved == tmp_path / "x-2.png"
    assert target.read_bytes() == b"user's file"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_png_text_chunks_utf8(tmp_path):
    meta = {"prompt": "고양이 a cat", "revised_prompt": "A fluffy cat", "model": "dall-e-3", "size": "8x8",
            "quality": "hd", "style": "vivid"}
    path = store.save_image(tmp_path / "c.png", _png(), meta)
    text = store.read_png_text(path)
    for k, v in meta.items():
        assert text[k] == v
    assert Image.open(path).size == (8, 8)


def test_out_file_and_dir(tmp_path):
    cfg = load_config()
    assert store.target_paths(cfg, "p", 1, "png", str(tmp_path / "mine.png")) == [tmp_path / "mine.png"]
    assert store.target_paths(cfg, "p", 2, "png", str(tmp_path / "mine.png")) == [
        tmp_path / "mine-1.png", tmp_path / "mine-2.png"]
    (tmp_path / "mine.png").write_bytes(b"x")
    with pytest.raises(UserError, match="not overwriting"):
        store.target_paths(cfg, "p", 1, "png", str(tmp_path / "mine.png"))
    with pytest.raises(UserError, match="does not exist"):
        store.target_paths(cfg, "p", 1, "png", str(tmp_path / "nope" / "a.png"))
    (p,) = store.target_paths(cfg, "p", 1, "png", str(tmp_path / "newdir") + "/")
    assert p.parent == tmp_path / "newdir" and p.parent.is_dir()


def test_index_and_last(tmp_path):
    cfg = with_overrides(load_config(), images={"output_dir": str(tmp_path / "imgs")})
    assert store.last_image(cfg) is None
    d = store.output_dir(cfg)
    a = store.save_image(d / "a.png", _png(), {})
    store.record(cfg, a, {"prompt": "first"})
    elsewhere = store.save_image(tmp_path / "b.png", _png(), {})
    store.record(cfg, elsewhere, {"prompt": "second"})
    lines = [json.loads(x) for x in (d / "index.jsonl").read_text().splitlines()]
    assert [x["file"] for x in lines] == ["a.png", str(elsewhere)]
    assert lines[0]["prompt"] == "first"
    assert store.last_image(cfg) == elsewhere
    store.record(cfg, a, {})
    assert (d / "last").read_text().strip() == "a.png" and store.last_image(cfg) == a
    (d / "last").write_text("../outside.png")
    assert store.last_image(cfg) is None
    with pytest.raises(UserError, match="no last image"):
        store.resolve_image(cfg, "last")


# ------------------------------------------------------------------ secure files (issue 17 #6)
def test_images_are_published_0644_index_and_last_private(tmp_path):
    cfg = with_overrides(load_config(), images={"output_dir": str(tmp_path / "imgs")})
    (target,) = store.target_paths(cfg, "a cat", 1, "png", None, now=0)
    saved = store.save_image(target, _png(), {"prompt": "a cat"})
    store.record(cfg, saved, {"prompt": "a cat"})
    d = tmp_path / "imgs"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE(saved.stat().st_mode) == 0o644
    assert stat.S_IMODE((d / store.INDEX).stat().st_mode) == 0o600
    assert stat.S_IMODE((d / store.LAST).stat().st_mode) == 0o600


def test_symlinked_index_is_refused_with_one_line(tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (d / store.INDEX).symlink_to(victim)
    cfg = with_overrides(load_config(), images={"output_dir": str(d)})
    (target,) = store.target_paths(cfg, "a cat", 1, "png", None, now=0)
    saved = store.save_image(target, _png(), {"prompt": "a cat"})
    with pytest.raises(UserError) as err:
        store.record(cfg, saved, {"prompt": "a cat"})
    assert "symbolic link" in str(err.value) and "\n" not in str(err.value)
    assert victim.read_text() == "precious\n"


def test_symlink_planted_at_the_image_name_is_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "x.png"
    target.symlink_to(victim)
    saved = store.save_image(target, _png(), {"prompt": "p"})
    assert saved == tmp_path / "x-2.png" and victim.read_text() == "precious"
    dangling = tmp_path / "y.png"
    dangling.symlink_to(tmp_path / "nowhere.png")
    assert store.save_image(dangling, _png(), {"prompt": "p"}) == tmp_path / "y-2.png"
    assert not (tmp_path / "nowhere.png").exists()
