"""Retries per operation: 429 honours Retry-After (within the SDK's limits), bad JSON from
transcription is asked for again per max_retries, translation/chat faults are one ApiError."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Config, with_overrides
from assistant.errors import ApiError
from assistant.stt.openai import OpenAITranscriber
from tests.standin import kinds_for

AUDIO = (np.random.default_rng(1).standard_normal(16000) * 500).astype(np.int16)


@pytest.fixture(autouse=True)
def clean(srv, monkeypatch):
    import openai._base_client as base

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    monkeypatch.setattr(base, "INITIAL_RETRY_DELAY", 0.01)
    srv.reset()
    yield
    assert srv.violations == []


def stt(srv, **kw):
    return OpenAITranscriber(with_overrides(Config(), stt={"base_url": srv.base_url, "backend": "openai",
                                                           "timeout": 3.0, "max_retries": 2, **kw}).stt)


def test_429_retry_after_is_honoured(srv, monkeypatch):
    import openai._base_client as base

    slept: list[float] = []
    monkeypatch.setattr(base.time, "sleep", lambda s: slept.append(s))
    srv.fault("transcription", 429, times=2, retry_after=3)
    assert stt(srv).transcribe(AUDIO).text == "hello world"
    assert [s for s in slept if s > 0] == [3.0, 3.0]   # (0: the stand-in thread's own sleeps)


@pytest.mark.parametrize("kind", ["badjson", "json", "html", "empty", "random"])
def test_bad_transcription_answers_are_retried_per_max_retries(srv, kind):
    srv.fault("transcription", kind, times=2)
    assert stt(srv).transcribe(AUDIO).text == "hello world"
    assert sum(r.endpoint == "/audio/transcriptions" for r in srv.requests) == 3
    srv.reset()
    srv.fault("transcription", kind, times=3)
    with pytest.raises(ApiError) as err:
        stt(srv).transcribe(AUDIO)
    assert err.value.code == "bad_response" and "\n" not in str(err.value)


@pytest.mark.parametrize("operation", ["translation", "chat"])
@pytest.mark.parametrize("kind", [k for k in kinds_for("chat") if k != "trickle"])
def test_translation_faults_are_one_api_error(srv, operation, kind):
    """Korean speech translated through /audio/translations (whisper-1) or, for another model,
    transcription + chat; every fault ends as ApiError (or a retry that works), never a crash."""
    model = "whisper-1" if operation == "translation" else "gpt-4o-transcribe"
    srv.fault(operation, kind, times=5)
    engine = stt(srv, max_retries=1, translate_model=model)
    try:
        out = engine.transcribe(AUDIO, task="translate", language="ko")
    except ApiError as exc:
        assert "\n" not in str(exc)
    else:
        assert out.text   # a fault the retry got past is fine too
