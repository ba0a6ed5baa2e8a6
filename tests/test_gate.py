"""The hearing rules without the loop: accept / ignore(reason) / barge-in."""
from __future__ import annotations

import math

import pytest

from assistant.gate import Hearing, Verdict, decide, wake_accepts

REPLY = "Okay, I'm speaking at 0.75 times speed now."
QUIET = Hearing()
LIVE_SPEAKING = Hearing(speaking=True, hears_itself=True, last_reply=REPLY, reply_age=0.0)
FILE_SPEAKING = Hearing(speaking=True, hears_itself=False, last_reply=REPLY, reply_age=0.0)


@pytest.mark.parametrize("text, reason", [("", "no speech"), ("   ", "no speech"), ("Uh.", "hesitation"), ("음...", "hesitation")])
def test_nothing_asked_is_ignored(text, reason):
    d = decide(text, QUIET)
    assert d.verdict is Verdict.IGNORE and reason in d.reason


def test_a_command_is_accepted():
    assert decide("draw a red fox", QUIET).verdict is Verdict.ACCEPT


def test_a_command_while_speaking_is_a_barge_in_not_dropped():
    d = decide("put a hat on the top left", LIVE_SPEAKING)
    assert d.verdict is Verdict.BARGE_IN and not d.stop_only
    d = decide("stop", LIVE_SPEAKING)
    assert d.verdict is Verdict.BARGE_IN and d.stop_only
    assert decide("그만", FILE_SPEAKING).stop_only


def test_only_an_echo_is_ignored_and_only_where_the_input_can_hear_the_output():
    d = decide("speaking at 0.75 times speed", LIVE_SPEAKING)  # part of the reply, heard live
    assert d.verdict is Verdict.IGNORE and "echo" in d.reason
    assert decide("speaking at 0.75 times speed", FILE_SPEAKING).verdict is Verdict.BARGE_IN
    just_after = Hearing(hears_itself=True, last_reply=REPLY, reply_age=1.0)
    assert decide(REPLY, just_after).verdict is Verdict.IGNORE
    long_after = Hearing(hears_itself=True, last_reply=REPLY, reply_age=10.0)
    assert decide(REPLY, long_after).verdict is Verdict.ACCEPT
    assert decide(REPLY, Hearing(last_reply=REPLY, reply_age=1.0)).verdict is Verdict.ACCEPT


def test_a_short_command_inside_the_last_reply_is_not_an_echo():
    h = Hearing(hears_itself=True, last_reply="you can ask me to speak slower or draw things", reply_age=0.5)
    assert decide("speak slower", h).verdict is Verdict.ACCEPT


def test_wake_window():
    assert wake_accepts(True, math.inf, 3.0)
    assert wake_accepts(False, 2.0, 3.0)
    assert not wake_accepts(False, 5.0, 3.0)
