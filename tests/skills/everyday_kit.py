"""Skills with the everyday table, without the loop (shared by the everyday skill tests)."""
from __future__ import annotations

import asyncio
from datetime import datetime

from assistant.config import load_config
from assistant.router.route import route
from assistant.skills.base import Request
from assistant.skills.dispatch import Skills
from assistant.skills.everyday import Everyday
from assistant.skills.state import SessionState
from assistant.skills.timers import TimerBook


class NoJobs:
    def handle(self, request):  # pragma: no cover - image kinds are not used here
        raise AssertionError("no jobs expected")

    def cancel_all(self):
        pass


class Kit:
    def __init__(self, cfg=None, book=None, now=datetime.now, can=lambda _what: False):
        cfg = cfg or load_config()
        self.book = book or TimerBook()
        self.state = SessionState(voice="alloy", speed=1.0)
        self.skills = Skills(NoJobs(), lambda *_: None, everyday=Everyday(lambda: cfg, self.book, now=now, can=can))

    def ask(self, text):
        """(the reply's text, the outcome) for ``text`` as if spoken."""
        intent = route(text)
        request = Request(intent, 1, self.state.reply_language_for(intent.language), self.state)
        outcome = asyncio.run(self.skills.handle(request))
        return outcome.replies[0].text, outcome
