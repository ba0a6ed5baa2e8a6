"""What the conversation remembers: the last exchanges (bounded) and the pictures drawn, as chat
messages (pure)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Exchange:
    user: str
    assistant: str
    note: str = ""  # e.g. "I drew: a fox in the snow (20261130-fox.png)"


class Memory:
    def __init__(self, turns: int = 6):
        self._turns: deque[Exchange] = deque(maxlen=max(0, turns))

    def add(self, user: str, assistant: str, note: str = "") -> None:
        if self._turns.maxlen and (user or assistant or note):
            self._turns.append(Exchange(user, assistant, note))

    def note(self, text: str) -> None:
        """Attach something that happened (a picture finished) to the last exchange, or add it."""
        if not self._turns.maxlen:
            return
        if self._turns:
            last = self._turns.pop()
            self._turns.append(Exchange(last.user, last.assistant, (last.note + " " + text).strip()))
        else:
            self._turns.append(Exchange("", "", text))

    def resize(self, turns: int) -> None:
        self._turns = deque(self._turns, maxlen=max(0, turns))

    def messages(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for ex in self._turns:
            if ex.user:
                out.append({"role": "user", "content": ex.user})
            said = " ".join(p for p in (ex.assistant, f"[{ex.note}]" if ex.note else "") if p)
            if said:
                out.append({"role": "assistant", "content": said})
        return out

    def last_answer(self) -> str:
        return self._turns[-1].assistant if self._turns else ""
