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
