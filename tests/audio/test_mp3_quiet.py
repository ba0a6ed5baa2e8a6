"""A broken MP3: our one line on stderr, not libmpg123's own "Note: Illegal Audio-MPEG-Header",
"Warning: Xing stream size off" and "[src/libmpg123/parse.c…] error" lines beside it."""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.audio.quiet import is_mpeg, without_mpg123_noise

REPO = Path(__file__).resolve().parents[2]


def broken_mp3(path: Path) -> Path:
    buf = io.BytesIO()
    sf.write(buf, (np.sin(np.arange(32000) / 5) * 8000).astype(np.int16), 16000, format="MP3")
    data = buf.getvalue()
    path.write_bytes(data[:400] + bytes(range(256)) * 20 + data[2000:3000])  # garbage mid-stream
    return path


def test_a_broken_mp3_is_one_line_on_stderr(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    bad = broken_mp3(tmp_path / "broken.mp3")
    for args, stdin in ((["listen", "--input", str(bad)], None), (["listen", "--input", "-"], bad.read_bytes())):
        run = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=REPO, input=stdin, capture_output=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        lines = run.stderr.decode("utf-8", "replace").strip().splitlines()
        assert run.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines


def test_the_filter_keeps_our_lines_and_drops_only_libmpg123s(capfd):
    log = logging.getLogger("assistant.test")
    with without_mpg123_noise():
        os.write(2, b"Note: Illegal Audio-MPEG-Header 0xf8f9fafb at offset 648.\n")
        os.write(2, b"ours before\n[src/libmpg123/parse.c:wetwork():1349] error: Giving up resync\n")
        with without_mpg123_noise():  # nested (two decodes at once) shares the one pipe
            os.write(2, b"Warning: Xing stream size off by more than 1%\nours during\n")
        os.write(2, b"ours after, no newline")
    os.write(2, b"\nNote: after the window, kept\n")
    log.debug("unused")
    err = capfd.readouterr().err
    assert err == "ours before\nours during\nours after, no newline\nNote: after the window, kept\n", err
    assert is_mpeg(b"ID3\x04") and is_mpeg(b"\xff\xfb\x90\x00") and not is_mpeg(b"RIFF") and not is_mpeg(b"")
