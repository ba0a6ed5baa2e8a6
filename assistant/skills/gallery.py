"""The pictures so far, by voice: "undo", "show me the last picture", "use the one before".

Moves what "last" means (the next edit's input) through images/lineage.py; nothing is deleted.
"""
from __future__ import annotations

from ..config import Config
from ..images import lineage
from .messages import message


def handle(cfg: Config, kind: str, language: str) -> tuple[str, str, str | None]:
    """(reply, failure reason or "", the picture's path to show or None)."""
    if kind == "show_image":
        entry = lineage.current(cfg)
        if entry is None:
            return message("no_image_yet", language), "no image yet", None
        return message("image_last", language, subject=_subject(entry, language), file=entry.path.name), "", str(entry.path)
    if lineage.current(cfg) is None:
        return message("no_image_yet", language), "no image yet", None
    entry = lineage.undo_target(cfg) if kind == "undo" else lineage.before(cfg)
    if entry is None:
        return message("image_nothing_before", language), "no earlier picture", None
    lineage.point_last(cfg, entry.path)
    key = "image_undone" if kind == "undo" else "image_previous"
    return message(key, language, subject=_subject(entry, language)), "", str(entry.path)


def _subject(entry: lineage.Entry, language: str) -> str:
    return entry.prompt or entry.path.stem
