"""Timers and alarms: several at once, by name, kept across restarts (``timers.json`` in the state
directory), and a ringer that announces each one when it is due.

``TimerBook`` is the state (wall-clock times, so a restart keeps them; one that fell due while the
assistant was off rings at start). ``handle`` turns a routed intent into a reply; ``ring`` is the
clock-driven source of announcements (turns without an utterance).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from ..paths import atomic_path, ensure_private_dir, state_dir
from .clock import spoken_time
from .messages import message
from .spoken_time import parse_clock_time, parse_duration

log = logging.getLogger(__name__)

MAX_TIMERS = 20
MAX_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Timer:
    name: str          # "pasta", or the length for an unnamed one ("5 minute", "5분")
    due: float         # wall-clock seconds (time.time())
    kind: str = "timer"  # timer | alarm
    language: str = "en"


def default_path() -> Path:
    return state_dir() / "timers.json"


class TimerBook:
    """The timers, saved after every change; safe to use from the loop and a ringer thread."""

    def __init__(self, path: Path | None = None, wall: Callable[[], float] = time.time):
        self.path = path
        self.wall = wall
        self._lock = threading.Lock()
        self._timers: list[Timer] = self._load()
        self.on_change: Callable[[], None] = lambda: None  # the ringer's wake-up

    def _load(self) -> list[Timer]:
        if self.path is None:
            return []
        try:
            rows = json.loads(self.path.read_text("utf-8")).get("timers", [])
            return [Timer(str(r["name"]), float(r["due"]), str(r.get("kind", "timer")), str(r.get("language", "en")))
                    for r in rows]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return []

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            ensure_private_dir(self.path.parent)
            with atomic_path(self.path) as tmp:
                tmp.write_text(json.dumps({"timers": [asdict(t) for t in self._timers]}, ensure_ascii=False), "utf-8")
        except (OSError, Exception) as exc:  # noqa: BLE001 - a full disk must not silence the loop
            log.warning("could not save timers to %s: %s", self.path, exc)

    def pending(self) -> list[Timer]:
        with self._lock:
            return sorted(self._timers, key=lambda t: t.due)

    def add(self, timer: Timer) -> Timer:
        """Add ``timer``; one of the same name is replaced ("set the pasta timer for 12 minutes")."""
        with self._lock:
            self._timers = [t for t in self._timers if _key(t.name) != _key(timer.name)]
            self._timers.append(timer)
            self._save()
        self.on_change()
        return timer

    def cancel(self, timers: list[Timer]) -> None:
        with self._lock:
            self._timers = [t for t in self._timers if t not in timers]
            self._save()
        self.on_change()

    def next_due(self) -> float | None:
        with self._lock:
            return min((t.due for t in self._timers), default=None)

    def find(self, name: str) -> list[Timer]:
        """Timers whose name matches what was said ("the pasta", "파스타"); all when ``name`` is ""."""
        key = _key(name)
        timers = self.pending()
        if not key:
            return timers
        exact = [t for t in timers if _key(t.name) == key]
        return exact or [t for t in timers if key in _key(t.name) or _key(t.name) in key]

    def pop_due(self) -> list[Timer]:
        now = self.wall()
        with self._lock:
            due = [t for t in self._timers if t.due <= now]
            if due:
                self._timers = [t for t in self._timers if t.due > now]
                self._save()
        return sorted(due, key=lambda t: t.due)


def _key(name: str) -> str:
    name = re.sub(r"\b(?:the|my|a|an|timer|alarm|reminder)\b|타이머|알람", " ", name.lower())
    return " ".join(name.split())


# ------------------------------------------------------------------------------ speaking
def spoken_duration(seconds: float, language: str) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if language == "ko":
        parts = [f"{h}시간" if h else "", f"{m}분" if m else "", f"{s}초" if s and not h else ""]
        return " ".join(p for p in parts if p) or "0초"
    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}" if n else ""
    parts = [unit(h, "hour"), unit(m, "minute"), unit(s, "second") if not h else ""]
    return " ".join(p for p in parts if p) or "0 seconds"


def _label(seconds: float, language: str) -> str:
    """An unnamed timer's name: "5 minute", "1 hour 30 minute", "5분"."""
    text = spoken_duration(seconds, language)
    return text if language == "ko" else re.sub(r"(\w)s\b", r"\1", text)


