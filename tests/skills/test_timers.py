"""Timers and alarms: several by name, listing, cancelling, kept across restarts, ringing."""
from __future__ import annotations

import asyncio
import json

from assistant.skills import timers
from assistant.skills.timers import Timer, TimerBook

from .everyday_kit import Kit


class Wall:
    def __init__(self, t=1_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


class Failed:
    """The outcome seen like the old turn: ``result`` is "failed" when the outcome failed."""

    def __init__(self, outcome):
        self.result = "failed" if outcome.failure else "done"


def say(kit, text):
    reply, outcome = kit.ask(text)
    return reply, Failed(outcome)


def make(tmp_path, wall):
    book = TimerBook(tmp_path / "timers.json", wall=wall)
    return book, Kit(book=book)


def test_several_named_timers_listed_and_cancelled(tmp_path):
    wall = Wall()
    book, skills = make(tmp_path, wall)
    assert say(skills, "Set a pasta timer for 10 minutes")[0] == "Okay, the pasta timer is set for 10 minutes."
    assert "5 minute timer" in say(skills, "set a timer for five minutes")[0]
    assert "eggs" in say(skills, "set a 4 minute timer for the eggs")[0]
    wall.t += 60
    text, _ = say(skills, "what timers do I have")
    assert text == ("You have 3: the eggs timer, 3 minutes left, the 5 minute timer, 4 minutes left, "
                    "the pasta timer, 9 minutes left.")
    assert say(skills, "cancel the pasta timer")[0] == "Okay, I cancelled the pasta timer."
    text, turn = say(skills, "cancel the timer")
    assert text.startswith("Which one?") and turn.result == "failed"
    assert [t.name for t in book.pending()] == ["eggs", "5 minute"]
    assert say(skills, "cancel all timers")[0] == "Okay, I cancelled all 2."
    assert say(skills, "what timers do I have")[0] == "You have no timers or alarms."


def test_korean_timers(tmp_path):
    book, skills = make(tmp_path, Wall())
    assert say(skills, "파스타 타이머 10분 맞춰줘")[0] == "파스타 타이머 맞췄어요: 10분."
    assert "파스타 타이머 10분 남음" in say(skills, "타이머 뭐 있어?")[0]
    assert say(skills, "파스타 타이머 취소해줘")[0] == "파스타 타이머, 취소했어요."
    assert book.pending() == []


def test_unreadable_duration_asks_again(tmp_path):
    book, skills = make(tmp_path, Wall())
    text, turn = say(skills, "set a timer for some minutes")
    assert text.startswith("For how long?") and turn.result == "failed" and book.pending() == []
    text, turn = say(skills, "set an alarm for whenever")
    assert text.startswith("For what time?") and book.pending() == []


def test_alarm_by_clock_time(tmp_path):
    from datetime import datetime

    wall = Wall(datetime(2026, 11, 30, 21, 0).timestamp())
    book, skills = make(tmp_path, wall)
    text, _ = say(skills, "set an alarm for 7:30 am")
    assert text == "Okay, alarm set for 7:30 AM, in 10 hours 30 minutes."
    (alarm,) = book.pending()
    assert alarm.kind == "alarm" and datetime.fromtimestamp(alarm.due) == datetime(2026, 12, 1, 7, 30)
    assert timers.announcement(alarm) == "It's 7:30 AM. This is your alarm."


def test_kept_across_restarts_and_due_ones_ring_at_start(tmp_path):
    wall = Wall()
    book, skills = make(tmp_path, wall)
    say(skills, "set a pasta timer for 10 minutes")
    say(skills, "5분 타이머 맞춰줘")
    saved = json.loads((tmp_path / "timers.json").read_text())
    assert [t["name"] for t in saved["timers"]] == ["pasta", "5분"]
    wall.t += 6 * 60  # "restart" six minutes later: the 5 minute one fell due meanwhile
    again = TimerBook(tmp_path / "timers.json", wall=wall)
    (due,) = again.pop_due()
    assert due.name == "5분" and timers.announcement(due) == "시간이 됐어요! 5분 타이머, 다 됐어요."
    assert [t.name for t in TimerBook(tmp_path / "timers.json", wall=wall).pending()] == ["pasta"]


def test_unreadable_file_is_ignored(tmp_path):
    (tmp_path / "timers.json").write_text("{not json")
    assert TimerBook(tmp_path / "timers.json").pending() == []


def test_ring_announces_each_due_timer_once():
    wall = Wall()
    book = TimerBook(None, wall=wall)
    book.add(Timer("tea", wall.t + 1))
    book.add(Timer("eggs", wall.t + 100))
    heard = []

    async def main():
        task = asyncio.create_task(timers.ring(book, heard.append))
        await asyncio.sleep(0.01)
        assert heard == []
        wall.t += 2
        book.add(Timer("soup", wall.t + 50))  # a change wakes the ringer; tea is due by now
        for _ in range(1000):
            await asyncio.sleep(0.001)
            if heard:
                break
        task.cancel()

    asyncio.run(main())
    assert [t.name for t in heard] == ["tea"] and [t.name for t in book.pending()] == ["soup", "eggs"]
