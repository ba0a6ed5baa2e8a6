import os
import stat
from pathlib import Path

import pytest

from assistant.errors import UserError
from assistant.paths import atomic_path, atomic_write_bytes


def test_atomic_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        target = atomic_write_bytes(tmp_path / "out.wav", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_atomic_path_leaves_nothing_on_failure_and_never_clobbers(tmp_path):
    target = tmp_path / "keep.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    target.write_text("mine")
    with pytest.raises(UserError):
        atomic_write_bytes(target, b"new", overwrite=False)
    assert target.read_text() == "mine" and len(list(tmp_path.iterdir())) == 1


# ------------------------------------------------------------------ secure files (issue 17 #6)
import errno  # noqa: E402

from assistant import paths  # noqa: E402
from assistant.paths import PRIVATE, PUBLISHED, append_bytes, ensure_private_dir  # noqa: E402


def test_fsync_before_rename_and_dir_after(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode))), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(("rename", None)), real_replace(a, b))[1])
    atomic_write_bytes(tmp_path / "f.bin", b"data")
    assert calls == [("fsync", False), ("rename", None), ("fsync", True)]


@pytest.mark.parametrize("mode", [PRIVATE, PUBLISHED])
def test_atomic_modes(tmp_path, mode):
    old = os.umask(0o077)
    try:
        target = atomic_write_bytes(tmp_path / "f", b"x", mode=mode)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_atomic_never_writes_through_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "out.wav"
    link.symlink_to(victim)
    with pytest.raises(UserError):
        atomic_write_bytes(link, b"new", overwrite=False)
    atomic_write_bytes(link, b"new", overwrite=True)  # replaces the link itself
    assert victim.read_text() == "precious" and not link.is_symlink() and link.read_bytes() == b"new"


def test_append_refuses_symlinks_fifos_and_devices_with_one_line(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "index.jsonl").symlink_to(victim)
    with pytest.raises(UserError) as err:
        append_bytes(tmp_path / "index.jsonl", b"{}\n")
    assert "symbolic link" in str(err.value) and victim.read_text() == "precious\n"
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UserError, match="not a regular file"):
        append_bytes(tmp_path / "fifo", b"{}\n")  # and it does not hang
    with pytest.raises(UserError, match="not a regular file"):
        append_bytes(Path("/dev/null"), b"{}\n")


def test_append_is_private_and_whole_on_enospc(tmp_path, monkeypatch):
    target = tmp_path / "h.jsonl"
    append_bytes(target, b'{"a": 1}\n')
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    real = os.write

    def half(fd, data):
        real(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(paths, "_write", half)
    with pytest.raises(OSError):
        append_bytes(target, b'{"b": 2}\n')
    assert target.read_bytes() == b'{"a": 1}\n'


def test_private_dirs_are_0700_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        d = ensure_private_dir(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old)
    for p in (d, d.parent, d.parent.parent):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700


def test_run_output_dir_and_prepare_out_dir_are_created_0700(tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from assistant.cli import main
    from assistant.cli.run import _prepare_output_dir

    out = _prepare_output_dir(tmp_path / "run-out" / "nested", force=False)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    img = tmp_path / "in.png"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(img)
    result = CliRunner().invoke(main, ["prepare", str(img), "--out-dir", str(tmp_path / "prep")])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "prep").stat().st_mode) == 0o700


@pytest.mark.parametrize("where", ["mkstemp", "write", "rename", "mkdir"])
def test_a_failed_write_is_one_clear_line_and_still_an_oserror(tmp_path, monkeypatch, where):
    def enospc(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / ("new-dir/x.txt" if where == "mkdir" else "x.txt")
    if where == "mkstemp":
        monkeypatch.setattr(paths.tempfile, "mkstemp", enospc)
    elif where == "write":
        monkeypatch.setattr(paths, "_sync_file", enospc)
    elif where == "rename":
        monkeypatch.setattr(paths.os, "replace", enospc)
    else:
        monkeypatch.setattr(Path, "mkdir", enospc)
    with pytest.raises(OSError) as err:
        if where == "mkdir":
            ensure_private_dir(out.parent)
        else:
            atomic_write_bytes(out, b"x")
    assert isinstance(err.value, paths.WriteError) and err.value.errno == errno.ENOSPC
    assert str(err.value).endswith(": disk full") and "\n" not in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing half-written left behind
    if where == "rename":  # the CLI turns it into one line and exit 1 (the input was fine)
        assert err.value.exit_code == 1


def test_a_device_fifo_or_socket_is_never_replaced_even_when_asked(tmp_path):
    """As root, `say --out /dev/full --format wav --force` renamed a file over the device node
    (found by the hostile acceptance run; /dev/full had to be re-made with mknod)."""
    import socket

    fifo = tmp_path / "f.wav"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.wav"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        for target, kind in ((fifo, "a named pipe"), (sock_path, "a socket")):
            with pytest.raises(UserError, match=f"is {kind}, not a file; not replacing it"):
                atomic_write_bytes(target, b"data", overwrite=True)
        fifo2 = tmp_path / "g.wav"  # one that appears while the data is being written
        with pytest.raises(UserError, match="named pipe"):
            with atomic_path(fifo2, overwrite=True) as tmp:
                tmp.write_bytes(b"data")
                os.mkfifo(fifo2)
    finally:
        sock.close()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "g.wav").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.wav", "g.wav", "s.wav"]  # no temp left


@pytest.mark.parametrize("command", [["say", "hello", "--backend", "local", "--no-play"], ["ask", "hello", "--no-play"],
                                     ["record", "1"], ["transcribe", "x.wav"]])
def test_out_with_a_trailing_slash_names_a_directory_and_is_refused(tmp_path, command):
    """`say --out x.wav/` wrote a file called x.wav (Path() drops the slash)."""
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "x.wav") + "/"])
    assert result.exit_code == 2 and "ends in '/'" in result.output
    assert list(tmp_path.iterdir()) == []
