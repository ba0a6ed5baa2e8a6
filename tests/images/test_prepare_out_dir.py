from click.testing import CliRunner
from PIL import Image

from assistant.cli import main


def test_prepare_creates_the_out_dir_it_is_given(tmp_path):
    Image.new("RGB", (300, 200), "blue").save(tmp_path / "p.jpg")
    out = tmp_path / "new" / "prep"
    result = CliRunner().invoke(main, ["prepare", str(tmp_path / "p.jpg"), "--region", "top left",
                                       "--model", "dall-e-2", "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["p-mask.png", "p-prepared.png"]


def test_prepare_bad_image_leaves_no_out_dir(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    out = tmp_path / "prep"
    result = CliRunner().invoke(main, ["prepare", str(tmp_path / "bad.png"), "--out-dir", str(out)])
    assert result.exit_code == 2 and not out.exists()
