"""Time and date answers, English and Korean, from a fixed clock (no wall-clock assertions)."""
from __future__ import annotations

from datetime import datetime

from assistant.skills.clock import answer

from .everyday_kit import Kit

NOW = datetime(2026, 11, 30, 21, 5)


def test_time_and_date_in_both_languages():
    assert answer("time", "en", NOW) == "It's 9:05 PM."
    assert answer("time", "ko", NOW) == "지금 시각은 오후 9시 5분입니다."
    assert answer("date", "en", NOW) == "Today is Monday, November 30, 2026."
    assert answer("date", "ko", NOW) == "오늘은 2026년 11월 30일 월요일입니다."
    assert answer("time", "en", datetime(2026, 1, 1, 0, 0)) == "It's 12:00 AM."


def test_spoken_question_to_answer_offline():
    kit = Kit(now=lambda: NOW)
    for text, want in (("What time is it?", "9:05 PM"), ("몇 시야?", "오후 9시 5분"), ("오늘 며칠이야?", "11월 30일")):
        reply, outcome = kit.ask(text)
        assert want in reply and outcome.job is None
