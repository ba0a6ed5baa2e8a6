"""Keep libmpg123's own chatter off our stderr while an MP3 is decoded.

libsndfile decodes MP3 through libmpg123, which prints "Note: Illegal Audio-MPEG-Header …",
"Warning: Xing stream size off …" and "[src/libmpg123/…] error: …" straight to file
descriptor 2 for a damaged file, beside our one line. There is no switch for it through
libsndfile, so while an MP3 is being decoded fd 2 is a pipe: a thread passes every line on to
the real stderr except libmpg123's. Our own log lines (any thread's) are kept, in order.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import BinaryIO, Iterator

_NATIVE = re.compile(rb"^(Note|Warning|Error): |^\[src/libmpg123/|^\[[^\]]*mpg123[^\]]*\]")
_lock = threading.Lock()
_users = 0
_saved_fd: int | None = None
_thread: threading.Thread | None = None


def is_mpeg(head: bytes) -> bool:
    """An ID3 tag or an MPEG audio frame sync at the start."""
    return head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def sniff(source: str | os.PathLike[str] | bytes | BinaryIO) -> bytes:
    """The first bytes of a path or a seekable stream (b"" when they cannot be read)."""
    try:
        if hasattr(source, "read"):
            pos = source.tell()
            head = source.read(4)
            source.seek(pos)
            return head
        with open(source, "rb") as f:
            return f.read(4)
    except (OSError, ValueError):
        return b""


def _pump(read_fd: int, out_fd: int) -> None:
    rest = b""
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            kept = b"".join(line + b"\n" for line in lines if not _NATIVE.match(line))
            if kept:
                os.write(out_fd, kept)
    if rest and not _NATIVE.match(rest):
        os.write(out_fd, rest)


def _flush_python() -> None:
    for stream in (sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()


@contextlib.contextmanager
def without_mpg123_noise(active: bool = True) -> Iterator[None]:
    """While inside, libmpg123's lines on fd 2 are dropped (nested and threaded uses share one pipe)."""
    global _users
    if active:
        active = _enter()
    try:
        yield
    finally:
        if active:
            _leave()


def _enter() -> bool:
    global _users, _saved_fd, _thread
    with _lock:
        if _users == 0:
            try:
                _flush_python()
                saved = os.dup(2)
                read_fd, write_fd = os.pipe()
                os.dup2(write_fd, 2)
                os.close(write_fd)
            except OSError:  # no fd 2, or no descriptors left: decode with the noise
                return False
            _saved_fd = saved
            _thread = threading.Thread(target=_pump, args=(read_fd, saved), name="stderr filter", daemon=True)
            _thread.start()
        _users += 1
        return True


def _leave() -> None:
    global _users, _saved_fd, _thread
    with _lock:
        _users -= 1
        if _users or _saved_fd is None:
            return
        _flush_python()
        os.dup2(_saved_fd, 2)  # the pipe's last writer is gone: the pump drains and ends
        if _thread is not None:
            _thread.join(2.0)
            if not _thread.is_alive():  # (a child that inherited the pipe keeps it open: leave it be)
                os.close(_saved_fd)
        _saved_fd, _thread = None, None
