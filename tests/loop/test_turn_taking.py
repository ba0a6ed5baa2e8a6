"""Turn-taking that drops nothing and faults that never silence the loop (fake engines, no
wall-clock assertions): slow transcription, the 30 s backlog, barge-in with file input,
failing history / reply-copy writes, the fallback notice, reload."""
from __future__ import annotations

import asyncio
import json
import threading

import numpy as np

from assistant.config import load_config, with_overrides
from assistant.engines import audio_needs_restart, build_engines
from assistant.events import EventType, Utterance
from assistant.history import HistoryWriter
from assistant.loop import BACKLOG_S, Assistant
from assistant.skills.messages import message

from .fakes import EventSource, FakeImageService, FakeSpeaker, FakeTranscriber, engines


class SlowTranscriber(FakeTranscriber):
    """Blocks every call until ``go`` is set (a CPU-starved machine, without sleeping)."""

    def __init__(self, texts):
        super().__init__(texts)
        self.go = threading.Event()
        self.entered = threading.Event()

    def transcribe(self, audio, **kwargs):
        self.entered.set()
        self.go.wait(10)
        return super().transcribe(audio, **kwargs)


def spoken(eng):
    return [s[0] for s in eng.synthesizer.spoken]


def test_slow_transcription_handles_every_command_in_spoken_order(tmp_path):
    texts = [("draw a red fox", "en"), ("edit it: put a hat on the top left", "en"), ("speak slower", "en"),
             ("help", "en"), ("say hello", "en")]
    image_gate = threading.Event()
    service = FakeImageService(tmp_path, image_gate)
    eng = engines(texts, images=lambda: service)
    eng.transcriber = SlowTranscriber(texts)
    hist = tmp_path / "h.jsonl"
    a = Assistant(load_config(), eng, history=HistoryWriter([hist]), hears_itself=False)  # live pacing, file input
    lines = []
    a.subscribe(lambda e: lines.append(e.data["reason"]) if e.type is EventType.IGNORED else None)

    async def release(i):
        if i == len(texts) - 1:  # everything is queued behind the slow first transcription
            loop = asyncio.get_running_loop()
            loop.call_later(0.01, eng.transcriber.go.set)
            loop.call_later(0.05, image_gate.set)

    turns = asyncio.run(a.run(lambda: EventSource(len(texts), release)))
    assert [t.intent for t in turns] == ["draw", "edit", "setting", "help", "say"]
    assert all(t.result == "done" for t in turns), [(t.result, t.reason) for t in turns]
    assert not lines
    records = [json.loads(line) for line in hist.read_text().splitlines()]
    assert [r["turn"] for r in records] == [1, 2, 3, 4, 5]  # spoken order, though the draw ended last


def test_backlog_past_30_s_is_counted_logged_and_said_once(tmp_path, caplog):
    n = 40  # one-second utterances, all arriving while the first transcription is stuck
    eng = engines([("help", "en")] * n)
    eng.transcriber = SlowTranscriber([("help", "en")] * n)
    a = Assistant(load_config(), eng, hears_itself=False)

    async def release(i):
        if i == 1:  # the first one is being transcribed (out of the queue)
            await asyncio.to_thread(eng.transcriber.entered.wait, 5)
        if i == n - 1:
            asyncio.get_running_loop().call_later(0.01, eng.transcriber.go.set)

    turns = asyncio.run(a.run(lambda: EventSource(n, release)))
    dropped = [t for t in turns if t.result == "ignored"]
    assert a.overflowed == len(dropped) and len(dropped) == n - int(BACKLOG_S) - 1
    assert all("backlog" in t.reason for t in dropped)
    assert sum(t.result == "done" for t in turns) == int(BACKLOG_S) + 1
    said = spoken(eng)
    assert said.count(message("backlog_overflow", "en")) == 1
    assert "backlog" in caplog.text


def test_file_input_is_never_an_echo_and_a_command_over_a_reply_is_handled():
    speaker = FakeSpeaker(block=True)
    eng = engines([("say the quick brown fox jumps", "en"), ("the quick brown fox jumps", "en")], speaker=speaker)

    async def wait_until_speaking(_i):
        await asyncio.to_thread(speaker.started.wait, 5)

    a = Assistant(load_config(), eng, hears_itself=False)
    turns = asyncio.run(a.run(lambda: EventSource(2, wait_until_speaking)))
    assert turns[1].result == "done" and turns[1].reason == "barge-in"


