"""Speculative transcription: started at the pause, kept when the cut utterance has its edges."""
from __future__ import annotations

import asyncio
import time

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


class StagedTranscriber:
    """Two stages (as evidence/encode and decode), with ``checkpoint`` between them as the local
    engines have; records which stages ran for which utterance."""

    def __init__(self, texts):
        self.texts, self.stages = texts, []

    def transcribe(self, audio, **_kw):
        from assistant.stt.cancel import checkpoint

        index = int(audio[0])
        for stage in ("encode", "decode"):
            checkpoint()
            self.stages.append((index, stage))
            time.sleep(0.15)  # a stage; well past the 0.03 s before the next event
        text, lang = self.texts[index]
        return type("T", (), {"text": text, "language": lang})()

    def listen_ahead(self, pcm):
        pass


class TwoPausesSource(CutSource):
    """A pause, speech that goes on, a second pause while the first one's transcription runs,
    then the cut (the second pause's edges)."""

    async def events(self):
        yield SpeechPaused(utterance(0, 1.0))
        await asyncio.sleep(0.03)
        yield SpeechPaused(utterance(1, 1.5))
        await asyncio.sleep(0.5)  # the hangover
        yield utterance(1, 1.5)


def run_staged(source):
    eng = engines([("help", "en"), ("speak slower", "en")])
    eng.transcriber = staged = StagedTranscriber(eng.transcriber.texts)
    assistant = Assistant(load_config(), eng)
    return staged, assistant, asyncio.run(assistant.run(lambda: source))


def test_a_stale_speculation_stops_at_its_next_stage_and_the_new_pause_is_transcribed():
    staged, assistant, turns = run_staged(TwoPausesSource())
    assert (0, "decode") not in staged.stages  # the first pause's transcription stopped at its next stage
    assert staged.stages[-2:] == [(1, "encode"), (1, "decode")]
    assert assistant.speculated == [1, 1]  # the second pause's transcription was the turn's
    assert [t.text for t in turns] == ["speak slower"]


class CutWhileStaleSource(CutSource):
    """A pause, then the cut with later edges while that pause's transcription still runs."""

    async def events(self):
        yield SpeechPaused(utterance(0, 1.0))
        await asyncio.sleep(0.03)
        yield utterance(1, 1.5)


def test_a_stale_speculation_stops_when_the_cut_has_other_edges():
    staged, _assistant, turns = run_staged(CutWhileStaleSource())
    assert (0, "decode") not in staged.stages and staged.stages.count((1, "decode")) == 1
    assert [t.text for t in turns] == ["speak slower"]
