"""The turn ledger without the loop: outstanding work, results, tickets, timings."""
from __future__ import annotations

import asyncio

from assistant.events import EventType, Reply, TurnEvent
from assistant.turns import Result, TurnLedger


def ledger():
    finished = []
    return TurnLedger(lambda turn, session, record: finished.append((turn.id, session, record)), wall_clock=lambda: 1.0), finished


def test_a_turn_finishes_when_its_replies_and_job_are_done():
    async def main():
        book, finished = ledger()
        ticket = book.open(1.0, 2.0, 0.3, session="kitchen")
        ack = Reply("Drawing…", "en", ticket.id, "ack")
        assert book.reply_queued(ticket.id, ack) is True
        book.hold(ticket.id)  # the job
        book.settle(ticket.id)
        book.reply_done(ticket.id, True)
        assert await ticket.replied() == [ack] and not finished
        assert book.reply_queued(ticket.id, Reply("Ready.", "en", ticket.id)) is False  # said after handling
        book.release(ticket.id)  # the job ended
        assert not finished
        book.reply_done(ticket.id, False)
        record = await ticket.finished()
        assert finished == [(1, "kitchen", record)]
        assert record["result"] == "done" and record["replies"] == ["Drawing…", "Ready."]
        assert book.get(ticket.id) is None and [t.id for t in book.turns] == [1]

    asyncio.run(main())


def test_first_failure_wins_and_results_keep_their_json_names():
    async def main():
        book, finished = ledger()
        ticket = book.open()
        book.fail(ticket.id, "no image backend")
        book.fail(ticket.id, "later")
        book.settle(ticket.id)
        record = await ticket.finished()
        assert record["result"] == "failed" == Result.FAILED and record["reason"] == "no image backend"
        other = book.open()
        book.ignore(other.id, "no speech")
        assert (await other.finished())["result"] == "ignored"
        assert (await other.replied()) == []

    asyncio.run(main())


def test_close_all_fails_open_turns_once():
    async def main():
        book, finished = ledger()
        a, b = book.open(), book.open()
        book.hold(a.id)
        book.close_all("shut down")
        assert [f[2]["result"] for f in finished] == ["failed", "failed"]
        book.release(a.id)  # late: nothing more happens
        assert len(finished) == 2

    asyncio.run(main())


def test_record_fields_and_timings_come_from_events():
    async def main():
        book, _ = ledger()
        ticket = book.open(0.5, 1.5, 0.3)
        for t, type_, data in [(10.0, EventType.HEARD, {}), (10.4, EventType.TRANSCRIBED, {"text": "help", "language": "en"}),
                               (10.5, EventType.ROUTED, {"intent": "help", "slots": {}}), (10.9, EventType.REPLY_AUDIO, {}),
                               (11.5, EventType.REPLY_AUDIO, {})]:
            book.observe(TurnEvent(type_, ticket.id, t, data))
        book.settle(ticket.id)
        record = await ticket.finished()
        assert record["text"] == "help" and record["intent"] == "help"
        assert record["timings"]["stt"] == 0.4 and record["timings"]["eos_to_first_audio"] == 1.2

    asyncio.run(main())
