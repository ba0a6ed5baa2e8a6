"""Skills: one routed intent -> the replies to speak (image intents also start a background job).

Pure apart from the session state it changes and the image jobs it submits; the loop speaks the
replies. Translation needs the utterance's audio, so the loop handles translate mode itself.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ..errors import AssistantError
from ..events import Reply
from ..history import Turn
from . import abilities, clock, gallery, timers, volume
from .images import ImageJobs
from .messages import message
from .state import SessionState

IMAGE_KINDS = ("draw", "edit", "variation")
TIMER_KINDS = ("timer_set", "alarm_set", "timer_list", "timer_cancel")
GALLERY_KINDS = ("undo", "show_image", "previous_image")


class Skills:
    def __init__(self, state: SessionState, jobs: ImageJobs, validate_voice: Callable[[str, float], None], *,
                 cfg: Any = None, timer_book: timers.TimerBook | None = None,
                 now: Callable[[], datetime] = datetime.now, can: Callable[[str], bool] = lambda _what: False):
        self.state = state
        self.jobs = jobs
        self._validate_voice = validate_voice
        self.cfg = cfg
        self.timers = timer_book or timers.TimerBook()
        self.now = now
        self.can = can  # can("images") / can("chat"): which abilities this configuration has

    def handle(self, intent: Any, turn: Turn, language: str) -> tuple[list[Reply], bool]:
        """(replies, whether a background job now belongs to the turn)."""
        kind = intent.kind
        if kind in IMAGE_KINDS:
            reply = self.jobs.submit(kind, intent, turn, language)
            return [reply], turn.result == "pending"
        if kind == "setting":
            return self._setting(intent, turn, language), False
        if kind in TIMER_KINDS or kind in GALLERY_KINDS:
            return self._everyday(intent, turn, language), False
        return self._simple(intent, turn, language), False

    def _everyday(self, intent: Any, turn: Turn, language: str) -> list[Reply]:
        if intent.kind in TIMER_KINDS:
            text, failure = timers.handle(self.timers, intent.kind, intent.prompt, intent.value, language)
        else:
            text, failure, path = gallery.handle(self.cfg, intent.kind, language)
            if path:
                turn.files.append(path)
        if failure:
            turn.result, turn.reason = "failed", failure
        return [Reply(text, language, turn.id)]

    def _simple(self, intent: Any, turn: Turn, language: str) -> list[Reply]:
        def say(key: str, **kw: Any) -> list[Reply]:
            return [Reply(message(key, language, **kw), language, turn.id)]

        kind = intent.kind
        if kind == "translate_on":
            self.state.translate = True
            return say("translate_on")
        if kind == "translate_off":
            self.state.translate = False
            return say("translate_off")
        if kind == "say":
            return [Reply(intent.prompt, language_of(intent.prompt, language), turn.id)] if intent.prompt else say("unknown")
        if kind == "repeat":
            if not self.state.last_reply:
                return say("unknown")
            return [Reply(self.state.last_reply, self.state.last_reply_language, turn.id)]
        if kind == "stop":
            self.jobs.cancel_all()
            return say("stopped")
        if kind == "help":
            from ..sentences import example

            own = [example(s.templates[0]) for s in getattr(self.cfg, "sentences", ())]
            text = abilities.describe(language, images=self.can("images"), chat=self.can("chat"), sentences=own)
            return [Reply(text, language, turn.id)]
        if kind == "clock":
            return [Reply(clock.answer(intent.value or "time", language, self.now()), language, turn.id)]
        if kind == "volume":
            self.state.volume = volume.change(self.state.volume, intent.value or "normal")
            return say("volume_changed", percent=volume.percent(self.state.volume))
        return say("unknown")

    def _setting(self, intent: Any, turn: Turn, language: str) -> list[Reply]:
        if intent.setting == "speed":
            speed = self.state.change_speed(intent.value or "normal")
            return [Reply(message("speed_changed", language, speed=f"{speed:g}"), language, turn.id)]
        if intent.setting == "voice" and intent.value:
            try:
                self._validate_voice(intent.value, self.state.speed)
            except AssistantError as exc:
                turn.result, turn.reason = "failed", str(exc)
                return [Reply(message("unknown", language), language, turn.id)]
            self.state.voice = intent.value
            return [Reply(message("voice_changed", language, voice=intent.value), language, turn.id)]
        if intent.setting == "language" and intent.value in ("en", "ko"):
            self.state.reply_language = intent.value
            return [Reply(message("language_changed", intent.value), intent.value, turn.id)]
        return [Reply(message("unknown", language), language, turn.id)]


def language_of(text: str, default: str) -> str:
    """Hangul -> "ko", else ``default``."""
    return "ko" if any("\uac00" <= ch <= "\ud7a3" for ch in text) else default


def image_options(service: Any, options: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Spoken draw options -> request options the service's model takes (others dropped)."""
    spoken = getattr(service, "spoken_options", None)
    return spoken(dict(options)) if callable(spoken) else {}
