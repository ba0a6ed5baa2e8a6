"""One session's mutable state: voice settings, modes, what was said and drawn last."""
from __future__ import annotations

from dataclasses import dataclass

SPEED_STEP = 0.25
SPEED_MIN, SPEED_MAX = 0.5, 2.0


@dataclass
class SessionState:
    voice: str
    speed: float
    reply_language: str = "auto"  # auto = the language the user spoke
    translate: bool = False
    volume: float = 1.0  # playback gain ("louder" / "quieter"), see skills/volume.py
    last_reply: str = ""
    last_reply_language: str = "en"
    last_reply_at: float = float("-inf")
    last_image: str = ""  # the picture this session made last (edits and variations use it)

    def reply_language_for(self, spoken: str) -> str:
        if self.reply_language in ("en", "ko"):
            return self.reply_language
        return spoken if spoken in ("en", "ko") else "en"

    def change_speed(self, how: str) -> float:
        if how == "slower":
            self.speed = max(SPEED_MIN, round(self.speed - SPEED_STEP, 2))
        elif how == "faster":
            self.speed = min(SPEED_MAX, round(self.speed + SPEED_STEP, 2))
        else:
            self.speed = 1.0
        return self.speed
