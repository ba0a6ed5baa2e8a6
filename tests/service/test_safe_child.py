"""paths.safe_child: names from speech or the command line never leave their directory."""
from __future__ import annotations

import os

import pytest

from assistant.errors import UserError
from assistant.paths import safe_child


@pytest.mark.parametrize("name", [
    "", " ", " x.png", "../x.png", "..", ".", "a/../../x", "/etc/passwd", "sub/x.png",
    "..\\x.png", "x\0.png", ".hidden", ".bashrc", "~/.ssh", "a\\b",
])
def test_rejects_traversal_and_odd_names(tmp_path, name):
    with pytest.raises(UserError):
        safe_child(tmp_path, name)


@pytest.mark.parametrize("name", ["fox.png", "red fox 2.png", "여우.png", "a..b.png", "x~"])
def test_accepts_plain_names(tmp_path, name):
    p = safe_child(tmp_path, name)
    assert p.parent == tmp_path.resolve() and p.name == name


def test_symlink_out_of_base_is_rejected(tmp_path):
    base = tmp_path / "images"
    base.mkdir()
    os.symlink("/etc/passwd", base / "link.png")
    with pytest.raises(UserError):
        safe_child(base, "link.png")


def test_base_given_relative_resolves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert safe_child("out", "a.png") == tmp_path.resolve() / "out" / "a.png"


def test_ensure_private_dir_creates_every_missing_level_0700(tmp_path):
    import stat

    from assistant.paths import ensure_private_dir

    old = os.umask(0o022)
    try:
        leaf = ensure_private_dir(tmp_path / "share" / "assistant" / "images")
    finally:
        os.umask(old)
    for p in (tmp_path / "share", tmp_path / "share" / "assistant", leaf):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
    # an existing directory is left alone
    (tmp_path / "open").mkdir(mode=0o755)
    os.chmod(tmp_path / "open", 0o755)
    ensure_private_dir(tmp_path / "open")
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o755
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError):
        ensure_private_dir(tmp_path / "file")
