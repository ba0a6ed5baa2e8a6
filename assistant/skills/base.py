"""What a skill is given (``Request``) and what it gives back (``Outcome``).

A skill never edits the turn record: it returns the replies to speak, optionally a background
job (an asyncio task whose ``JobResult`` the loop collects), and a failure reason when the
request could not be done. The loop's ledger owns the turn.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..events import Reply
from ..router.intents import Intent
from .state import SessionState


@dataclass(frozen=True, eq=False)
class Request:
    intent: Intent
    turn: int
    language: str  # the reply language
    state: SessionState  # the session's state (a skill may change it)
    audio: np.ndarray | None = None  # the utterance (None for typed text)
    heard_language: str | None = None  # what the transcriber said was spoken

    def reply(self, text: str, language: str | None = None, kind: str = "reply") -> Reply:
        return Reply(text, language or self.language, self.turn, kind)


@dataclass(frozen=True)
class JobResult:
    """How a background job ended: an announcement to say, files made, or why it failed."""

    reply: Reply | None = None
    files: tuple[str, ...] = ()
    failure: str = ""
    key_rejected: bool = False  # a 401: the loop says "key rejected" once per run


@dataclass(frozen=True, eq=False)
class Outcome:
    replies: tuple[Reply, ...] = ()
    job: "asyncio.Task[JobResult] | None" = None
    failure: str = ""
    slots: Mapping[str, Any] = field(default_factory=dict)  # extra slots for the record


def say(request: Request, key: str, *, failure: str = "", **kwargs: Any) -> Outcome:
    from .messages import message

    return Outcome((request.reply(message(key, request.language, **kwargs)),), failure=failure)
