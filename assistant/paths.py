"""Where files live (XDG) and how they are written (atomically, never overwriting unasked)."""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import AssistantError, UserError


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "assistant"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "assistant"


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "assistant"


_REASONS = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded", errno.EROFS: "read-only file system",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.ELOOP: "refusing to write through a symbolic link", errno.EIO: "input/output error",
            errno.ENOTDIR: "a file is in the way of a directory"}


def describe_write_error(exc: BaseException) -> str:
    """A short reason for a failed write, fit to be said aloud: "disk full", "read-only file system"."""
    for e in (exc, exc.__cause__):
        if isinstance(e, OSError) and e.errno in _REASONS:
            return _REASONS[e.errno]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class WriteError(AssistantError, OSError):
    """Writing a file failed (disk full, read-only, ...): one line naming the file, exit 1.
    Still an OSError with its errno, so callers that handle OSError keep working."""

    exit_code = 1

    def __init__(self, path: str | os.PathLike[str], exc: OSError):
        OSError.__init__(self, exc.errno, exc.strerror or str(exc), str(path))
        self.message = f"cannot write {path}: {describe_write_error(exc)}"

    def __str__(self) -> str:
        return self.message


def missing_dirs(path: Path) -> list[Path]:
    """``path`` and its parents that do not exist yet, outermost first."""
    missing = []
    p = Path(path)
    while not os.path.lexists(p) and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing[::-1]


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
        except OSError as exc:  # read-only, no space, no permission, a file in the way
            raise WriteError(d, exc) from exc
        else:
            os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask
    if not path.is_dir():
        raise UserError(f"not a directory: {path}")
    return path


PRIVATE = 0o600  # history, recordings, replies, indexes: only the owner reads them
PUBLISHED = 0o644  # saved images: the one thing meant to be shown around


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, overwrite: bool = True, mode: int | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it over ``target`` only if the block succeeds.

    The data is fsynced before the rename and the directory after it, so a crash leaves the old
    file or the new one, never an empty one. ``mode``: None = what a plain open() would give
    (the umask; files the user named), ``PRIVATE`` or ``PUBLISHED``. The temp file is made with
    O_EXCL and renames never follow a symlink planted at ``target``.
    """
    target = Path(target)
    if not overwrite and os.path.lexists(target):
        raise UserError(f"{target} exists; not overwriting it")
    _only_files_replaced(target)
    if target.parent and not target.parent.exists():
        raise UserError(f"directory does not exist: {target.parent}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise WriteError(target, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            _sync_file(tmp_path, 0o666 & ~_umask() if mode is None else mode)
            if not overwrite:
                # link() fails instead of replacing when a file (or symlink) appeared meanwhile
                try:
                    os.link(tmp_path, target, follow_symlinks=False)
                except FileExistsError:
                    raise UserError(f"{target} exists; not overwriting it") from None
                tmp_path.unlink()
            else:
                _only_files_replaced(target)  # (again: it may have changed while we wrote)
                os.replace(tmp_path, target)
        except WriteError:
            raise
        except OSError as exc:  # ENOSPC, EROFS, EDQUOT... while writing, syncing or renaming
            raise WriteError(target, exc) from exc
        sync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _only_files_replaced(target: Path) -> None:
    """A rename would put a file where a device, FIFO or socket was (as root, ``--out /dev/full
    --force`` replaced the device node): only a file, or a symlink itself, is ever replaced."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WriteError(target, exc) from exc
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise UserError(f"{target} is {kind}, not a file; not replacing it")


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def _sync_file(path: Path, mode: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(fd, mode)  # mkstemp made it 0600
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_dir(directory: Path) -> None:
    """fsync a directory so a rename in it survives a crash (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class NotRegularFileError(OSError):
    """What ``read_regular_file`` refuses: a directory, a FIFO, a device, a socket."""

    def __init__(self, is_dir: bool):
        super().__init__("a directory" if is_dir else "not a regular file")
        self.is_dir = is_dir


def read_regular_file(path: str | os.PathLike[str], limit: int | None = None, *,
                      null_is_empty: bool = False) -> bytes:
    """The bytes of a regular file (with ``limit``, at most ``limit`` + 1 of them), opened without
    blocking: a FIFO planted there would hang the reader, a device would never end.
    ``null_is_empty``: /dev/null reads as empty. OSError (FileNotFoundError, NotRegularFileError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if null_is_empty and os.path.exists(os.devnull) and os.path.samestat(st, os.stat(os.devnull)):
            return b""
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(stat.S_ISDIR(st.st_mode))
        if limit is not None:
            return os.read(fd, limit + 1)
        with open(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def append_bytes(path: str | os.PathLike[str], data: bytes, mode: int = PRIVATE) -> None:
    """Append ``data`` to a regular file (created ``mode``), never through a symlink, never to a
    FIFO or device; all or nothing: a write that fails half-way (disk full) is cut back, so a
    JSON-lines file never ends in a torn line. OSError / UserError on failure."""
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        kind = os.lstat(path).st_mode
        if stat.S_ISLNK(kind):
            raise UserError(f"{path} is a symbolic link; not writing through it")
        if not stat.S_ISREG(kind):
            raise UserError(f"{path} is not a regular file; not appending to it")
    # O_NOFOLLOW closes the race with a symlink planted meanwhile; O_NONBLOCK keeps a FIFO
    # planted meanwhile from hanging us (it is refused below)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(f"{path} is a symbolic link; not writing through it") from None
        raise WriteError(path, exc) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{path} is not a regular file; not appending to it")
        view = memoryview(data)
        try:
            while view:
                view = view[_write(fd, view):]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, st.st_size)
            raise WriteError(path, exc) from exc
    finally:
        os.close(fd)


_write = os.write  # the one place appended bytes hit the disk (tests inject ENOSPC/EROFS here)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, *, overwrite: bool = True,
                       mode: int | None = None) -> Path:
    with atomic_path(target, overwrite=overwrite, mode=mode) as tmp:
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
