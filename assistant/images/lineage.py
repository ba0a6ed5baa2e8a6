"""The pictures so far, from ``index.jsonl``: which one came from which (``parent``), the one
before, and moving ``last`` back ("undo", "use the one before"). Files are never deleted."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..paths import atomic_path, data_dir
from . import store


@dataclass(frozen=True)
class Entry:
    path: Path
    prompt: str = ""
    kind: str = "draw"
    parent: Path | None = None


def entries(cfg: Config) -> list[Entry]:
    """index.jsonl's pictures, oldest first, only those whose files still exist."""
    directory = _directory(cfg)
    try:
        lines = (directory / store.INDEX).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out: list[Entry] = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("file"), str):
            continue
        path = _path(directory, row["file"])
        if path is None or not path.is_file():
            continue
        parent = _path(directory, row["parent"]) if isinstance(row.get("parent"), str) else None
        out.append(Entry(path, str(row.get("prompt") or ""), str(row.get("kind") or "draw"), parent))
    return out


def current(cfg: Config) -> Entry | None:
    last = store.last_image(cfg)
    if last is None:
        return None
    for entry in reversed(entries(cfg)):
        if entry.path == last:
            return entry
    return Entry(last)


def before(cfg: Config) -> Entry | None:
    """The picture made before the current one ("use the one before")."""
    last = store.last_image(cfg)
    pictures = entries(cfg)
    index = next((i for i in range(len(pictures) - 1, -1, -1) if pictures[i].path == last), None)
    if index is None:
        return pictures[-1] if pictures and last is None else None
    return next((p for p in reversed(pictures[:index]) if p.path != last), None)


def undo_target(cfg: Config) -> Entry | None:
    """What "undo" goes back to: the current picture's parent when it was an edit or a variation
    and its file still exists, else the picture before it."""
    now = current(cfg)
    if now is not None and now.parent is not None and now.parent.is_file():
        for entry in reversed(entries(cfg)):
            if entry.path == now.parent:
                return entry
        return Entry(now.parent)
    return before(cfg)


def point_last(cfg: Config, path: Path) -> None:
    """Make ``path`` the picture that "last" (and the next edit) means."""
    directory = store.output_dir(cfg)
    with atomic_path(directory / store.LAST) as tmp:
        tmp.write_text(store._name_for(directory, path) + "\n", "utf-8")


def _directory(cfg: Config) -> Path:
    raw = cfg.images.output_dir
    return Path(os.path.expanduser(raw)) if raw else data_dir() / "images"


def _path(directory: Path, name: str) -> Path | None:
    if os.path.isabs(name):
        return Path(name)
    if "/" in name or name.startswith("."):
        return None
    return directory / name
