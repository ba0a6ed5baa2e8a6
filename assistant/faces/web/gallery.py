"""The image store as the page sees it: ``index.jsonl`` records -> gallery items, newest first.

An item's id is its file name in the store directory; images saved elsewhere (``--out``) are
listed without a URL, since only files in the store are served. An edit names its original (by id
when that is in the store too) and, for a spoken region, the region's box as fractions of the
image so the page can overlay it.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from ...config import Config
from ...paths import data_dir, read_regular_file

MAX_ITEMS = 500
GRID = 12  # region edges are multiples of 1/12 (images.regions)
_SAFE_NAME = re.compile(r"^[^/\\\x00]+\.(png|jpg|jpeg|webp)$", re.IGNORECASE)
TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def store_dir(cfg: Config) -> Path:
    """images.output_dir or the default store (not created: a missing store is an empty gallery)."""
    raw = cfg.images.output_dir
    return Path(os.path.expanduser(raw)) if raw else data_dir() / "images"


def _store_id(directory: Path, name: str) -> str | None:
    """The id of a file named in the index (a plain name, or an absolute path into the store)."""
    if not name:
        return None
    if os.path.isabs(name):
        path = Path(name)
        if path.parent.resolve() != directory.resolve():
            return None
        name = path.name
    if "/" in name or name.startswith(".") or not _SAFE_NAME.match(name):
        return None
    return name


def region_overlay(region: str | None) -> dict[str, Any] | None:
    """{"region", "boxes": [[x0, y0, x1, y1], ...] as fractions} covering the edited area of a
    region name or expression ("top-left", "all~top-left", "left+right-third"); None if unknown.
    Region edges fall on a 12 x 12 grid, so the mask drawn at 12 x 12 pixels is exact."""
    if not region:
        return None
    from ...images.regions import region_mask

    try:
        mask = region_mask(region, (GRID, GRID))
    except Exception:  # noqa: BLE001 - an unknown name in a hand-edited index
        return None
    pixels = mask.load()
    runs: list[list[int]] = []  # [x0, y0, x1, y1] in cells; a run grows downwards while rows repeat
    open_runs: dict[tuple[int, int], list[int]] = {}
    for y in range(GRID):
        row: dict[tuple[int, int], list[int]] = {}
        x = 0
        while x < GRID:
            if pixels[x, y] >= 128:
                x1 = x
                while x1 < GRID and pixels[x1, y] >= 128:
                    x1 += 1
                run = open_runs.get((x, x1))
                if run is not None and run[3] == y:
                    run[3] = y + 1
                else:
                    run = [x, y, x1, y + 1]
                    runs.append(run)
                row[(x, x1)] = run
                x = x1
            else:
                x += 1
        open_runs = row
    if not runs:
        return None
    return {"region": region, "boxes": [[round(v / GRID, 4) for v in run] for run in runs]}


def item(directory: Path, record: dict[str, Any]) -> dict[str, Any] | None:
    """One index record -> a gallery item (None for a line that is not an image record)."""
    name = record.get("file")
    if not isinstance(name, str) or not name:
        return None
    image_id = _store_id(directory, name)
    source = record.get("source")
    source_id = _store_id(directory, source) if isinstance(source, str) else None
    out = {
        "id": image_id or name,
        "url": f"/api/images/{image_id}" if image_id else None,
        "prompt": _text(record.get("prompt")),
        "revised_prompt": _text(record.get("revised_prompt")),
        "model": _text(record.get("model")),
        "size": _text(record.get("size")),
        "quality": _text(record.get("quality")),
        "kind": _text(record.get("kind")) or "draw",
        "time": _text(record.get("time")),
        "source": source_id,
        "source_url": f"/api/images/{source_id}" if source_id else None,
        "mask": region_overlay(record.get("region") if isinstance(record.get("region"), str) else None),
    }
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def read_index(directory: Path, limit: int = MAX_ITEMS) -> list[dict[str, Any]]:
    """The newest ``limit`` gallery items (a torn or foreign line is skipped)."""
    try:  # non-blocking, regular files only: a FIFO planted as the index held a worker thread for ever
        text = read_regular_file(directory / "index.jsonl").decode("utf-8", errors="replace")
    except OSError:
        return []
    items: list[dict[str, Any]] = []
    for line in reversed(text.splitlines()):
        if len(items) >= limit:
            break
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and (entry := item(directory, record)) is not None:
            items.append(entry)
    return items


def find(directory: Path, image_id: str) -> dict[str, Any] | None:
    """The gallery item with this id (the newest record for the file)."""
    for entry in read_index(directory, limit=10**6):
        if entry["id"] == image_id and entry["url"]:
            return entry
    return None


def image_file(directory: Path, image_id: str) -> Path | None:
    """The file to serve for ``image_id``: a regular file (not a link) directly in the store that
    the index names; None otherwise (a traversal attempt is simply not found)."""
    if _store_id(directory, image_id) != image_id or find(directory, image_id) is None:
        return None
    return regular_file(directory, image_id)


def regular_file(directory: Path, name: str) -> Path | None:
    """``directory/name`` when it is a regular file there (no links, no subdirectories)."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        return None
    path = directory / name
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return path
