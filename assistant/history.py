"""Turn history (JSON lines) and latency statistics over it."""
from __future__ import annotations

import contextlib
import glob
import json
import logging
import math
import os
import statistics
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import UserError
from .paths import (PRIVATE, NotRegularFileError, append_bytes, describe_write_error, ensure_private_dir,
                    read_regular_file, state_dir)
from .secrets import redact

log = logging.getLogger(__name__)

# Stages measured per turn, each as (name, from-mark, to-mark); marks are monotonic seconds.
STAGES = (
    ("stt", "emitted", "transcribed"),
    ("route", "transcribed", "routed"),
    ("reply_first_audio", "routed", "first_audio"),
    ("overhead_to_first_audio", "emitted", "first_audio"),
)


def default_history_path(configured: str = "") -> Path:
    return Path(os.path.expanduser(configured)) if configured else state_dir() / "history.jsonl"


@dataclass
class Turn:
    """One utterance's life: what was heard, decided, done, and when (monotonic marks)."""

    id: int
    start: float  # stream seconds
    end: float
    hangover: float
    marks: dict[str, float] = field(default_factory=dict)
    text: str = ""
    language: str = ""
    intent: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    result: str = "pending"  # done | failed | ignored | pending
    reason: str = ""
    files: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def mark(self, name: str, when: float) -> None:
        self.marks.setdefault(name, when)

    def timings(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, a, b in STAGES:
            if a in self.marks and b in self.marks:
                out[name] = round(self.marks[b] - self.marks[a], 4)
        if "overhead_to_first_audio" in out:
            out["eos_to_first_audio"] = round(self.hangover + out["overhead_to_first_audio"], 4)
        return out

    def record(self, wall_time: float) -> dict[str, Any]:
        return {
            "time": round(wall_time, 3),
            "turn": self.id,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "language": self.language,
            "intent": self.intent,
            "slots": self.slots,
            "result": self.result,
            "reason": self.reason,
            "files": self.files,
            "replies": self.replies,
            "timings": self.timings(),
        }


MB = 2**20
BUFFER_LIMIT = 2000  # records kept in memory while the disk refuses them (oldest dropped beyond)


class HistoryWriter:
    """Appends one JSON object per line to each target; thread-safe; secrets redacted.

    ``write`` never raises. When a target refuses (disk full, read-only, permissions, a planted
    symlink), its lines wait in a bounded in-memory buffer, ``on_error(exc)`` is called once for
    the episode, and the buffer is flushed (in order) by the next write that succeeds (or
    ``flush()``), when ``on_recover()`` is called. A write that fails half-way is truncated back,
    so lines stay whole. Each target is rotated past ``max_bytes`` (``path.1`` .. ``path.keep``).
    """

    def __init__(self, paths: Iterable[Path], *, max_bytes: int = 10 * MB, keep: int = 3,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_recover: Callable[[], None] | None = None, buffer_limit: int = BUFFER_LIMIT):
        self.paths = [Path(p) for p in paths]
        self.max_bytes = max(0, int(max_bytes))
        self.keep = max(1, int(keep))
        self.on_error = on_error
        self.on_recover = on_recover
        self._lock = threading.Lock()
        self._pending: dict[Path, deque[str]] = {p: deque(maxlen=max(1, buffer_limit)) for p in self.paths}
        self.dropped = 0  # records lost because the buffer was full
        self.failing: BaseException | None = None  # the error of the current episode
        for p in self.paths:
            try:
                ensure_private_dir(p.parent)
            except (OSError, UserError):
                pass  # reported by the first write

    @property
    def buffered(self) -> int:
        return max((len(q) for q in self._pending.values()), default=0)

    def write(self, record: dict[str, Any]) -> None:
        try:
            line = redact(json.dumps(record, ensure_ascii=False, default=str)) + "\n"
        except (TypeError, ValueError) as exc:  # a record that cannot be JSON: say so, keep going
            log.warning("history record dropped: %s", exc)
            return
        with self._lock:
            for p in self.paths:
                queue = self._pending[p]
                if len(queue) == queue.maxlen:
                    self.dropped += 1
                queue.append(line)
            self._flush_locked()

    def flush(self) -> bool:
        """Try to write what is buffered; True when nothing is left."""
        with self._lock:
            return self._flush_locked()

    def _flush_locked(self) -> bool:
        error: BaseException | None = None
        for p in self.paths:
            queue = self._pending[p]
            if not queue:
                continue
            try:
                self._append(p, "".join(queue).encode("utf-8"))
                queue.clear()
            except (OSError, UserError) as exc:
                error = error or exc
        if error is not None:
            if self.failing is None:
                self.failing = error
                log.warning("history: %s (%s); keeping up to %d turns in memory until it can be written",
                            error, describe_write_error(error), BUFFER_LIMIT)
                self._call(self.on_error, error)
            return False
        if self.failing is not None:
            self.failing = None
            log.warning("history written again%s",
                        f" ({self.dropped} turns were lost while it could not be)" if self.dropped else "")
            self._call(self.on_recover)
        return True

    @staticmethod
    def _call(fn: Callable[..., None] | None, *args: Any) -> None:
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:  # a listener must not break the writer
            log.exception("history error callback failed")

    def _append(self, path: Path, data: bytes) -> None:
        ensure_private_dir(path.parent)
        if self.max_bytes:
            try:
                size = os.lstat(path).st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(data) > self.max_bytes:
                rotate(path, self.keep)
        append_private(path, data)


def append_private(path: Path, data: bytes) -> None:
    append_bytes(path, data, PRIVATE)


def rotate(path: Path, keep: int) -> None:
    """path -> path.1 -> path.2 ... (path.keep is dropped). Renames never follow symlinks."""
    for i in range(keep, 0, -1):
        older = path.with_name(f"{path.name}.{i}")
        newer = path if i == 1 else path.with_name(f"{path.name}.{i - 1}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(newer, older)


def history_files(path: Path) -> list[Path]:
    """The rotated generations of ``path`` (oldest first) and ``path`` itself, those that exist."""
    rotated = []
    for p in path.parent.glob(f"{glob.escape(path.name)}.*"):
        suffix = p.name[len(path.name) + 1:]
        if suffix.isdigit():
            rotated.append((int(suffix), p))
    return [p for _, p in sorted(rotated, reverse=True)] + ([path] if path.exists() else [])


def read_history(path: Path, *, rotated: bool = False) -> list[dict[str, Any]]:
    records = []
    for p in history_files(path) if rotated else [path]:
        records.extend(_read_one(p))
    return records


def _read_one(path: Path) -> list[dict[str, Any]]:
    """The records of one history file. A line that is not a JSON object (torn by a crash,
    binary garbage, nested past the parser's depth) is skipped, never fatal; the file must be a
    regular one (a FIFO or a device would block or never end)."""
    records: list[dict[str, Any]] = []
    if not path.exists():
        return records
    try:
        data = read_regular_file(path)
    except NotRegularFileError as exc:
        raise UserError(f"cannot read history {path}: {'Is a directory' if exc.is_dir else exc}") from None
    except OSError as exc:
        raise UserError(f"cannot read history {path}: {exc.strerror or exc}") from None
    binary = 0
    for raw in data.splitlines():
        line = raw.strip()
        if not line:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            binary += 1
            continue
        try:
            record = json.loads(text)
        except (ValueError, RecursionError):  # torn, not JSON, too deep
            continue
        if isinstance(record, dict):
            records.append(record)
    if binary and not records:  # garbage lines in a history are skipped; a file of only those is no history
        raise UserError(f"{path} is not a history file (not UTF-8 text)")
    return records


def format_ms(seconds: float) -> str:
    """``1234ms`` for a finite number of seconds, ``-`` otherwise (never "infms"/"nanms")."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds * 1000):
        return "-"
    return f"{seconds * 1000:.0f}ms"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _timings(record: dict[str, Any]) -> dict[str, Any]:
    timings = record.get("timings")
    return timings if isinstance(timings, dict) else {}


MAX_TIMING_S = 86400.0  # a stage timing outside 0..1 day is a corrupt line, not a measurement


def latency_table(records: list[dict[str, Any]]) -> list[tuple[str, int, float, float]]:
    """(stage, count, p50, p95) for end-of-speech -> first reply audio and each stage."""
    names = ["eos_to_first_audio"] + [name for name, _, _ in STAGES]
    rows = []
    for name in names:
        values = [v for r in records if isinstance(v := _timings(r).get(name), (int, float))
                  and not isinstance(v, bool) and 0 <= v <= MAX_TIMING_S]
        if values:
            rows.append((name, len(values), percentile(values, 50), percentile(values, 95)))
    return rows
