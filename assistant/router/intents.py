"""What the router returns (``Intent``) and the table rows it is driven by (``Rule``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class IntentKind(str, Enum):
    """What was asked; the value is the JSON name (history, turn events)."""

    DRAW = "draw"
    EDIT = "edit"
    VARIATION = "variation"
    TRANSLATE_ON = "translate_on"
    TRANSLATE_OFF = "translate_off"
    SAY = "say"
    REPEAT = "repeat"
    SETTING = "setting"
    STOP = "stop"
    HELP = "help"
    UNKNOWN = "unknown"
    TRANSLATION = "translation"  # not routed: what the translate skill answers in translate mode
    # everyday skills (issue 16): value = "time"|"date", a duration or clock-time text,
    # "louder"|"quieter"|"normal"; prompt = a timer's name
    CLOCK = "clock"
    TIMER_SET = "timer_set"
    ALARM_SET = "alarm_set"
    TIMER_LIST = "timer_list"
    TIMER_CANCEL = "timer_cancel"
    VOLUME = "volume"
    # picture history: back to the parent, say which is the last, the one made before
    UNDO = "undo"
    SHOW_IMAGE = "show_image"
    PREVIOUS_IMAGE = "previous_image"
    # not routed: the user's own [[sentences]] and the chat model's answers
    SENTENCE = "sentence"
    CHAT = "chat"

    def __str__(self) -> str:
        return self.value


_NOT_ROUTED = (IntentKind.TRANSLATION, IntentKind.SENTENCE, IntentKind.CHAT)
KINDS = tuple(k.value for k in IntentKind if k not in _NOT_ROUTED)  # what the router returns
VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx",
    "sage", "shimmer", "verse", "marin", "cedar",
)
OPTION_KEYS = ("quality", "style", "size")  # order of Intent.options


@dataclass(frozen=True)
class Intent:
    kind: IntentKind  # one of KINDS (a plain string is converted)
    language: str   # "en" | "ko": the language the user spoke
    text: str       # the original text
    prompt: str = ""          # draw/edit: image prompt or edit instruction; say: text to say
    region: str | None = None  # edit: canonical region name (assistant.images.regions)
    options: tuple[tuple[str, str], ...] = ()  # draw: (("quality","high"), ("style","natural"), ("size","wide"))
    setting: str | None = None  # "speed" | "voice" | "language"
    value: str | None = None    # speed: slower|faster|normal; voice: a voice name; language: en|ko;
                                # timers: the spoken duration / clock time; volume: louder|quieter|normal

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", IntentKind(self.kind))

    def option(self, key: str) -> str | None:
        return dict(self.options).get(key)

    def slots(self) -> dict:
        """Non-empty slot fields, JSON-friendly (for history)."""
        out: dict = {}
        for name in ("prompt", "region", "setting", "value"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.options:
            out["options"] = dict(self.options)
        return out


@dataclass(frozen=True)
class Rule:
    """One row of a pattern table.

    ``pattern`` must match the whole (normalized, filler-stripped) utterance. In the tables a
    literal space means "whitespace" (``\\s+`` in English, ``\\s*`` in Korean, where Whisper's
    spacing is unreliable). Named groups: ``p`` = the prompt / text to say, ``v`` = a value
    looked up in the language's value table, ``n`` = a picture noun ("a picture of").
    """

    kind: str
    pattern: str
    setting: str | None = None
    value: str | None = None  # fixed value; otherwise group ``v`` is looked up
    bare: bool = False        # a draw verb without a picture noun: with a spoken region it edits
