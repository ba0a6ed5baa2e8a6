"""Where images go: YYYYmmdd-HHMMSS-<slug>.<ext> under images.output_dir, written atomically and
never over an existing file; metadata as PNG text chunks and a line in ``index.jsonl``; a small
file ``last`` holding the newest image's name (or absolute path when saved elsewhere).
"""
from __future__ import annotations

import json
import os
import re
import struct
import time
import unicodedata
import zlib
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import UserError
from ..paths import PRIVATE, PUBLISHED, append_bytes, atomic_path, atomic_write_bytes, data_dir, ensure_private_dir

INDEX = "index.jsonl"
LAST = "last"
SLUG_MAX = 40
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
TEXT_KEYS = ("prompt", "revised_prompt", "model", "size", "quality", "style", "kind", "source")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def output_dir(cfg: Config) -> Path:
    """images.output_dir (``~`` expanded) or $XDG_DATA_HOME/assistant/images, created 0700."""
    raw = cfg.images.output_dir
    if raw:
        return ensure_private_dir(Path(os.path.expanduser(raw)))
    return ensure_private_dir(ensure_private_dir(data_dir()) / "images")


def slugify(prompt: str, limit: int = SLUG_MAX) -> str:
    """A file-name-safe slug: letters and digits (any script) joined by '-', at most ``limit``."""
    text = unicodedata.normalize("NFKC", prompt or "").lower()
    words = re.findall(r"[^\W_]+", text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            if not slug:
                slug = word[:limit]
            break
        slug = candidate
    return slug or "image"


def stamp(now: float | None = None) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))


# ------------------------------------------------------------------------------ PNG text
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def add_png_text(png: bytes, texts: dict[str, str]) -> bytes:
    """Insert UTF-8 iTXt chunks before IEND without re-encoding the pixels."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    end = png.rfind(b"IEND")
    if end < 4:
        raise ValueError("PNG without IEND")
    chunks = b"".join(
        _chunk(b"iTXt", key.encode("latin-1")[:79] + b"\0\0\0\0\0" + value.encode("utf-8"))
        for key, value in texts.items() if value
    )
    cut = end - 4  # the IEND chunk's length field
    return png[:cut] + chunks + png[cut:]


def read_png_text(path: Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        return {k: v for k, v in (getattr(img, "text", None) or {}).items()}


# ------------------------------------------------------------------------------ saving
def target_paths(cfg: Config, prompt: str, count: int, fmt: str, out: str | os.PathLike[str] | None,
                 now: float | None = None) -> list[Path]:
    """Where ``count`` new images go. ``out``: a directory (existing, or ending in '/') or a file
    name (with n > 1: name-1.ext, name-2.ext, …). Nothing existing is ever chosen."""
    ext = EXTENSIONS.get(fmt, ".png")
    if out is not None and str(out) != "":
        out_path = Path(os.path.expanduser(str(out)))
        if out_path.is_dir() or str(out).endswith(("/", os.sep)):
            directory = ensure_private_dir(out_path)
        else:
            if not out_path.parent.is_dir():
                raise UserError(f"directory does not exist: {out_path.parent}")
            suffix = out_path.suffix or ext
            names = [out_path.with_suffix(suffix)] if count == 1 else [
                out_path.with_name(f"{out_path.stem}-{i}{suffix}") for i in range(1, count + 1)]
            for p in names:
                if os.path.lexists(p):
                    raise UserError(f"{p} exists; not overwriting it")
            return names
    else:
        directory = output_dir(cfg)
    base = f"{stamp(now)}-{slugify(prompt)}"
    chosen: list[Path] = []
    for i in range(count):
        stem = base if count == 1 else f"{base}-{i + 1}"
        candidate, n = directory / f"{stem}{ext}", 2
        while os.path.lexists(candidate) or candidate in chosen:
            candidate, n = directory / f"{stem}-{n}{ext}", n + 1
        chosen.append(candidate)
    return chosen


def save_image(target: Path, data: bytes, meta: dict[str, Any]) -> Path:
    """Write ``data`` atomically to ``target`` (never over an existing file); PNGs get ``meta``
    as text chunks. Another process winning the name -> the next free ``-N`` name."""
    if data.startswith(PNG_SIGNATURE):
        texts = {k: str(meta[k]) for k in TEXT_KEYS if meta.get(k)}
        texts["Software"] = "assistant"
        data = add_png_text(data, texts)
    path, n = target, 2
    while True:
        try:
            atomic_write_bytes(path, data, overwrite=False, mode=PUBLISHED)
            return path
        except UserError:
            if not os.path.lexists(path):  # a dangling symlink holds a name too
                raise
            path, n = target.with_name(f"{target.stem}-{n}{target.suffix}"), n + 1


def record(cfg: Config, path: Path, meta: dict[str, Any]) -> None:
    """Append a line to index.jsonl (an edit's ``parent`` too) and point ``last`` at ``path`` (atomically)."""
    directory = output_dir(cfg)
    entry = {"file": _name_for(directory, path), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **meta}
    if meta.get("source"):  # an edit or variation: its parent, named as the index names files
        entry["parent"] = _name_for(directory, Path(meta["source"]))
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    # one write with O_APPEND: lines never interleave; never through a planted symlink
    append_bytes(directory / INDEX, line.encode("utf-8"), PRIVATE)  # UserError (symlink) / WriteError
    with atomic_path(directory / LAST, mode=PRIVATE) as tmp:
        tmp.write_text(_name_for(directory, path) + "\n", "utf-8")


def _name_for(directory: Path, path: Path) -> str:
    path = Path(path).resolve()
    return path.name if path.parent == directory.resolve() else str(path)


def last_image(cfg: Config) -> Path | None:
    """The newest saved image (what ``last`` names), or None when there is none."""
    raw = cfg.images.output_dir
    directory = Path(os.path.expanduser(raw)) if raw else data_dir() / "images"
    try:
        name = (directory / LAST).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name:
        return None
    path = Path(name) if os.path.isabs(name) else directory / name
    if not os.path.isabs(name) and ("/" in name or name.startswith(".")):
        return None  # a hand-edited `last` must not point outside the directory by a relative path
    return path if path.is_file() else None


def _recorded_last(cfg: Config) -> str:
    """The name the `last` file holds when it is a plain name or an absolute path ("" otherwise)."""
    raw = cfg.images.output_dir
    try:
        name = ((Path(os.path.expanduser(raw)) if raw else data_dir() / "images") / LAST).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return name if os.path.isabs(name) or not ("/" in name or name.startswith(".")) else ""


def resolve_image(cfg: Config, image: str | os.PathLike[str]) -> Path:
    """``last`` -> the newest image; else the path, which must be an existing file."""
    if str(image) == "last":
        found = last_image(cfg)
        if found is None:
            gone = _recorded_last(cfg)
            if gone:
                raise UserError(f"no last image: {gone} is gone (moved or deleted); give a file or draw a new one")
            raise UserError("there is no last image yet; draw one first or give a file")
        return found
    return existing_file(image)


def existing_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    path = Path(os.path.expanduser(str(path)))
    if not path.exists():
        raise UserError(f"no such {what}: {path}")
    if not path.is_file():
        raise UserError(f"{what} is not a regular file: {path}")
    return path


def read_bytes(path: Path, what: str = "image", limit: int = 200 * 1024 * 1024) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise UserError(f"{what} {path} is too large ({size / 1048576:.0f} MB)")
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
