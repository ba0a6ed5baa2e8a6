"""Turn history (JSON lines) and latency statistics over it."""
from __future__ import annotations

import json
import math
import os
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import UserError
from .paths import ensure_private_dir, state_dir
from .secrets import redact

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


class HistoryWriter:
    """Appends one JSON object per line to each target; thread-safe; secrets redacted."""

    def __init__(self, paths: Iterable[Path]):
        self.paths = [Path(p) for p in paths]
        self._lock = threading.Lock()
        for p in self.paths:
            ensure_private_dir(p.parent)

    def write(self, record: dict[str, Any]) -> None:
        line = redact(json.dumps(record, ensure_ascii=False)) + "\n"
        with self._lock:
            for p in self.paths:
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)


def read_history(path: Path) -> list[dict[str, Any]]:
    records = []
    if not path.exists():
        return records
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a history file (not UTF-8 text)") from None
    except OSError as exc:
        raise UserError(f"cannot read history {path}: {exc.strerror or exc}") from None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line after a crash is skipped, not fatal
        if isinstance(record, dict):
            records.append(record)
    return records


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _timings(record: dict[str, Any]) -> dict[str, Any]:
    timings = record.get("timings")
    return timings if isinstance(timings, dict) else {}


def latency_table(records: list[dict[str, Any]]) -> list[tuple[str, int, float, float]]:
    """(stage, count, p50, p95) for end-of-speech -> first reply audio and each stage."""
    names = ["eos_to_first_audio"] + [name for name, _, _ in STAGES]
    rows = []
    for name in names:
        values = [v for r in records if isinstance(v := _timings(r).get(name), (int, float))
                  and not isinstance(v, bool) and math.isfinite(v)]
        if values:
            rows.append((name, len(values), percentile(values, 50), percentile(values, 95)))
    return rows
