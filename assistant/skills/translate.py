"""Translate mode: whatever is said (that is not a command) is said back in English.

Given the transcriber: non-English speech is translated from the utterance's audio (Whisper's
translate task); English is said back as heard. Typed text cannot be translated this way.
"""
from __future__ import annotations

import asyncio
from typing import Callable

from ..stt.base import Transcriber
from .base import Outcome, Request, say

# Intents that still act as commands while translate mode is on.
COMMANDS_IN_TRANSLATE_MODE = frozenset({"translate_off", "translate_on", "stop"})


class Translate:
    def __init__(self, transcriber: Callable[[], Transcriber]):
        self._transcriber = transcriber  # a getter: engines change on reload

    async def handle(self, request: Request) -> Outcome:
        heard = request.heard_language or request.intent.language or "en"
        if heard == "en":
            english = request.intent.text.strip()
        elif request.audio is None:
            return say(request, "unknown", failure="typed text cannot be translated")
        else:
            translated = await asyncio.to_thread(self._transcriber().transcribe, request.audio, task="translate", language=heard)
            english = translated.text.strip()
        slots = {"translation": english, "from": heard}
        if not english:
            return Outcome(failure="empty translation", slots=slots)
        return Outcome((request.reply(english, "en", kind="translation"),), slots=slots)
