"""Time and date, spoken (pure): "What time is it?" -> "It's 9:05 PM." / "지금은 오후 9시 5분이에요."."""
from __future__ import annotations

from datetime import datetime

from .messages import message

_KO_DAYS = "월화수목금토일"


def spoken_time(when: datetime, language: str) -> str:
    if language == "ko":
        part = "오전" if when.hour < 12 else "오후"
        hour = when.hour % 12 or 12
        return f"{part} {hour}시" + (f" {when.minute}분" if when.minute else "")
    hour = when.hour % 12 or 12
    return f"{hour}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"


def spoken_date(when: datetime, language: str) -> str:
    if language == "ko":
        return f"{when.year}년 {when.month}월 {when.day}일 {_KO_DAYS[when.weekday()]}요일"
    return f"{when:%A}, {when:%B} {when.day}, {when.year}"


def answer(what: str, language: str, now: datetime) -> str:
    """``what``: "time" or "date" (the router's value)."""
    if what == "date":
        return message("clock_date", language, date=spoken_date(now, language))
    return message("clock_time", language, time=spoken_time(now, language))
