"""`assistant draw | edit | prepare`: printed paths, one-line errors and exit codes."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from assistant.cli import main
from tests.standin import Reply, StandIn


@pytest.fixture(scope="module")
def srv():
    with StandIn() as s:
        yield s


@pytest.fixture
def run(srv, tmp_path, monkeypatch):
    srv.reset()
    conf = tmp_path / "config.toml"
    conf.write_text(f'[images]\nbase_url = "{srv.base_url}"\nmax_retries = 0\ntimeout = 10.0\n')
    monkeypatch.setenv("ASSISTANT_CONFIG", str(conf))

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args))
    yield invoke
    assert srv.violations == []


def _one_line(result) -> str:
    err = result.stderr.strip()
    assert err.count("\n") == 0 and err.startswith("error: "), err
    assert "Traceback" not in result.output
    return err


def test_draw_prints_saved_path(run, srv):
    r = run("draw", "a cat on a mat", "--quality", "low", "--size", "1024x1024")
    assert r.exit_code == 0, r.output
    path = Path(r.stdout.strip())
    assert path.is_file() and path.name.endswith("-a-cat-on-a-mat.png")
    assert srv.requests[-1].json == {"model": "gpt-image-2", "prompt": "a cat on a mat", "quality": "low",
                                     "size": "1024x1024", "output_format": "png"}


def test_draw_out_file(run, tmp_path):
    r = run("draw", "x", "--model", "dall-e-3", "--style", "vivid", "--out", str(tmp_path / "fox.png"))
    assert r.exit_code == 0 and r.stdout.strip() == str(tmp_path / "fox.png")
    r = run("draw", "x", "--model", "dall-e-3", "--out", str(tmp_path / "fox.png"))
    assert r.exit_code == 2 and "not overwriting" in _one_line(r)


@pytest.mark.parametrize("args,needle", [
    (("--style", "natural"), "--style natural: gpt-image-2 does not take style; models that take it: dall-e-3"),
    (("--quality", "hd"), "did you mean 'high'?"),
    (("--model", "dall-e-3", "--n", "3"), "--n 3"),
    (("--model", "dall-e-3", "--format", "webp"), "--format webp"),
    (("--size", "999x999"), "multiples of 16"),
])
def test_draw_option_errors(run, srv, args, needle):
    r = run("draw", "a dog", *args)
    assert r.exit_code == 2
    assert needle in _one_line(r)
    assert srv.requests == []


def test_empty_prompt(run):
    r = run("draw", "  ")
    assert r.exit_code == 2 and "empty" in _one_line(r)


def test_policy_exit_3(run, srv):
    srv.script("/images/generations", [Reply(status=400, json={"error": {
        "message": "Your request was rejected as a result of our safety system.", "type": "invalid_request_error",
        "param": None, "code": "content_policy_violation"}})])
    r = run("draw", "something")
    assert r.exit_code == 3 and "content policy" in _one_line(r)


def test_no_key_exit_2(tmp_path, monkeypatch):
    conf = tmp_path / "c.toml"
    conf.write_text("")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(conf))
    r = CliRunner().invoke(main, ["draw", "a cat"])
    assert r.exit_code == 2 and _one_line(r) == "error: drawing needs OPENAI_API_KEY or images.base_url"


def test_edit_last_with_region(run, srv):
    assert run("draw", "a field", "--size", "1536x1024").exit_code == 0
    r = run("edit", "last", "add a tree", "--region", "the right third")
    assert r.exit_code == 0, r.output
    assert Path(r.stdout.strip()).is_file()
    rec = srv.requests[-1]
    assert rec.endpoint == "/images/edits" and set(rec.files) == {"image", "mask"}


def test_edit_errors(run, tmp_path):
    r = run("edit", str(tmp_path / "nope.png"), "x", "--region", "left")
    assert r.exit_code == 2 and "no such file" in _one_line(r)
    txt = tmp_path / "t.png"
    txt.write_text("text")
    r = run("edit", str(txt), "x")
    assert r.exit_code == 2 and "not an image" in _one_line(r)
    img = tmp_path / "i.png"
    Image.new("RGB", (800, 600)).save(img)
    mask = tmp_path / "m.png"
    Image.new("L", (300, 600), 255).save(mask)
    r = run("edit", str(img), "x", "--mask", str(mask))
    assert r.exit_code == 2 and "cannot be scaled" in _one_line(r)
    r = run("edit", str(img), "x", "--region", "the dog's ear")
    assert r.exit_code == 2 and "only these regions are understood" in _one_line(r)
    r = run("edit", str(img), "", "--region", "left")
    assert r.exit_code == 2 and "empty" in _one_line(r)


def test_prepare_writes_files(run, tmp_path):
    img = tmp_path / "photo.png"
    Image.new("RGBA", (900, 600), (0, 0, 0, 0)).save(img)
    out = tmp_path / "out"
    out.mkdir()
    r = run("prepare", str(img), "--region", "왼쪽 위", "--model", "dall-e-2", "--out-dir", str(out))
    assert r.exit_code == 0, r.output
    assert "1024x1024 RGBA PNG" in r.stdout and "alpha 0 = repaint" in r.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["photo-mask.png", "photo-prepared.png"]
    mask = Image.open(out / "photo-mask.png")
    assert mask.size == (1024, 1024) and mask.mode == "RGBA"
