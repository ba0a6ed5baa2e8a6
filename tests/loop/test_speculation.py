"""Speculative transcription: started at the pause, kept when the cut utterance has its edges."""
from __future__ import annotations

import asyncio

import numpy as np

from assistant.config import load_config
from assistant.events import SpeechPaused, Utterance
from assistant.loop import Assistant, CutSource

from .fakes import engines


def utterance(index: int, end: float) -> Utterance:
    return Utterance(0.5, end, np.array([index] * 10, np.int16), 16000, 0.2)


class PauseSource(CutSource):
    """A pause (SpeechPaused) and, a moment later, the utterance the hangover cuts."""

    def __init__(self, paused: Utterance, final: Utterance):
        self.paused, self.final = paused, final

    async def events(self):
        yield SpeechPaused(self.paused)
        await asyncio.sleep(0.05)  # the hangover
        yield self.final


def run(source, *, turn_based=False):
    eng = engines([("help", "en"), ("speak slower", "en")])
    assistant = Assistant(load_config(), eng, turn_based=turn_based)
    turns = asyncio.run(assistant.run(lambda: source))
    return eng, assistant, turns


def test_a_confirmed_pause_is_transcribed_once():
    eng, assistant, turns = run(PauseSource(utterance(0, 1.5), utterance(0, 1.5)))
    assert [c["text"] for c in eng.transcriber.calls] == ["help"]
    assert assistant.speculated == [1, 0]
    assert turns[0].text == "help" and turns[0].intent == "help"


def test_speech_that_went_on_is_transcribed_again():
    eng, assistant, turns = run(PauseSource(utterance(0, 1.0), utterance(1, 1.5)))
    assert [c["text"] for c in eng.transcriber.calls] == ["help", "speak slower"]
    assert assistant.speculated == [0, 1]
    assert turns[0].text == "speak slower"


def test_no_speculation_on_file_input_faster_than_real_time():
    eng, assistant, _turns = run(PauseSource(utterance(0, 1.5), utterance(0, 1.5)), turn_based=True)
    assert len(eng.transcriber.calls) == 1 and assistant.speculated == [0, 0]
