"""Where files live (XDG) and how they are written (atomically, never overwriting unasked)."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import UserError


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "assistant"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "assistant"


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "assistant"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (as the XDG spec asks).

    Directories that already exist are left as they are (``assistant doctor`` warns about loose ones).
    """
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass
        else:
            os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask
    if not path.is_dir():
        raise UserError(f"not a directory: {path}")
    return path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it over ``target`` only if the block succeeds."""
    target = Path(target)
    if not overwrite and target.exists():
        raise UserError(f"{target} exists; not overwriting it")
    if target.parent and not target.parent.exists():
        raise UserError(f"directory does not exist: {target.parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp made it 0600: give the finished file the mode a plain open() would (umask)
        os.chmod(tmp_path, 0o666 & ~_umask())
        if not overwrite:
            # link() fails instead of replacing when a file appeared meanwhile
            try:
                os.link(tmp_path, target)
            except FileExistsError:
                raise UserError(f"{target} exists; not overwriting it") from None
            tmp_path.unlink()
        else:
            os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> Path:
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def unique_path(directory: Path, stem: str, suffix: str) -> Path:
    """``directory/stem.suffix`` or ``stem-2.suffix``, … — the first that does not exist."""
    candidate = directory / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def safe_child(base: Path, name: str) -> Path:
    """``base/name`` for a plain file name; anything that could leave ``base`` is a UserError.

    Rejects empty names, absolute paths, separators, '..', NUL and leading dots (hidden files,
    '.', '..'); the result is checked to resolve inside ``base`` (symlinks included).
    """
    if not isinstance(name, str) or not name or name.strip() != name:
        raise UserError(f"invalid file name: {name!r}")
    if "\0" in name or "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise UserError(f"invalid file name (no paths allowed): {name!r}")
    if name.startswith(".") or os.path.isabs(name):
        raise UserError(f"invalid file name: {name!r}")
    root = Path(base).resolve()
    candidate = (root / name).resolve()
    if candidate.parent != root:
        raise UserError(f"file name leaves its directory: {name!r}")
    return candidate
