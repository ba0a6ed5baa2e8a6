"""Skills without the loop: intent in, replies out, state changed."""
from __future__ import annotations

import pytest

from assistant.errors import UserError
from assistant.history import Turn
from assistant.router.route import route
from assistant.skills.dispatch import Skills
from assistant.skills.state import SessionState


class NoJobs:
    def submit(self, *a):  # pragma: no cover - image kinds are not used here
        raise AssertionError("no jobs expected")

    def cancel_all(self):
        self.cancelled = True


def voices(voice, speed):
    if voice not in ("alloy", "onyx", "nova"):
        raise UserError(f"unknown voice {voice}")


@pytest.fixture
def skills():
    return Skills(SessionState(voice="alloy", speed=1.0), NoJobs(), voices)


def handle(skills, text):
    intent = route(text)
    replies, job = skills.handle(intent, Turn(1, 0.0, 1.0, 0.3), intent.language)
    assert not job
    return replies


def test_settings_change_state_and_answer_in_the_spoken_language(skills):
    (reply,) = handle(skills, "천천히 말해줘")
    assert skills.state.speed == 0.75 and reply.language == "ko"
    handle(skills, "use the onyx voice")
    assert skills.state.voice == "onyx"
    (reply,) = handle(skills, "answer in Korean")
    assert skills.state.reply_language == "ko" and reply.language == "ko"


def test_unknown_voice_keeps_the_old_one(skills):
    handle(skills, "switch to shimmer")
    assert skills.state.voice == "alloy"


def test_translate_mode_say_repeat_stop(skills):
    handle(skills, "translate what I say")
    assert skills.state.translate
    handle(skills, "stop translating")
    assert not skills.state.translate
    (reply,) = handle(skills, "say 안녕하세요")
    assert reply.text == "안녕하세요" and reply.language == "ko"
    skills.state.last_reply, skills.state.last_reply_language = "hello there", "en"
    (reply,) = handle(skills, "repeat that")
    assert reply.text == "hello there"
    handle(skills, "stop")
    assert skills.jobs.cancelled
