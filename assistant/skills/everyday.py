"""The everyday skills as entries of the skills table (``Request`` -> ``Outcome``): time and date,
timers and alarms, volume, "what can you do", the pictures so far, and the user's own sentences.
The logic lives in one small module each (clock, timers, volume, abilities, gallery,
../sentences.py); this only adapts them."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Callable

from .. import sentences
from ..router.intents import IntentKind
from . import abilities, clock, gallery, timers, volume
from .base import Outcome, Request, say
from .messages import message

TIMER_KINDS = (IntentKind.TIMER_SET, IntentKind.ALARM_SET, IntentKind.TIMER_LIST, IntentKind.TIMER_CANCEL)
GALLERY_KINDS = (IntentKind.UNDO, IntentKind.SHOW_IMAGE, IntentKind.PREVIOUS_IMAGE)


class Everyday:
    def __init__(self, cfg: Callable[[], Any], timer_book: timers.TimerBook, *,
                 now: Callable[[], datetime] = datetime.now, can: Callable[[str], bool] = lambda _what: False):
        self.cfg = cfg  # the current config (it changes on reload)
        self.timers = timer_book
        self.now = now
        self.can = can  # can("images") / can("chat"): which abilities this configuration has

    def table(self) -> dict[str, Callable[[Request], Any]]:
        return {
            IntentKind.CLOCK: self.clock,
            IntentKind.VOLUME: self.volume,
            IntentKind.HELP: self.abilities,
            IntentKind.SENTENCE: self.sentence,
            **{kind: self.timer for kind in TIMER_KINDS},
            **{kind: self.gallery for kind in GALLERY_KINDS},
        }

    def clock(self, request: Request) -> Outcome:
        return Outcome((request.reply(clock.answer(request.intent.value or "time", request.language, self.now())),))

    def volume(self, request: Request) -> Outcome:
        state = request.state
        state.volume = volume.change(state.volume, request.intent.value or "normal")
        return say(request, "volume_changed", percent=volume.percent(state.volume))

    def abilities(self, request: Request) -> Outcome:
        own = [sentences.example(s.templates[0]) for s in self.cfg().sentences]
        text = abilities.describe(request.language, images=self.can("images"), chat=self.can("chat"), sentences=own)
        return Outcome((request.reply(text),))

    def timer(self, request: Request) -> Outcome:
        intent = request.intent
        text, failure = timers.handle(self.timers, str(intent.kind), intent.prompt, intent.value, request.language)
        return Outcome((request.reply(text),), failure=failure)

    def gallery(self, request: Request) -> Outcome:
        text, failure, path = gallery.handle(self.cfg(), str(request.intent.kind), request.language)
        return Outcome((request.reply(text),), failure=failure, slots={"image": path} if path else {})

    def own_sentence(self, request: Request) -> sentences.Match | None:
        """The user's own sentence this request's text matches (never in translate mode)."""
        if request.state.translate or not self.cfg().sentences:
            return None
        return sentences.match(self.cfg().sentences, request.intent.text)

    async def sentence(self, request: Request) -> Outcome:
        """A ``[[sentences]]`` entry: its command or HTTP request runs in a thread; the exit or
        HTTP status goes into the turn's slots (the history)."""
        hit = self.own_sentence(request)
        if hit is None:
            return say(request, "unknown")
        done = await asyncio.to_thread(sentences.perform, hit)
        slots: dict[str, Any] = {"sentence": hit.index, **hit.slots}
        if done.kind != "reply":
            slots[done.kind] = done.status
        language = request.language
        if not done.ok:
            return Outcome((request.reply(message("sentence_failed", language, reason=done.error)),),
                           failure=done.error, slots=slots)
        text = sentences.reply_text(hit, done) or message("sentence_done", language)
        return Outcome((request.reply(text, sentences.language_of(text, language)),), slots=slots)
