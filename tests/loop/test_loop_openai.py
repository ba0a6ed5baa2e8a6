"""The loop on the openai backends against the strict stand-in: a spoken "draw …" leaves a valid
PNG and a spoken reply; injected faults (429, 500, hang, content policy, 401) never crash the
loop and every utterance ends in the history as done, failed or ignored."""
from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from PIL import Image

from assistant.audio.playback import NullSpeaker
from assistant.config import load_config, with_overrides
from assistant.engines import build_engines
from assistant.history import HistoryWriter
from assistant.loop import Assistant, CutSource
from assistant.events import Utterance
from tests.standin import Reply, StandIn

FAST_RETRY = {"retry-after-ms": "10"}


class SpeechLike(CutSource):
    """``count`` utterances of quiet noise (the stand-in answers the transcript we script)."""

    def __init__(self, count: int):
        self.count = count

    async def events(self):
        rng = np.random.default_rng(0)
        for i in range(self.count):
            audio = (rng.standard_normal(16000) * 300).astype(np.int16)
            yield Utterance(2.0 * i + 0.5, 2.0 * i + 1.5, audio, 16000, 2.0 * i + 0.2)


@pytest.fixture
def srv(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loop-0123456789")
    with StandIn() as server:
        yield server


def config(srv, tmp_path, **images):
    service = {"base_url": srv.base_url, "timeout": 2.0, "max_retries": 2}
    return with_overrides(
        load_config(),
        stt={**service, "backend": "openai"},
        tts={**service, "backend": "openai"},
        images={**service, "backend": "openai", "output_dir": str(tmp_path / "images"), **images},
        service={"fallback_local": False},
    )


def transcripts(srv, *texts):
    srv.script("/audio/transcriptions", [Reply(json={"text": t}) for t in texts])


def run(cfg, count, tmp_path):
    history = tmp_path / "history.jsonl"
    engines = build_engines(cfg, speaker=NullSpeaker())
    assistant = Assistant(cfg, engines, history=HistoryWriter([history]), turn_based=True, output_dir=tmp_path)
    turns = asyncio.run(assistant.run(lambda: SpeechLike(count)))
    records = [json.loads(line) for line in history.read_text().splitlines()]
    return turns, records


def spoken_texts(srv):
    return [r.params["input"] for r in srv.requests if r.endpoint == "/audio/speech"]


def test_spoken_draw_saves_png_and_answers(srv, tmp_path):
    transcripts(srv, "Please draw a red fox in the snow.")
    turns, records = run(config(srv, tmp_path), 1, tmp_path)
    assert srv.violations == []
    assert turns[0].intent == "draw" and turns[0].result == "done", turns[0]
    png = turns[0].files[0]
    with Image.open(png) as im:
        im.verify()
    said = spoken_texts(srv)
    assert len(said) == 2 and "fox" in said[0].lower() and png.rsplit("/", 1)[-1] in said[1]
    generate = next(r for r in srv.requests if r.endpoint == "/images/generations")
    assert generate.params["model"] == "gpt-image-2" and "red fox" in generate.params["prompt"]
    assert records[0]["files"] == [png]
    assert len(list(tmp_path.glob("reply-*.wav"))) == 2


def test_transient_errors_are_retried(srv, tmp_path):
    srv.script("/audio/transcriptions", [
        Reply(status=429, json={"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}, headers=FAST_RETRY),
        Reply(status=429, json={"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}, headers=FAST_RETRY),
        Reply(json={"text": "speak slower"}),
    ])
    turns, records = run(config(srv, tmp_path), 1, tmp_path)
    assert turns[0].intent == "setting" and turns[0].result == "done"
    assert sum(r.endpoint == "/audio/transcriptions" for r in srv.requests) == 3
    assert srv.violations == []


def test_faults_never_crash_and_every_utterance_is_accounted_for(srv, tmp_path):
    err500 = Reply(status=500, json={"error": {"message": "boom", "type": "server_error"}}, headers=FAST_RETRY)
    srv.script("/audio/transcriptions", [
        err500, err500, err500,                      # 1: fails after the retries
        Reply(json={"text": "x"}, delay=5.0),        # 2: hangs past the timeout ...
        Reply(json={"text": "x"}, delay=5.0),
        Reply(json={"text": "x"}, delay=5.0),
        Reply(json={"text": "draw a violent scene"}),  # 3: refused by content policy
        Reply(json={"text": "draw a cat"}),          # 4: key rejected
        Reply(json={"text": "draw a dog"}),          # 5: key rejected again: said only once
        Reply(json={"text": "help"}),                # 6: still fine afterwards
    ])
    policy = {"error": {"message": "Your request was rejected by the safety system.", "type": "invalid_request_error",
                        "code": "content_policy_violation", "param": None}}
    unauthorized = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}}
    srv.script("/images/generations", [Reply(status=400, json=policy), Reply(status=401, json=unauthorized),
                                       Reply(status=401, json=unauthorized)])
    # one image job at a time: the stand-in answers the scripted replies in request order
    cfg = with_overrides(config(srv, tmp_path), stt={"timeout": 0.5, "max_retries": 2}, images={"max_jobs": 1})
    turns, records = run(cfg, 6, tmp_path)
    assert len(records) == 6 and [r["turn"] for r in sorted(records, key=lambda r: r["turn"])] == [1, 2, 3, 4, 5, 6]
    by_turn = {r["turn"]: r for r in records}
    assert by_turn[1]["result"] == "failed" and "500" in by_turn[1]["reason"]
    assert by_turn[2]["result"] == "failed" and "time" in by_turn[2]["reason"].lower()
    assert by_turn[3]["result"] == "failed" and "policy" in by_turn[3]["reason"]
    assert by_turn[4]["result"] == "failed" and by_turn[5]["result"] == "failed"
    assert by_turn[6]["result"] == "done" and by_turn[6]["intent"] == "help"
    said = " | ".join(spoken_texts(srv)).lower()
    assert "policy" in said or "safety" in said or "refused" in said
    assert said.count("key was rejected") == 1, said
    assert srv.violations == []


def test_unreachable_api_falls_back_to_local_speech_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loop-0123456789")
    dead = "http://127.0.0.1:9/v1"  # discard port: connection refused
    cfg = with_overrides(
        load_config(),
        tts={"backend": "openai", "base_url": dead, "timeout": 1.0, "max_retries": 0},
        stt={"backend": "openai", "base_url": dead, "timeout": 1.0, "max_retries": 0},
        service={"fallback_local": True},
    )
    notes: list[str] = []
    engines = build_engines(cfg, speaker=NullSpeaker(), on_fallback=notes.append)
    chunks = list(engines.synthesizer.synthesize("Hello there.", voice="alloy"))
    assert chunks and sum(len(c) for c in chunks) > 1000
    assert notes == ["speech"]


def test_fallback_is_announced_once_through_the_loop(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loop-0123456789")
    from tests.loop.fakes import FakeTranscriber, EventSource

    dead = "http://127.0.0.1:9/v1"
    cfg = with_overrides(load_config(), tts={"backend": "openai", "base_url": dead, "timeout": 1.0, "max_retries": 0},
                         service={"fallback_local": True})
    holder = {}
    engines = build_engines(cfg, speaker=NullSpeaker(), on_fallback=lambda w: holder["a"].fallback_notice(w))
    engines.transcriber = FakeTranscriber([("help", "en"), ("speak slower", "en")])
    assistant = holder["a"] = Assistant(cfg, engines, turn_based=True)
    turns = asyncio.run(assistant.run(lambda: EventSource(2)))
    assert [t.result for t in turns] == ["done", "done"]
    assert assistant.state.last_reply.startswith("Okay")  # the second turn's reply was spoken last
    assert assistant._fallbacks_said == {"speech"}


def test_rejected_key_on_speech_recognition_is_said_once(srv, tmp_path):
    unauthorized = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}}
    srv.script("/audio/transcriptions", [Reply(status=401, json=unauthorized), Reply(status=401, json=unauthorized)])
    turns, records = run(config(srv, tmp_path), 2, tmp_path)
    assert [r["result"] for r in records] == ["failed", "failed"]
    assert sum("key was rejected" in t.lower() for t in spoken_texts(srv)) == 1
