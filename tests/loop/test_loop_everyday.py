"""Everyday skills through the loop: a due timer rings (tone + words) and louder changes playback."""
from __future__ import annotations

import asyncio
import json
import time

import numpy as np

from assistant.config import load_config
from assistant.loop import Assistant
from assistant.skills import timers

from .fakes import EventSource, engines


class RecordingSpeaker:
    def __init__(self):
        self.clips: list[np.ndarray] = []

    def play(self, chunks, sample_rate):
        self.clips.append(np.concatenate([np.asarray(c) for c in chunks]))
        return True

    def stop(self):
        pass


def test_a_timer_due_while_off_rings_at_start_with_a_tone():
    path = timers.default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"timers": [{"name": "pasta", "due": time.time() - 5, "kind": "timer",
                                            "language": "en"}]}))
    eng = engines([("louder", "en")])
    eng.speaker = RecordingSpeaker()
    asyncio.run(Assistant(load_config(), eng, turn_based=True).run(lambda: EventSource(1)))
    texts = [s[0] for s in eng.synthesizer.spoken]
    assert "Time's up: the pasta timer is done!" in texts and "Okay, volume 125 percent." in texts
    alarm = eng.speaker.clips[texts.index("Time's up: the pasta timer is done!")]
    assert len(alarm) > 16000 * 0.5  # the tone came before the words (3 x 160 samples)
    assert json.loads(path.read_text())["timers"] == []


def test_louder_scales_the_next_reply():
    eng = engines([("louder", "en"), ("what time is it", "en")])
    eng.speaker = RecordingSpeaker()
    asyncio.run(Assistant(load_config(), eng, turn_based=True).run(lambda: EventSource(2)))
    first, second = eng.speaker.clips
    assert first.max() == second.max() == 1250  # the confirmation already at the new volume


class Wake:
    """A wake-word gate that hears the wake word in every frame."""

    def feed(self, frame):
        return True

    def heard_between(self, start, end):
        return True


class Frames:
    def __init__(self, frames):
        self._frames = frames

    async def frames(self):
        for f in self._frames:
            yield f


def test_earcons_heard_and_done_and_off():
    from assistant.config import with_overrides

    eng = engines([("what time is it", "en")])
    eng.speaker = RecordingSpeaker()
    a = Assistant(load_config(), eng, wake_gate=Wake())
    asyncio.run(a.run(lambda: Frames([bytes(960)] * 3)))
    assert len(eng.speaker.clips) == 1  # silence: no turn, only the "heard" tone
    heard = eng.speaker.clips[0]
    assert 0.1 < len(heard) / 16000 < 0.5 and eng.synthesizer.spoken == []
    eng = engines([("what time is it", "en")])
    eng.speaker = RecordingSpeaker()
    asyncio.run(Assistant(with_overrides(load_config(), audio={"earcons": []}), eng,
                          wake_gate=Wake()).run(lambda: Frames([bytes(960)] * 3)))
    assert eng.speaker.clips == []


def test_done_earcon_after_a_live_turn():
    eng = engines([("what time is it", "en"), ("what time is it", "en")])
    eng.speaker = RecordingSpeaker()

    async def pause(_i):  # the first turn is over (reply and tone played) before the next utterance
        for _ in range(500):
            if len(eng.speaker.clips) >= 2:
                return
            await asyncio.sleep(0.01)

    asyncio.run(Assistant(load_config(), eng).run(lambda: EventSource(2, pause)))
    reply, done = eng.speaker.clips[:2]
    assert len(reply) == 480 and 0.1 < len(done) / 16000 < 0.5


def test_cloud_listening_notice(monkeypatch):
    from assistant.cli.run import cloud_listening_notice
    from assistant.config import with_overrides

    assert cloud_listening_notice(load_config(), None) is None  # offline: local STT
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-notice")
    note = cloud_listening_notice(load_config(), None)
    assert "every utterance heard is sent to the OpenAI API" in note and "\n" not in note
    assert cloud_listening_notice(load_config(), "okay_nabu") is None
    assert cloud_listening_notice(with_overrides(load_config(), stt={"backend": "local"}), None) is None
