"""Spoken durations and clock times in English and Korean."""
from __future__ import annotations

from datetime import datetime

import pytest

from assistant.skills.spoken_time import ko_number, parse_clock_time, parse_duration

NOW = datetime(2026, 11, 30, 21, 45)


@pytest.mark.parametrize("text,seconds", [
    ("five minutes", 300), ("10 minutes", 600), ("5-minute", 300), ("an hour and a half", 5400),
    ("half an hour", 1800), ("1 hour 30 minutes", 5400), ("90 seconds", 90), ("twenty five minutes", 1500),
    ("one and a half hours", 5400), ("a minute", 60), ("1.5 hours", 5400), ("2 mins", 120),
    ("an hour and a quarter", 4500), ("1 hour 30", 5400),
    ("5분", 300), ("10 분", 600), ("1시간 반", 5400), ("1시간 30분", 5400), ("삼십 초", 30), ("다섯 시간", 18000),
    ("십오분", 900), ("2분 30초", 150),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "blah", "soon", "조금"])
def test_unreadable_durations(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize("word,n", [("5", 5), ("십오", 15), ("이십", 20), ("열두", 12), ("스물다섯", 25), ("일곱", 7)])
def test_korean_numbers(word, n):
    assert ko_number(word) == n


@pytest.mark.parametrize("text,when", [
    ("7:30 am", datetime(2026, 12, 1, 7, 30)), ("6", datetime(2026, 12, 1, 6, 0)),
    ("10pm", datetime(2026, 11, 30, 22, 0)), ("10:15", datetime(2026, 11, 30, 22, 15)),
    ("seven thirty", datetime(2026, 12, 1, 7, 30)), ("noon", datetime(2026, 12, 1, 12, 0)),
    ("6 in the morning", datetime(2026, 12, 1, 6, 0)), ("tomorrow at 7 pm", datetime(2026, 12, 1, 19, 0)),
    ("7시 30분", datetime(2026, 12, 1, 7, 30)), ("오후 3시 반", datetime(2026, 12, 1, 15, 30)),
    ("내일 아침 7시", datetime(2026, 12, 1, 7, 0)), ("저녁 10시", datetime(2026, 11, 30, 22, 0)),
    ("일곱 시", datetime(2026, 12, 1, 7, 0)),
])
def test_clock_times_are_the_next_such_moment(text, when):
    assert parse_clock_time(text, NOW) == when


def test_unreadable_clock_time():
    assert parse_clock_time("whenever", NOW) is None and parse_clock_time("25:00", NOW) is None
