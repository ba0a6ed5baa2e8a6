"""The transcriber's language prior is the session's own last heard language."""
from __future__ import annotations

import asyncio

from assistant.config import load_config, with_overrides
from assistant.loop import Assistant

from .fakes import EventSource, engines

UNIFORM = {"en": 0.5, "ko": 0.5}


def priors(cfg, texts):
    eng = engines(texts)
    asyncio.run(Assistant(cfg, eng, turn_based=True).run(lambda: EventSource(len(texts))))
    return [call["prior"] for call in eng.transcriber.calls]


def test_the_last_heard_language_leads_the_prior():
    got = priors(load_config(), [("천천히 말해줘", "ko"), ("help", "en"), ("help", "en")])
    assert got[0] == UNIFORM
    assert got[1]["ko"] > got[1]["en"] and got[2]["en"] > got[2]["ko"]


def test_weight_zero_is_uniform():
    cfg = with_overrides(load_config(), stt={"last_language_weight": 0.0})
    assert priors(cfg, [("천천히 말해줘", "ko"), ("help", "en")]) == [UNIFORM, UNIFORM]


def test_another_session_starts_uniform():
    eng = engines([("천천히 말해줘", "ko"), ("help", "en")])

    async def go():
        assistant = Assistant(load_config(), eng)
        await (await assistant.handle_utterance([0] * 10)).finished()
        await (await assistant.handle_utterance([1] * 10, session="web")).finished()
        await (await assistant.handle_utterance([1] * 10)).finished()
        assistant.stop()

    asyncio.run(go())
    got = [call["prior"] for call in eng.transcriber.calls]
    assert got[0] == UNIFORM and got[1] == UNIFORM and got[2]["ko"] > got[2]["en"]
