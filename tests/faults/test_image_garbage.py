"""Issue 17 items 4, 5, 7: an image answer is checked (Pillow verify + load, sensible size) before
it is saved, indexed or made `last`; `edit` with a bad server image exits 1 (API), not 2; inputs
over the pixel limit are refused with one line, never a raw DecompressionBombWarning."""
from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.errors import ApiError
from assistant.images.service import check_image
from tests.standin import ERROR_STATUSES, image_bytes

BROKEN = ["html", "json", "badjson", "empty", "random", "notimage", "truncated", "reset"]


@pytest.fixture
def out_dir(tmp_path):
    return tmp_path / "images"


@pytest.fixture
def run(srv, tmp_path, out_dir, monkeypatch):
    srv.reset()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    conf = tmp_path / "config.toml"
    conf.write_text(f'[images]\nbase_url = "{srv.base_url}"\nmax_retries = 0\ntimeout = 5.0\n'
                    f'output_dir = "{out_dir}"\nmodel = "gpt-image-1"\n')
    monkeypatch.setenv("ASSISTANT_CONFIG", str(conf))

    def invoke(*args: str):
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # a raw warning would be a failure
            return CliRunner().invoke(main, list(args))
    yield invoke
    assert srv.violations == []


def _state(out_dir: Path):
    files = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    index = (out_dir / "index.jsonl").read_text() if (out_dir / "index.jsonl").exists() else ""
    last = (out_dir / "last").read_text() if (out_dir / "last").exists() else None
    return files, index, last


def _one_line(r, code):
    assert r.exit_code == code, r.output
    err = r.stderr.strip()
    assert "\n" not in err and err.startswith("error: ") and "Traceback" not in r.output, r.output
    return err


@pytest.mark.parametrize("kind", BROKEN)
def test_draw_never_saves_garbage(run, srv, out_dir, kind):
    assert run("draw", "a good cat").exit_code == 0    # a real `last` to keep
    before = _state(out_dir)
    srv.fault("generate", kind)
    err = _one_line(run("draw", "a cat"), 1)
    assert "image service" in err
    assert _state(out_dir) == before


@pytest.mark.parametrize("operation", ["edit", "variation"])
@pytest.mark.parametrize("kind", ["notimage", "truncated", "html"])
def test_edit_and_variation_with_a_bad_server_image_exit_1(run, srv, out_dir, tmp_path, operation, kind):
    src = tmp_path / "src.png"
    src.write_bytes(image_bytes("256x256"))
    args = ("edit", str(src), "add a hat", "--region", "top left") if operation == "edit" else \
        ("edit", str(src), "more", "--model", "dall-e-2", "--region", "top")
    if operation == "variation":
        from assistant.config import load_config, with_overrides
        from assistant.images.service import ImageService

        cfg = with_overrides(load_config(), images={"base_url": srv.base_url, "max_retries": 0,
                                                     "output_dir": str(out_dir)})
        srv.fault("variation", kind)
        with pytest.raises(ApiError):
            ImageService(cfg).variation(src)
        assert _state(out_dir)[0] == []
        return
    srv.fault(operation, kind)
    _one_line(run(*args), 1)
    assert _state(out_dir)[0] == []


@pytest.mark.parametrize("status", [s for s in ERROR_STATUSES if s != 401])
def test_draw_error_statuses_are_one_line(run, srv, out_dir, status):
    srv.fault("generate", status)
    _one_line(run("draw", "a cat"), 1)
    assert _state(out_dir)[0] == []


def test_check_image_sizes():
    assert check_image(image_bytes("256x256"), 50_000_000) == (256, 256)
    with pytest.raises(ApiError, match="too small"):
        check_image(image_bytes("1x1"), 50_000_000)
    with pytest.raises(ApiError, match="MP limit"):
        check_image(image_bytes("256x256"), 10_000)
    with pytest.raises(ApiError, match="broken image"):
        check_image(image_bytes("256x256")[:-200], 50_000_000)


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h (grey) and carries one row: enough for Pillow to open it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(w + 1)))
            + chunk(b"IEND", b""))


def _png_zeros(w: int, h: int) -> bytes:
    """A whole w x h grey PNG of zeros, compressed as it is made (small in memory)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    comp = zlib.compressobj(9)
    row = bytes(w + 1)
    body = b"".join(comp.compress(row * 256) for _ in range(h // 256)) + comp.compress(row * (h % 256)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.mark.parametrize("w,h", [(14000, 14000), (8000, 7500)])   # 196 MP (bomb error), 60 MP (warning)
@pytest.mark.parametrize("command", ["edit", "prepare"])
def test_huge_input_is_refused_with_one_line(run, tmp_path, w, h, command):
    big = tmp_path / "big.png"
    big.write_bytes(_png_header_only(w, h) if w * h > 100_000_000 else _png_zeros(w, h))
    args = ("edit", str(big), "add a hat") if command == "edit" else ("prepare", str(big), "--out-dir", str(tmp_path / "o"))
    err = _one_line(run(*args), 2)
    assert "MP limit" in err and "max_megapixels" in err
    assert not (tmp_path / "o").exists()


def test_pixel_limit_is_configurable(run, tmp_path, monkeypatch):
    src = tmp_path / "src.png"
    src.write_bytes(image_bytes("256x256"))
    conf = Path(tmp_path / "config.toml")
    conf.write_text(conf.read_text() + "max_megapixels = 0.05\n")
    err = _one_line(run("prepare", str(src), "--out-dir", str(tmp_path / "o")), 2)
    assert "0.05 MP limit" in err
