"""Skills looked up by intent kind: a routed intent -> an ``Outcome`` (replies, optional job,
failure). A new intent adds its patterns to the router and one entry here.

Pure apart from the session state a skill changes, the image jobs it starts and the
transcriber the translate skill calls.
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Awaitable, Callable, Union

from ..errors import AssistantError
from ..router.intents import IntentKind
from ..router.route import names_a_picture
from .base import Outcome, Request, say
from .images import IMAGE_KINDS, ImageJobs
from .messages import message
from .translate import COMMANDS_IN_TRANSLATE_MODE, Translate

if TYPE_CHECKING:
    from .chat import ChatSkill
    from .everyday import Everyday

Skill = Callable[[Request], Union[Outcome, Awaitable[Outcome]]]


class Skills:
    def __init__(self, jobs: ImageJobs, validate_voice: Callable[[str, float], None], translate: Translate | None = None,
                 *, everyday: "Everyday | None" = None, chat: "ChatSkill | None" = None):
        self.jobs = jobs
        self.everyday = everyday
        self.chat = chat
        self._validate_voice = validate_voice
        self._table: dict[str, Skill] = {
            **{kind: jobs.handle for kind in IMAGE_KINDS},
            IntentKind.SETTING: self.setting,
            IntentKind.TRANSLATE_ON: translate_on,
            IntentKind.TRANSLATE_OFF: translate_off,
            IntentKind.SAY: say_text,
            IntentKind.REPEAT: repeat,
            IntentKind.STOP: self.stop,
            IntentKind.HELP: lambda r: say(r, "help"),
            IntentKind.UNKNOWN: lambda r: say(r, "unknown"),
        }
        if translate is not None:
            self._table[IntentKind.TRANSLATION] = translate.handle
        if everyday is not None:  # time, timers, volume, what-can-you-do, pictures so far, own sentences
            self._table.update(everyday.table())
        if chat is not None:
            self._table[IntentKind.CHAT] = chat.handle

    def kind_for(self, request: Request) -> str:
        """The skill that answers: in translate mode everything but a few commands is translated."""
        kind = str(request.intent.kind)
        if self.everyday is not None and self.everyday.own_sentence(request) is not None:
            return IntentKind.SENTENCE.value  # the user's own sentences come before the built-in intents
        if kind == IntentKind.EDIT and not names_a_picture(request.intent) and not self.jobs.has_picture(request):
            kind = IntentKind.UNKNOWN.value  # "change all the lights to blue" with no picture: not an edit
        if kind == IntentKind.UNKNOWN and not request.state.translate and self.chat is not None and self.chat.available():
            return IntentKind.CHAT.value
        if request.state.translate and kind not in COMMANDS_IN_TRANSLATE_MODE and IntentKind.TRANSLATION in self._table:
            return IntentKind.TRANSLATION.value
        return kind

    async def handle(self, request: Request, kind: str | None = None) -> Outcome:
        kind = kind or self.kind_for(request)
        skill = self._table.get(kind, self._table[IntentKind.UNKNOWN])
        resolved = self.chat.resolve(request) if kind == IntentKind.DRAW and self.chat is not None else request
        outcome = skill(resolved)
        outcome = await outcome if inspect.isawaitable(outcome) else outcome
        if resolved is not request:  # "draw what you just described": the prompt drawn is the answer
            outcome = dataclasses.replace(outcome, slots={**outcome.slots, "prompt": resolved.intent.prompt})
        return outcome

    # skills that need the loop's services
    def stop(self, request: Request) -> Outcome:
        self.jobs.cancel_all()
        if self.chat is not None:
            self.chat.cancel_all()
        return say(request, "stopped")

    def setting(self, request: Request) -> Outcome:
        intent, state, language = request.intent, request.state, request.language
        if intent.setting == "speed":
            speed = state.change_speed(intent.value or "normal")
            return say(request, "speed_changed", speed=f"{speed:g}")
        if intent.setting == "voice" and intent.value:
            try:
                self._validate_voice(intent.value, state.speed)
            except AssistantError as exc:
                return say(request, "unknown", failure=str(exc))
            state.voice = intent.value
            return say(request, "voice_changed", voice=intent.value)
        if intent.setting == "language" and intent.value in ("en", "ko"):
            state.reply_language = intent.value
            return Outcome((request.reply(message("language_changed", intent.value), intent.value),))
        return say(request, "unknown")


def translate_on(request: Request) -> Outcome:
    request.state.translate = True
    return say(request, "translate_on")


def translate_off(request: Request) -> Outcome:
    request.state.translate = False
    return say(request, "translate_off")


def say_text(request: Request) -> Outcome:
    prompt = request.intent.prompt
    if not prompt:
        return say(request, "unknown")
    return Outcome((request.reply(prompt, language_of(prompt, request.language)),))


def repeat(request: Request) -> Outcome:
    state = request.state
    if not state.last_reply:
        return say(request, "unknown")
    return Outcome((request.reply(state.last_reply, state.last_reply_language),))


def language_of(text: str, default: str) -> str:
    """Hangul -> "ko", else ``default``."""
    return "ko" if any("\uac00" <= ch <= "\ud7a3" for ch in text) else default