def display(timer: Timer, language: str) -> str:
    """How a timer is named in a sentence: "the pasta timer", "파스타 타이머"."""
    noun = {"timer": ("timer", "타이머"), "alarm": ("alarm", "알람")}[timer.kind]
    return f"{timer.name} {noun[1]}" if language == "ko" else f"the {timer.name} {noun[0]}"


def announcement(timer: Timer) -> str:
    """What is said when ``timer`` rings, in the language it was set in."""
    if timer.kind == "alarm":
        when = datetime.fromtimestamp(timer.due)
        return message("alarm_ringing", timer.language, time=spoken_time(when, timer.language))
    return message("timer_done", timer.language, timer=display(timer, timer.language))


def handle(book: TimerBook, kind: str, name: str, value: str | None, language: str) -> tuple[str, str]:
    """A timer intent -> (reply, failure reason or "")."""
    now = book.wall()
    if kind == "timer_list":
        timers = book.find(name) if name else book.pending()
        if not timers:
            return message("timers_none", language), ""
        items = ", ".join(message("timer_item", language, timer=display(t, language),
                                  left=spoken_duration(t.due - now, language)) for t in timers)
        return message("timers_list", language, count=len(timers), items=items), ""
    if kind == "timer_cancel":
        timers = book.pending() if value == "all" else book.find(name)
        if not timers:
            return message("timers_none" if not name else "timer_not_found", language, name=name), "no such timer"
        if len(timers) > 1 and value != "all":
            names = ", ".join(display(t, language) for t in timers)
            return message("timer_which", language, names=names), "which timer?"
        book.cancel(timers)
        if len(timers) > 1:
            return message("timers_cancelled", language, count=len(timers)), ""
        return message("timer_cancelled", language, timer=display(timers[0], language)), ""
    if len(book.pending()) >= MAX_TIMERS:
        return message("timers_full", language, count=MAX_TIMERS), "too many timers"
    if kind == "alarm_set":
        when = parse_clock_time(value or "", datetime.fromtimestamp(now))
        if when is None:
            return message("alarm_when", language), f"unreadable time {value!r}"
        timer = book.add(Timer(name or spoken_time(when, language), when.timestamp(), "alarm", language))
        return message("alarm_set", language, time=spoken_time(when, language),
                       left=spoken_duration(timer.due - now, language)), ""
    seconds = parse_duration(value or "")
    if seconds is None or seconds > MAX_SECONDS:
        return message("timer_how_long", language), f"unreadable duration {value!r}"
    timer = book.add(Timer(name or _label(seconds, language), now + seconds, "timer", language))
    return message("timer_set", language, timer=display(timer, language),
                   length=spoken_duration(seconds, language)), ""


async def ring(book: TimerBook, announce: Callable[[Timer], Any], *, max_wait_s: float = 30.0) -> None:
    """Forever: announce each timer when it is due (a cancelled task ends it). Sleeps until the
    next one is due or the book changes, and at most ``max_wait_s`` (the wall clock may jump)."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    book.on_change = lambda: loop.call_soon_threadsafe(changed.set)
    try:
        while True:
            changed.clear()
            for timer in book.pop_due():
                try:
                    announce(timer)
                except Exception:  # noqa: BLE001 - one bad announcement must not stop the others
                    log.exception("timer announcement failed")
            due = book.next_due()
            wait = max_wait_s if due is None else min(max_wait_s, max(0.0, due - book.wall()))
            try:
                await asyncio.wait_for(changed.wait(), wait)
            except asyncio.TimeoutError:
                pass
    finally:
        book.on_change = lambda: None