def test_every_ignored_utterance_is_shown_with_its_reason():
    lines = []
    eng = engines([("Uh.", "en"), ("", "en"), ("help", "en")])
    asyncio.run(Assistant(load_config(), eng, turn_based=True, console=lines.append).run(lambda: EventSource(3)))
    assert "(ignored: only a hesitation)" in lines and "(ignored: no speech)" in lines


class FullDisk:
    def __init__(self):
        self.calls = 0

    def write(self, record):
        self.calls += 1
        raise OSError(28, "No space left on device")


def test_a_failing_history_and_reply_copy_never_stop_the_answers(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    eng = engines([("help", "en"), ("speak slower", "en"), ("help", "en")])
    lines = []
    disk = FullDisk()
    a = Assistant(load_config(), eng, turn_based=True, history=disk, output_dir=not_a_dir, console=lines.append)
    turns = asyncio.run(a.run(lambda: EventSource(3)))
    assert [t.result for t in turns] == ["done", "done", "done"] and disk.calls == 3
    said = spoken(eng)
    assert said.count(message("disk_full", "en")) == 1 and len(said) == 4
    assert sum(line.startswith("notice:") for line in lines) == 1


def test_the_fallback_notice_is_said_once_for_both_engines():
    eng = engines([("help", "en")])
    a = Assistant(load_config(), eng, turn_based=True)

    async def both_fall_back(_i):
        pass

    class Source(EventSource):
        async def events(self):
            a.fallback_notice("speech recognition")
            a.fallback_notice("speech")
            await asyncio.sleep(0)
            async for e in super().events():
                yield e

    asyncio.run(a.run(lambda: Source(1)))
    assert spoken(eng).count(message("api_unreachable_local_fallback", "en")) == 1


def test_stop_during_a_stuck_transcription_ends_the_run():
    eng = engines([("help", "en")] * 3)
    eng.transcriber = SlowTranscriber([("help", "en")] * 3)
    a = Assistant(load_config(), eng, hears_itself=False)

    async def main():
        task = asyncio.create_task(a.run(lambda: EventSource(3)))
        await asyncio.sleep(0.05)
        a.stop()
        eng.transcriber.go.set()  # the thread returns late; the loop must not wait for more
        return await task

    turns = asyncio.run(main())
    assert all(t.result != "pending" for t in turns)
    assert sum(t.reason.startswith("shut down") for t in turns) == 2


def test_reload_rebuilds_only_what_changed_and_keeps_the_fallback_notice(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loop-0123456789")
    from assistant.audio.playback import NullSpeaker

    dead = "http://127.0.0.1:9/v1"
    cfg = with_overrides(load_config(), tts={"backend": "openai", "base_url": dead, "timeout": 1.0, "max_retries": 0},
                         service={"fallback_local": True})
    notes: list[str] = []
    first = build_engines(cfg, speaker=NullSpeaker(), on_fallback=notes.append)
    changed = with_overrides(cfg, tts={"speed": 1.25}, audio={"input_device": "usb"})
    second = build_engines(changed, first)
    assert second.transcriber is first.transcriber and second.speaker is first.speaker
    assert second.synthesizer is not first.synthesizer and second.image_service is first.image_service
    assert list(second.synthesizer.synthesize("Hi.", voice="alloy"))
    assert notes == ["speech"]  # the rebuilt engine still reports its fallback
    assert audio_needs_restart(cfg, changed) == ["audio.input_device"]


def test_handle_utterance_rejects_nothing_and_keeps_spoken_order():
    eng = engines([("help", "en"), ("speak slower", "en")])
    a = Assistant(load_config(), eng)

    async def main():
        serving = asyncio.create_task(a.serve())
        t1 = await a.handle_utterance(np.zeros(8000, np.int16))
        t2 = await a.handle_utterance(np.ones(8000, np.int16))
        r1, r2 = await t1.finished(), await t2.finished()
        a.stop()
        await serving
        return r1, r2

    r1, r2 = asyncio.run(main())
    assert (r1["intent"], r2["intent"]) == ("help", "setting")
