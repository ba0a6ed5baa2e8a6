import os
import stat

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
