"""The hearing rules, pure: is a transcribed utterance a command, something to ignore, or a
barge-in? Beside the router (which decides *what* a command is), the gate decides *whether* it is
one, from the text, the session's state and the kind of input.

- Only an echo of the assistant's own reply is ignored, and only where the input can hear the
  output (a live microphone with a real speaker). File/stdin input, typed text or no output
  device: nothing is an echo.
- A command spoken while the assistant talks is a barge-in: playback stops and it is handled.
- Empty text and lone hesitations ("uh", "음") are ignored.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from enum import Enum

from .router.route import is_filler, is_stop

ECHO_SIMILARITY = 0.8
ECHO_MIN_COVER = 0.6  # an echo repeats most of the reply


class Verdict(str, Enum):
    ACCEPT = "accept"
    IGNORE = "ignore"
    BARGE_IN = "barge-in"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Hearing:
    """What the gate knows besides the text."""

    speaking: bool = False  # a reply of this session is being spoken right now
    hears_itself: bool = False  # the input can pick up the output (live microphone + real speaker)
    last_reply: str = ""  # the reply being spoken, or the last one
    reply_age: float = math.inf  # seconds since the last reply ended (0 while speaking)
    echo_window_s: float = 3.0


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""
    stop_only: bool = False  # a barge-in that only asks to stop: nothing else to answer


ACCEPT = Decision(Verdict.ACCEPT)


def decide(text: str, hearing: Hearing) -> Decision:
    text = text.strip()
    if not text:
        return Decision(Verdict.IGNORE, "no speech")
    if hearing.hears_itself and is_echo(text, hearing):
        return Decision(Verdict.IGNORE, "echo of the assistant's own reply")
    if is_filler(text):
        return Decision(Verdict.IGNORE, "only a hesitation")
    if hearing.speaking:
        if is_stop(text):
            return Decision(Verdict.BARGE_IN, "barge-in: playback stopped", stop_only=True)
        return Decision(Verdict.BARGE_IN, "barge-in")
    return ACCEPT


def is_echo(text: str, hearing: Hearing) -> bool:
    """Does ``text`` repeat most of the reply being spoken (or just spoken)?"""
    if not hearing.last_reply or (not hearing.speaking and hearing.reply_age > hearing.echo_window_s):
        return False
    a, b = normalize(text), normalize(hearing.last_reply)
    if hearing.speaking and a:
        return _covered_by(a.split(), b.split()) >= ECHO_SIMILARITY  # any part of the reply, live
    if not a or len(a) < ECHO_MIN_COVER * len(b):
        return False  # a short command that merely appears inside the reply is not an echo
    return a in b or difflib.SequenceMatcher(None, a, b).ratio() >= ECHO_SIMILARITY


def _covered_by(words: list[str], reply: list[str]) -> float:
    """The share of ``words`` found in ``reply`` in runs of two words or more (in order)."""
    if len(words) < 2:
        return 0.0
    blocks = difflib.SequenceMatcher(None, words, reply, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= 2) / len(words)


def wake_accepts(heard_wake_word: bool, since_last_accepted: float, follow_up_s: float) -> bool:
    """With a wake word: the utterance follows it, or comes within the follow-up window."""
    return heard_wake_word or since_last_accepted <= follow_up_s


def normalize(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).strip()
