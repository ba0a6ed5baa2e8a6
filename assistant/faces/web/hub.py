"""Turn events -> what the page shows: turn views, gallery placeholders, the "now" state, and a
stream of numbered updates for every connected page (Server-Sent Events).

``Hub.on_event`` is the listener given to ``Assistant.subscribe``: it runs on the event-loop
thread, never blocks (reply audio is written in a thread) and never raises. Each update is a
``(seq, name, data)`` triple; a page that reconnects asks for the updates after the last ``seq``
it saw and gets them from a bounded ring.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import math
import re
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...events import EventType, TurnEvent
from . import gallery

log = logging.getLogger(__name__)

MAX_TURNS = 500
RING = 1000          # updates kept for reconnecting pages
CLIENT_QUEUE = 2000  # a page this far behind is dropped (it reconnects and catches up)
MAX_REPLY_FILES = 200

Update = tuple[int, str, dict[str, Any]]


class Hub:
    def __init__(self, image_dir: Path, reply_dir: Path | None, *, history: list[dict[str, Any]] = (),
                 settings: Callable[[], dict[str, Any]] | None = None):
        self.image_dir = image_dir
        self.reply_dir = reply_dir
        self._settings = settings
        self._seq = itertools.count(1)
        self.last_seq = 0
        self._ring: deque[Update] = deque(maxlen=RING)
        self._clients: set[asyncio.Queue] = set()
        self.turns: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self.pending: OrderedDict[str, dict[str, Any]] = OrderedDict()  # image placeholders
        self.now: dict[str, Any] = {"state": "listening", "text": "", "turn": None, "session": None, "db": None}
        self._audio: dict[tuple[str, int | None], list[np.ndarray]] = {}
        self._audio_rate: dict[tuple[str, int | None], int] = {}
        self._reply_files: deque[str] = deque()
        self._reply_numbers = itertools.count(1)
        self.typed: set[tuple[str, int]] = set()
        self._shown_settings: dict[str, Any] | None = None
        for record in history:
            self._from_record(record)
        if reply_dir is not None:
            self._reply_files.extend(p.name for p in sorted(reply_dir.glob("*.wav"), key=_mtime))

    # ------------------------------------------------------------------ clients
    def connect(self, after: int | None = None) -> asyncio.Queue:
        """A queue of updates for one page, first those after ``after`` still in the ring."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=CLIENT_QUEUE)
        if after is not None:
            for update in self._ring:
                if update[0] > after:
                    queue.put_nowait(update)
        self._clients.add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue) -> None:
        self._clients.discard(queue)

    def close(self) -> None:
        """Ends every stream (``None`` tells a stream to finish)."""
        for queue in list(self._clients):
            _force(queue, None)
        self._clients.clear()

    def publish(self, name: str, data: dict[str, Any], *, keep: bool = True) -> None:
        seq = next(self._seq) if keep else self.last_seq
        update = (seq, name, data)
        if keep:
            self.last_seq = seq
            self._ring.append(update)
        for queue in list(self._clients):
            try:
                queue.put_nowait(update)
            except asyncio.QueueFull:
                log.info("a page fell behind; its stream is closed")
                self._clients.discard(queue)
                _force(queue, None)

    # ------------------------------------------------------------------ events
    def on_event(self, event: TurnEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # a listener must not raise into the loop
            log.exception("web page could not take event %s", getattr(event, "type", "?"))

    def _on_event(self, event: TurnEvent) -> None:
        kind, data, session = event.type, event.data, event.session
        if kind == EventType.LEVEL:
            self.now["db"] = data.get("db")
            self.publish("level", {"db": data.get("db"), "session": session}, keep=False)
            return
        if kind == EventType.STATE:
            self.now.update(state=str(data.get("state", "")), session=session)
            self.publish("now", dict(self.now))
            return
        if kind == EventType.NOTICE:
            self.publish("notice", {"text": str(data.get("text") or data.get("message") or ""), "session": session})
            return
        if kind == EventType.REPLY_AUDIO:
            self._collect_audio(event)
            return
        if event.turn is None:
            if kind == EventType.REPLY_FINISHED:
                self._save_audio(session, None, dict(data), None)
            return
        view = self._view(session, event.turn)
        if kind == EventType.HEARD:
            view["duration"] = data.get("duration")
            self.now.update(text="", turn=event.turn, session=session)
            self.publish("now", dict(self.now))
        elif kind == EventType.TRANSCRIBED:
            view.update(text=str(data.get("text", "")), language=str(data.get("language") or ""))
            if data.get("typed"):
                view["typed"] = True
            self.now.update(text=view["text"], turn=event.turn, session=session)
            self.publish("now", dict(self.now))
        elif kind == EventType.IGNORED:
            view.update(result="ignored", reason=str(data.get("reason", "")))
        elif kind == EventType.ROUTED:
            view.update(intent=str(data.get("intent", "")), slots=_jsonable(data.get("slots") or {}))
            if data.get("language") and not view.get("language"):
                view["language"] = str(data["language"])
        elif kind == EventType.REPLY_STARTED:
            view["replies"].append({"text": str(data.get("text", "")), "language": str(data.get("language") or ""),
                                    "kind": str(data.get("kind") or "reply"), "audio": None})
        elif kind == EventType.REPLY_FINISHED:
            reply = next((r for r in reversed(view["replies"]) if r["text"] == data.get("text") and "spoken" not in r), None)
            if reply is None:
                reply = {"text": str(data.get("text", "")), "language": "", "kind": "reply", "audio": None}
                view["replies"].append(reply)
            reply["spoken"] = bool(data.get("spoken", True))
            if data.get("reason"):
                reply["reason"] = str(data["reason"])
            self._save_audio(session, event.turn, reply, view)
        elif kind in (EventType.IMAGE_QUEUED, EventType.IMAGE_PROGRESS, EventType.IMAGE_FAILED, EventType.IMAGE_SAVED):
            self._image_event(event, view)
        elif kind == EventType.TURN_FINISHED:
            record = data.get("record") if isinstance(data.get("record"), dict) else data
            self._merge_record(view, record)
            view["result"] = str(data.get("result") or record.get("result") or view["result"])
            if data.get("reason"):
                view["reason"] = str(data["reason"])
            view["finished"] = True
            self.publish("turn", view)
            self.settings_changed()  # a voice command may have changed them
            return
        self.publish("turn", view)

    def settings_changed(self, now: dict[str, Any] | None = None) -> None:
        """Publish the session's settings when they differ from what the pages last got."""
        if now is None:
            if self._settings is None:
                return
            now = self._settings()
        if now != self._shown_settings:
            self._shown_settings = now
            self.publish("settings", now)

    def _view(self, session: str, turn: int) -> dict[str, Any]:
        key = (session, turn)
        view = self.turns.get(key)
        if view is None:
            view = {"key": f"{session}:{turn}", "turn": turn, "session": session, "time": time.time(),
                    "typed": key in self.typed, "text": "", "language": "", "intent": "", "slots": {},
                    "result": "pending", "reason": "", "replies": [], "files": [], "images": [],
                    "timings": {}, "finished": False}
            self.turns[key] = view
            while len(self.turns) > MAX_TURNS:
                self.turns.popitem(last=False)
        return view

    def mark_typed(self, session: str, turn: int) -> None:
        self.typed.add((session, turn))
        if (session, turn) in self.turns:
            self.turns[(session, turn)]["typed"] = True
        if len(self.typed) > MAX_TURNS:
            self.typed.pop()

    def _merge_record(self, view: dict[str, Any], record: dict[str, Any]) -> None:
        for key in ("text", "language", "intent", "reason", "result"):
            if isinstance(record.get(key), str) and record[key]:
                view[key] = record[key]
        if isinstance(record.get("slots"), dict):
            view["slots"] = _jsonable(record["slots"])
        if isinstance(record.get("timings"), dict):
            view["timings"] = {k: v for k, v in record["timings"].items()
                               if isinstance(v, (int, float)) and math.isfinite(v)}  # JSON has no NaN
        if isinstance(record.get("files"), list):
            view["files"] = [str(f) for f in record["files"]]
            view["images"] = [i for f in view["files"] if (i := gallery._store_id(self.image_dir, f))]
        if not view["replies"] and isinstance(record.get("replies"), list):
            view["replies"] = [{"text": str(t), "language": "", "kind": "reply", "audio": None} for t in record["replies"]]

    def _from_record(self, record: dict[str, Any]) -> None:
        turn = record.get("turn")
        if not isinstance(turn, int):
            return
        session = str(record.get("session") or "local")
        key = (session, turn)
        if key in self.turns:  # a restarted loop numbers its turns from 1 again
            self.turns.pop(key)
        view = self._view(session, turn)
        if isinstance(record.get("time"), (int, float)):
            view["time"] = float(record["time"])
        self._merge_record(view, record)
        view["finished"] = True

    # ------------------------------------------------------------------ images
    def _image_event(self, event: TurnEvent, view: dict[str, Any]) -> None:
        data, key = event.data, f"pending-{event.session}-{event.turn}"
        placeholder = self.pending.get(key)
        if event.type == EventType.IMAGE_QUEUED or placeholder is None:
            placeholder = self.pending.setdefault(key, {
                "id": key, "pending": True, "turn": event.turn, "session": event.session,
                "kind": str(data.get("kind") or "draw"), "prompt": str(data.get("prompt") or view.get("text") or ""),
                "started": time.time(), "progress": None, "failed": None})
        if event.type == EventType.IMAGE_PROGRESS:
            step, of = data.get("step"), data.get("of")
            placeholder["progress"] = {"step": step if isinstance(step, (int, float)) else None,
                                       "of": of if isinstance(of, (int, float)) else None,
                                       "message": str(data.get("message") or "")}
            self.publish("image", dict(placeholder))
        elif event.type == EventType.IMAGE_FAILED:
            placeholder["failed"] = str(data.get("reason") or "failed")
            self.pending.pop(key, None)
            self.publish("image", dict(placeholder))
        elif event.type == EventType.IMAGE_SAVED:
            path = str(data.get("path") or "")
            image_id = gallery._store_id(self.image_dir, path) if path else None
            entry = (gallery.find(self.image_dir, image_id) if image_id else None) or gallery.item(self.image_dir, {
                "file": path, "prompt": data.get("prompt"), "model": data.get("model"), "size": data.get("size"),
                "kind": placeholder.get("kind"), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
            self.pending.pop(key, None)
            if image_id and image_id not in view["images"]:
                view["images"].append(image_id)
            if entry is not None:
                self.publish("image", dict(entry, replaces=key, turn=event.turn, session=event.session))
        else:
            self.publish("image", dict(placeholder))

    # ------------------------------------------------------------------ reply audio
    def _collect_audio(self, event: TurnEvent) -> None:
        audio = event.data.get("audio")
        if not isinstance(audio, np.ndarray) or self.reply_dir is None:
            return
        key = (event.session, event.turn)
        self._audio.setdefault(key, []).append(audio.astype(np.int16, copy=False).reshape(-1))
        rate = event.data.get("sample_rate")
        if isinstance(rate, int) and rate > 0:
            self._audio_rate[key] = rate

    def _save_audio(self, session: str, turn: int | None, reply: dict[str, Any], view: dict[str, Any] | None) -> None:
        key = (session, turn)
        chunks, rate = self._audio.pop(key, None), self._audio_rate.pop(key, 24000)
        if not chunks or self.reply_dir is None:
            return
        samples = np.concatenate(chunks)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{_safe(session)}-{turn or 0}-{next(self._reply_numbers)}.wav"
        reply["audio"] = f"/api/replies/{name}"

        def write() -> None:
            import soundfile as sf

            from ...paths import atomic_path, ensure_private_dir

            ensure_private_dir(self.reply_dir)
            with atomic_path(self.reply_dir / name, overwrite=False) as tmp:
                sf.write(tmp, samples, rate, format="WAV", subtype="PCM_16")

        def written(future: asyncio.Future) -> None:
            if future.exception() is not None:
                log.warning("could not keep a reply's audio: %s", future.exception())
                reply["audio"] = None
            else:
                self._reply_files.append(name)
                self._prune()
            if view is not None:
                self.publish("turn", view)

        try:
            future = asyncio.get_running_loop().run_in_executor(None, write)
        except RuntimeError:  # no running loop (a test feeding events by hand)
            write()
            self._reply_files.append(name)
            return
        future.add_done_callback(written)

    def _prune(self) -> None:
        while len(self._reply_files) > MAX_REPLY_FILES:
            old = self._reply_files.popleft()
            path = gallery.regular_file(self.reply_dir, old) if self.reply_dir else None
            if path is not None:
                try:
                    path.unlink()
                except OSError:
                    pass

    # ------------------------------------------------------------------ snapshots
    def turn_list(self) -> list[dict[str, Any]]:
        return list(self.turns.values())

    def placeholders(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.pending.values()]


def _force(queue: asyncio.Queue, item: Any) -> None:
    while True:
        try:
            queue.put_nowait(item)
            return
        except asyncio.QueueFull:
            queue.get_nowait()


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)[:32] or "s"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
