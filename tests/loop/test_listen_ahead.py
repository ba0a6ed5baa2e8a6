"""Listening ahead (stt.early_evidence_s): while an utterance goes on, the engine is given what was
said so far, one at a time, never on file input or while a turn is handled; what it gets is always
the start of the utterance it transcribes at the end."""
from __future__ import annotations

import asyncio

import numpy as np

from assistant.config import load_config, with_overrides
from assistant.engines import Engines
from assistant.loop import Assistant
from tests.audio.speech import int16, voice, white

from .fakes import FakeSpeaker, FakeSynthesizer, FakeTranscript
from .test_end_early import PacedFrames


class Recording:
    """Hears "help"; keeps every utterance so far it was given and every utterance it transcribed."""

    def __init__(self):
        self.ahead: list[np.ndarray] = []
        self.heard: list[np.ndarray] = []

    def transcribe(self, audio, **_kw):
        self.heard.append(np.array(audio))
        return FakeTranscript("help", "en")

    def listen_ahead(self, pcm):
        self.ahead.append(np.array(pcm))


class Paced(PacedFrames):
    """... and a pass of listening ahead is let finish too (an engine much faster than speech), so
    how many passes an utterance gets does not depend on the machine's speed."""

    async def frames(self):
        async for frame in super().frames():
            yield frame
            running = self.assistant._ahead
            if running is not None and not running.done():
                await asyncio.wait([running])


def stream(*seconds: float) -> np.ndarray:
    parts = [np.zeros(16000)]
    for s in seconds:
        parts += [voice(s), np.zeros(24000)]
    x = np.concatenate(parts)
    return int16(x + white(len(x) / 16000, 30.0, seed=1))


def run(pcm: np.ndarray, *, turn_based: bool = False, **stt):
    cfg = with_overrides(load_config(), stt=stt) if stt else load_config()
    transcriber = Recording()
    assistant = Assistant(cfg, Engines(transcriber, FakeSynthesizer(), FakeSpeaker(), None), hears_itself=False,
                          turn_based=turn_based)
    source = Paced(pcm)
    source.assistant = assistant
    turns = asyncio.run(assistant.run(lambda: source))
    return assistant, turns, transcriber


def test_a_long_utterance_is_given_ahead_as_it_grows_each_time_the_start_of_the_one_heard():
    assistant, turns, stt = run(stream(3.0))
    assert [t.text for t in turns] == ["help"] and len(stt.heard) == 1
    final = stt.heard[0]
    lengths = [len(a) for a in stt.ahead]
    assert len(lengths) >= 2 and lengths == sorted(lengths) and lengths[-1] < len(final)
    assert lengths[1] - lengths[0] >= 0.45 * 16000  # speech 1.0 s, then 1.5 s: grown by half, not every frame
    assert all(np.array_equal(final[: len(a)], a) for a in stt.ahead)
    assert assistant.listened_ahead == len(stt.ahead)


def test_short_utterances_and_the_switch_off_give_nothing_ahead():
    _a, turns, stt = run(stream(0.6, 0.7))
    assert len(turns) == 2 and stt.ahead == []
    _a, turns, stt = run(stream(3.0), early_evidence_s=0.0)
    assert len(turns) == 1 and stt.ahead == []


def test_nothing_ahead_on_file_input_faster_than_real_time():
    _a, turns, stt = run(stream(3.0), turn_based=True)
    assert len(turns) == 1 and stt.ahead == []


def test_a_failing_listen_ahead_changes_nothing():
    class Failing(Recording):
        def listen_ahead(self, pcm):
            super().listen_ahead(pcm)
            raise RuntimeError("no model")

    cfg = load_config()
    transcriber = Failing()
    assistant = Assistant(cfg, Engines(transcriber, FakeSynthesizer(), FakeSpeaker(), None), hears_itself=False)
    source = Paced(stream(3.0))
    source.assistant = assistant
    turns = asyncio.run(assistant.run(lambda: source))
    assert [(t.text, t.result) for t in turns] == [("help", "done")] and transcriber.ahead
