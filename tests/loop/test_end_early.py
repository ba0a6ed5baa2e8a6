"""Ending a turn early (vad.end_early): a speculative transcript that is a complete command cuts
the utterance without the rest of the hangover; the turn is the same as after the hangover."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from assistant.audio.format import split_frames
from assistant.config import load_config, with_overrides
from assistant.engines import Engines
from assistant.loop import Assistant
from tests.audio.speech import int16, voice, white

from .fakes import FakeSpeaker, FakeSynthesizer


class ByLength:
    """Hears ``texts[k]`` in an utterance of about ``seconds[k]`` (the closest)."""

    def __init__(self, heard: list[tuple[float, str]]):
        self.heard = heard
        self.calls: list[float] = []

    def transcribe(self, audio, *, task="transcribe", language=None, prompt=None, want_timestamps=False, prior=None):
        from tests.loop.fakes import FakeTranscript

        seconds = len(audio) / 16000
        self.calls.append(seconds)
        return FakeTranscript(min(self.heard, key=lambda h: abs(h[0] - seconds))[1], "en")

    def listen_ahead(self, pcm):
        pass


class PacedFrames:
    """The stream as 30 ms frames; after each frame, a speculation in progress is let finish (a
    transcriber much faster than the hangover), so whether a turn ends early does not depend on
    the machine's speed."""

    def __init__(self, pcm: np.ndarray):
        self.pcm = pcm
        self.assistant: Assistant | None = None

    async def frames(self):
        for frame in split_frames(self.pcm):
            yield frame
            running = self.assistant._speculating
            if running is not None and not running.done():
                await asyncio.wait([running])
            for _ in range(3):
                await asyncio.sleep(0)


def stream(*parts: np.ndarray) -> np.ndarray:
    x = np.concatenate([np.zeros(16000), *parts, np.zeros(24000)])
    return int16(x + white(len(x) / 16000, 30.0, seed=1))


def run(pcm: np.ndarray, heard: list[tuple[float, str]], *, end_early: bool):
    cfg = with_overrides(load_config(), vad={"end_early": end_early})
    transcriber = ByLength(heard)
    assistant = Assistant(cfg, Engines(transcriber, FakeSynthesizer(), FakeSpeaker(), None), hears_itself=False)
    source = PacedFrames(pcm)
    source.assistant = assistant
    turns = asyncio.run(assistant.run(lambda: source))
    return assistant, turns, transcriber


@pytest.mark.parametrize("end_early", [True, False])
def test_a_complete_command_is_one_turn_with_the_same_text_either_way(end_early):
    assistant, turns, transcriber = run(stream(voice(0.8)), [(1.0, "what time is it")], end_early=end_early)
    assert [(t.text, t.intent) for t in turns] == [("what time is it", "clock")]
    assert assistant.ended_early == (1 if end_early else 0)
    assert assistant.speculated == [1, 0] and len(transcriber.calls) == 1  # transcribed once


def test_a_sentence_that_is_no_command_waits_for_the_hangover():
    assistant, turns, _ = run(stream(voice(0.8)), [(1.0, "turn on the living room lamp")], end_early=True)
    assert [t.text for t in turns] == ["turn on the living room lamp"] and assistant.ended_early == 0


def test_speech_that_resumes_after_an_early_end_is_the_next_utterance():
    """A pause longer than the speculation's wait but shorter than the hangover: ended early, the
    rest is its own turn, in spoken order; without the early end the two are one utterance."""
    pcm = stream(voice(0.8), np.zeros(int(0.25 * 16000)), voice(1.6))
    heard = [(1.2, "what time is it"), (3.0, "what time is it in Seoul")]
    assistant, turns, calls = run(pcm, heard + [(2.0, "in Seoul")], end_early=True)
    assert assistant.ended_early == 1, calls.calls
    assert [t.text for t in turns] == ["what time is it", "in Seoul"]
    assert turns[0].end < turns[1].start
    _, turns, _ = run(pcm, heard, end_early=False)
    assert [t.text for t in turns] == ["what time is it in Seoul"]
