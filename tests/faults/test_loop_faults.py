"""The loop through every fault of every operation (issue 17, "What to build"): the stand-in
answers one command with garbage, a cut body, a reset, a trickle or an error status (through
every retry); the invariants in harness.py are checked after each case."""
from __future__ import annotations

import pytest

from tests.faults.harness import COMMANDS, Case, utterance_audio
from tests.standin import kinds_for

AUDIO = utterance_audio()
CASES = [(op, kind) for op in COMMANDS for kind in kinds_for(op)
         if not (kind == "random" and op == "speech")]   # random even-length bytes are valid pcm


@pytest.fixture(autouse=True)
def fast(monkeypatch, srv):
    import openai._base_client as base

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults-0123456789")
    monkeypatch.setattr(base, "INITIAL_RETRY_DELAY", 0.01)   # the SDK's backoff, not the behaviour
    srv.reset()


@pytest.mark.parametrize("operation,kind", [pytest.param(op, kind, id=f"{op}-{kind}") for op, kind in CASES])
def test_loop_survives(srv, tmp_path, operation, kind):
    """Every turn, the faulted one included, ends with something spoken: its answer or why not."""
    case = Case(srv, tmp_path, operation, kind, {"piece": 2048, "every": 0.002}).run(AUDIO)
    case.check()


@pytest.mark.parametrize("kind", [500, "badjson", "reset"])
def test_without_fallback_the_turn_fails_and_the_next_is_answered(srv, tmp_path, kind):
    case = Case(srv, tmp_path, "transcription", kind, fallback=False).run(AUDIO)
    first, second = sorted(case.records, key=lambda r: r["turn"])
    assert first["result"] == "failed" and "speech API" in first["reason"]
    assert any("went wrong" in text for text in case.spoken[0])      # said why, not silent
    assert second["result"] == "done" and case.spoken.get(1)
    transcriptions = [r for r in srv.requests if r.endpoint == "/audio/transcriptions"]
    assert len(transcriptions) == 3    # the fault and its one retry (max_retries = 1), then turn 2


def test_fallback_is_announced_once_and_stays(srv, tmp_path):
    case = Case(srv, tmp_path, "transcription", 503).run(AUDIO)
    case.check()
    assert case.fallbacks == ["speech recognition"]
    assert any("local engine" in text for text in case.spoken[0])


@pytest.mark.parametrize("fallback", [True, False])
def test_a_reply_cut_off_mid_stream_is_followed_by_a_spoken_explanation(srv, tmp_path, fallback):
    """Issue 17, cut-off speech: the voice's stream breaks after some audio was played (every
    time it is asked); the listener is not left with half a sentence and silence. With
    fallback_local the local voice takes over and says so; without it, the local voice still
    says what went wrong; the next turn is answered either way."""
    case = Case(srv, tmp_path, "speech", "truncated", {"piece": 2048}, fallback=fallback).run(AUDIO)
    case.check()
    said = case.spoken[case.fault_turn]
    assert any(("local" if fallback else "went wrong") in text for text in said), said
