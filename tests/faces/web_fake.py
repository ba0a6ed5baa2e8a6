"""A stand-in for the loop's turn-event contract (subscribe, handle_text, session) for the web
page's tests: typed text becomes turn events; "draw …" saves a real PNG in the image store."""
from __future__ import annotations

import asyncio
import io
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from assistant.config import Config
from assistant.events import EventType, Reply, TurnEvent
from assistant.images import store
from assistant.skills.state import SessionState


@dataclass
class FakeSession:
    name: str
    state: SessionState


@dataclass
class FakeTicket:
    id: int
    _replies: list[Reply] = field(default_factory=list)

    async def replied(self) -> list[Reply]:
        return self._replies

    async def finished(self) -> dict[str, Any]:
        return {}


class FakeAssistant:
    def __init__(self, cfg: Config, *, draw_delay: float = 0.3, color: str = "red"):
        self.cfg = cfg
        self.listeners: list[Callable[[TurnEvent], None]] = []
        self.sessions: dict[str, FakeSession] = {}
        self.ids = itertools.count(1)
        self.draw_delay = draw_delay
        self.color = color
        self.asked: list[tuple[str, str | None, str]] = []

    def subscribe(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def validate_voice(self, voice, speed):
        pass  # the page's own checks (settings.check) are what these tests exercise

    def session(self, name, *, speaker=None, room=None):
        if name not in self.sessions:
            self.sessions[name] = FakeSession(name, SessionState(voice="alloy", speed=1.0))
        return self.sessions[name]

    def emit(self, etype: EventType, turn: int | None, session: str = "local", **data: Any) -> None:
        event = TurnEvent(etype, turn, time.monotonic(), data, session)
        for listener in list(self.listeners):
            listener(event)

    async def handle_text(self, text, language=None, *, session="local"):
        self.asked.append((text, language, session))
        turn = next(self.ids)
        lang = language or ("ko" if any("\uac00" <= c <= "\ud7a3" for c in text) else "en")
        self.emit(EventType.TRANSCRIBED, turn, session, text=text, language=lang)
        draw = text.lower().startswith("draw ")
        intent = "draw" if draw else "help"
        self.emit(EventType.ROUTED, turn, session, intent=intent, slots={"prompt": text[5:]} if draw else {}, language=lang)
        reply = Reply(f"Drawing {text[5:]}." if draw else f"You said: {text}", lang, turn, "ack" if draw else "reply")
        self._speak(turn, session, reply)
        if draw:
            asyncio.get_running_loop().create_task(self._draw(turn, session, text[5:]))
        else:
            self._finish(turn, session, text, lang, intent, "done", [], 0.8)
        return FakeTicket(turn, [reply])

    def _speak(self, turn, session, reply):
        self.emit(EventType.REPLY_STARTED, turn, session, text=reply.text, language=reply.language, kind=reply.kind)
        audio = (np.sin(np.arange(2400) / 5) * 3000).astype(np.int16)
        self.emit(EventType.REPLY_AUDIO, turn, session, sample_rate=24000, samples=len(audio), audio=audio)
        self.emit(EventType.REPLY_FINISHED, turn, session, text=reply.text, spoken=True)

    async def _draw(self, turn, session, prompt):
        from PIL import Image

        self.emit(EventType.IMAGE_QUEUED, turn, session, kind="draw", prompt=prompt)
        for step in (1, 2):
            await asyncio.sleep(self.draw_delay)
            self.emit(EventType.IMAGE_PROGRESS, turn, session, step=step, of=3)
        await asyncio.sleep(self.draw_delay)
        buf = io.BytesIO()
        Image.new("RGB", (256, 256), self.color).save(buf, "PNG")
        target = store.target_paths(self.cfg, prompt, 1, "png", None)[0]
        meta = {"prompt": prompt, "model": "gpt-image-2", "size": "256x256", "kind": "draw"}
        path = store.save_image(target, buf.getvalue(), meta)
        store.record(self.cfg, path, meta)
        self.emit(EventType.IMAGE_SAVED, turn, session, path=str(path), id=path.name, prompt=prompt,
                  model="gpt-image-2", size="256x256")
        self._speak(turn, session, Reply(f"Done: {path.name}", "en", turn, "announce"))
        self._finish(turn, session, f"draw {prompt}", "en", "draw", "done", [str(path)], 1.4)

    def _finish(self, turn, session, text, lang, intent, result, files, latency):
        record = {"time": time.time(), "turn": turn, "text": text, "language": lang, "intent": intent, "slots": {},
                  "result": result, "reason": "", "files": files, "replies": [],
                  "timings": {"stt": 0.0, "route": 0.001, "eos_to_first_audio": latency}}
        self.emit(EventType.TURN_FINISHED, turn, session, result=result, reason="", record=record)
