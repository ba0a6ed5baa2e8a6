"""What the router returns (``Intent``) and the table rows it is driven by (``Rule``)."""
from __future__ import annotations

from dataclasses import dataclass

KINDS = (
    "draw", "edit", "variation", "translate_on", "translate_off", "say",
    "repeat", "setting", "stop", "help", "unknown",
    # everyday skills (issue 16): value = "time"|"date", a duration or clock-time text,
    # "louder"|"quieter"|"normal"; prompt = a timer's name
    "clock", "timer_set", "alarm_set", "timer_list", "timer_cancel", "volume",
    # picture history: back to the parent, say which is the last, the one made before
    "undo", "show_image", "previous_image",
)
VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx",
    "sage", "shimmer", "verse", "marin", "cedar",
)
OPTION_KEYS = ("quality", "style", "size")  # order of Intent.options


@dataclass(frozen=True)
class Intent:
    kind: str       # one of KINDS
    language: str   # "en" | "ko": the language the user spoke
    text: str       # the original text
    prompt: str = ""          # draw/edit: image prompt or edit instruction; say: text to say
    region: str | None = None  # edit: canonical region name (assistant.images.regions)
    options: tuple[tuple[str, str], ...] = ()  # draw: (("quality","high"), ("style","natural"), ("size","wide"))
    setting: str | None = None  # "speed" | "voice" | "language"
    value: str | None = None    # speed: slower|faster|normal; voice: a voice name; language: en|ko;
                                # timers: the spoken duration / clock time; volume: louder|quieter|normal

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
