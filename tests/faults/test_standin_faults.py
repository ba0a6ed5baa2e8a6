"""The stand-in's fault injection: each kind reaches the client as described, per operation,
and requests are still validated first (an invalid request never consumes a fault)."""
from __future__ import annotations

import http.client
import json


import openai
import pytest
from openai import OpenAI

from tests.standin import ERROR_STATUSES, FAULT_KINDS, OPERATIONS, kinds_for, speech_bytes


@pytest.fixture
def client(srv):
    srv.reset()
    yield OpenAI(api_key="sk-test", base_url=srv.base_url, max_retries=0, timeout=5)
    assert srv.violations == [], srv.violations


def _raw(srv, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", int(srv.origin.rsplit(":", 1)[1]), timeout=5)
    conn.request("POST", "/v1" + path, json.dumps(body), {"Authorization": "Bearer sk-test",
                                                          "Content-Type": "application/json"})
    return conn.getresponse()


SPEECH = {"model": "tts-1", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}


def test_kinds_cover_the_issue():
    assert {"html", "json", "empty", "random", "truncated", "reset", "trickle"} <= set(FAULT_KINDS)
    assert set(ERROR_STATUSES) == {400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504}
    assert "notimage" in kinds_for("generate") and "notimage" not in kinds_for("speech")
    assert set(OPERATIONS) == {"speech", "transcription", "translation", "chat", "generate", "edit", "variation"}


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_every_status(client, srv, status):
    srv.fault("speech", status, retry_after=2)
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.speech.create(**SPEECH)
    assert info.value.status_code == status
    assert info.value.body["code"] is not None or status in (400, 409, 422, 500, 502, 503, 504)
    if status == 429:
        assert info.value.response.headers["retry-after"] == "2"
    client.audio.speech.create(**SPEECH)   # consumed: the next request is fine


def test_garbage_bodies(client, srv):
    srv.fault("speech", "html")
    assert client.audio.speech.create(**SPEECH).content.startswith(b"<html>")
    srv.fault("speech", "empty")
    assert client.audio.speech.create(**SPEECH).content == b""
    srv.fault("speech", "json")
    assert json.loads(client.audio.speech.create(**SPEECH).content) == {"status": "ok", "result": None}
    srv.fault("speech", "random", size=100)
    assert len(client.audio.speech.create(**SPEECH).content) == 100
    srv.fault("generate", "notimage")
    out = client.images.generate(model="gpt-image-1", prompt="a cat")
    assert out.data[0].b64_json
    srv.fault("transcription", "badjson")
    with pytest.raises(Exception):
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", speech_bytes("wav", 0.3), "audio/wav"))


def test_truncated_body_is_a_protocol_error(client, srv):
    srv.fault("speech", "truncated")
    with pytest.raises(Exception) as info:
        client.audio.speech.create(**SPEECH).content
    assert "peer closed" in str(info.value.__cause__ or info.value)


def test_reset_is_a_connection_error(client, srv):
    srv.fault("chat", "reset")
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


def test_trickle_delivers_the_whole_answer_slowly(client, srv):
    srv.fault("speech", "trickle", piece=4096, every=0.001)
    assert client.audio.speech.create(**SPEECH).content == speech_bytes("wav", 0.3 + 0.04 * len(SPEECH["input"]))


def test_invalid_request_does_not_consume_a_fault(srv):
    srv.reset()
    srv.fault("speech", 500)
    bad = _raw(srv, "/audio/speech", {**SPEECH, "voice": 7})
    assert bad.status == 400
    assert _raw(srv, "/audio/speech", SPEECH).status == 500
    assert _raw(srv, "/audio/speech", SPEECH).status == 200
    srv.reset()


def test_unknown_fault_or_operation_is_refused(srv):
    with pytest.raises(ValueError):
        srv.fault("speech", "gremlins")
    with pytest.raises(ValueError):
        srv.fault("moderation", 500)
