"""One conversation: the memory of the last turns plus the engine; ``answer`` streams the reply
sentence by sentence to ``emit`` (blocking: run it in a thread)."""
from __future__ import annotations

from typing import Any, Callable

from ..config import ChatConfig
from .engine import ChatEngine, available
from .memory import Memory
from .split import SentenceSplitter


class Conversation:
    def __init__(self, cfg: ChatConfig, engine: Any = None):
        self.cfg = cfg
        self.memory = Memory(cfg.history_turns)
        self.engine = engine or ChatEngine(cfg)

    def available(self) -> bool:
        return available(self.cfg)

    def reconfigure(self, cfg: ChatConfig) -> None:
        if cfg != self.cfg:
            self.cfg, self.engine = cfg, ChatEngine(cfg)
            self.memory.resize(cfg.history_turns)

    def answer(self, text: str, language: str, emit: Callable[[str], None]) -> str:
        """Ask the model; every complete sentence goes to ``emit`` as soon as it is there."""
        splitter = SentenceSplitter()
        parts: list[str] = []
        for piece in self.engine.stream(self.memory.messages(), text, language):
            parts.append(piece)
            for sentence in splitter.feed(piece):
                emit(sentence)
        for sentence in splitter.flush():
            emit(sentence)
        return "".join(parts).strip()
