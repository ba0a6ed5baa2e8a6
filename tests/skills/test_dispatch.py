"""Skills without the loop: intent in, outcome (replies, failure) out, session state changed."""
from __future__ import annotations

import asyncio

import pytest

from assistant.errors import UserError
from assistant.router.route import route
from assistant.skills.base import Request
from assistant.skills.dispatch import Skills
from assistant.skills.state import SessionState


class NoJobs:
    def handle(self, request):  # pragma: no cover - image kinds are not used here
        raise AssertionError("no jobs expected")

    def cancel_all(self):
        self.cancelled = True


def voices(voice, speed):
    if voice not in ("alloy", "onyx", "nova"):
        raise UserError(f"unknown voice {voice}")


@pytest.fixture
def skills():
    return Skills(NoJobs(), voices)


@pytest.fixture
def state():
    return SessionState(voice="alloy", speed=1.0)


def handle(skills, state, text):
    intent = route(text)
    request = Request(intent, 1, state.reply_language_for(intent.language), state)
    outcome = asyncio.run(skills.handle(request))
    assert outcome.job is None
    return outcome


def test_settings_change_state_and_answer_in_the_spoken_language(skills, state):
    (reply,) = handle(skills, state, "천천히 말해줘").replies
    assert state.speed == 0.75 and reply.language == "ko" and reply.turn == 1
    handle(skills, state, "use the onyx voice")
    assert state.voice == "onyx"
    (reply,) = handle(skills, state, "answer in Korean").replies
    assert state.reply_language == "ko" and reply.language == "ko"


def test_unknown_voice_keeps_the_old_one_and_reports_a_failure(skills, state):
    outcome = handle(skills, state, "switch to shimmer")
    assert state.voice == "alloy"
    assert "shimmer" in outcome.failure and len(outcome.replies) == 1


def test_translate_mode_say_repeat_stop(skills, state):
    handle(skills, state, "translate what I say")
    assert state.translate
    handle(skills, state, "stop translating")
    assert not state.translate
    (reply,) = handle(skills, state, "say 안녕하세요").replies
    assert reply.text == "안녕하세요" and reply.language == "ko"
    state.last_reply, state.last_reply_language = "hello there", "en"
    (reply,) = handle(skills, state, "repeat that").replies
    assert reply.text == "hello there"
    handle(skills, state, "stop")
    assert skills.jobs.cancelled


def test_sessions_keep_their_own_state(skills):
    a, b = SessionState(voice="alloy", speed=1.0), SessionState(voice="alloy", speed=1.0)
    handle(skills, a, "speak slower")
    assert a.speed == 0.75 and b.speed == 1.0


class Pictures(NoJobs):
    """Image jobs that only say whether a picture exists."""

    def __init__(self, has: bool):
        self.has = has

    def has_picture(self, request):
        return self.has


@pytest.mark.parametrize("text, language", [("change all the lights to blue", "en"),
                                            ("모든 불을 파란색으로 바꿔줘", "ko")])
def test_an_edit_naming_no_picture_is_not_an_edit_when_there_is_none(state, text, language):
    intent = route(text, language)
    assert str(intent.kind) == "edit"  # the router alone cannot tell
    request = Request(intent, 1, language, state)
    assert Skills(Pictures(False), voices).kind_for(request) == "unknown"
    assert Skills(Pictures(True), voices).kind_for(request) == "edit"  # with a picture, it may mean it


@pytest.mark.parametrize("text, language", [("make it blue", "en"), ("give her a hat in the top left", "en"),
                                            ("make the background darker", "en"), ("그림을 더 밝게 해줘", "ko"),
                                            ("왼쪽 위를 파란색으로 바꿔줘", "ko")])
def test_an_edit_naming_a_picture_stays_an_edit_without_one(state, text, language):
    intent = route(text, language)
    assert str(intent.kind) == "edit"
    assert Skills(Pictures(False), voices).kind_for(Request(intent, 1, language, state)) == "edit"  # says "no image yet"
