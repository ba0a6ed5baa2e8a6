"""openai backend against the strict stand-in: exact JSON per model, streaming, splitting, errors."""
from __future__ import annotations

import time

import numpy as np
import pytest

from assistant.errors import ApiError, UserError
from assistant.tts.models import MAX_INPUT_CHARS
from assistant.tts.openai import OpenAISynthesizer, pcm_chunks, request_body
from tests.standin import Reply

from .conftest import cfg_for


def speech_requests(srv):
    return [r for r in srv.requests if r.endpoint == "/audio/speech"]


def collect(synth, text, **kw):
    return np.concatenate(list(synth.synthesize(text, **kw)))


@pytest.mark.parametrize("model,voice,speed,instructions,expected", [
    ("tts-1", "nova", 1.0, None,
     {"model": "tts-1", "input": "Hello there.", "voice": "nova", "speed": 1.0, "response_format": "pcm"}),
    ("tts-1-hd", "onyx", 0.7, None,
     {"model": "tts-1-hd", "input": "Hello there.", "voice": "onyx", "speed": 0.7, "response_format": "pcm"}),
    ("gpt-4o-mini-tts", "coral", 1.5, "Speak cheerfully.",
     {"model": "gpt-4o-mini-tts", "input": "Hello there.", "voice": "coral", "speed": 1.5,
      "response_format": "pcm", "instructions": "Speak cheerfully."}),
    ("gpt-4o-mini-tts", "marin", 1.0, None,
     {"model": "gpt-4o-mini-tts", "input": "Hello there.", "voice": "marin", "speed": 1.0, "response_format": "pcm"}),
])
def test_exact_json_per_model(srv, model, voice, speed, instructions, expected):
    synth = OpenAISynthesizer(cfg_for(srv, model=model).tts)
    audio = collect(synth, "Hello there.", voice=voice, speed=speed, instructions=instructions)
    assert srv.violations == []
    (req,) = speech_requests(srv)
    assert req.json == expected
    assert "instructions" not in req.json or model.startswith("gpt-4o")
    assert audio.dtype == np.int16 and len(audio) > 24000 * 0.3  # the stand-in answers >= 0.3 s
    assert synth.sample_rate == 24000


@pytest.mark.parametrize("voice", ["alloy", "echo", "fable", "nova", "onyx", "shimmer"])
def test_six_voices_accepted(srv, voice):
    synth = OpenAISynthesizer(cfg_for(srv, model="tts-1").tts)
    collect(synth, "Hi.", voice=voice)
    assert srv.violations == [] and speech_requests(srv)[0].json["voice"] == voice


@pytest.mark.parametrize("model,voice,speed,instructions,message", [
    ("tts-1", "nova", 1.0, "calm", "tts-1 does not take instructions"),
    ("tts-1-hd", "nova", 1.0, "calm", "tts-1-hd does not take instructions"),
    ("tts-1", "cedar", 1.0, None, "valid voices: alloy"),
    ("gpt-4o-mini-tts", "bob", 1.0, None, "unknown voice 'bob'"),
    ("gpt-4o-mini-tts", "nova", 4.5, None, "speed must be between 0.25 and 4"),
    ("gpt-4o-mini-tts", "nova", 0.2, None, "speed must be between 0.25 and 4"),
])
def test_invalid_combinations_never_sent(srv, model, voice, speed, instructions, message):
    synth = OpenAISynthesizer(cfg_for(srv, model=model).tts)
    with pytest.raises(UserError, match=message):
        list(synth.synthesize("Hello.", voice=voice, speed=speed, instructions=instructions))
    assert srv.requests == []


def test_streaming_yields_first_chunk_before_body_ends(srv):
    pcm = (np.arange(24000 * 2) % 200 - 100).astype("<i2").tobytes()
    pieces = [pcm[i:i + 9601] for i in range(0, len(pcm), 9601)]  # odd sizes: samples straddle chunks
    srv.script("/audio/speech", [Reply(chunks=pieces, chunk_delay=0.15, content_type="audio/pcm")])
    synth = OpenAISynthesizer(cfg_for(srv).tts)
    start = time.monotonic()
    stamps, chunks = [], []
    for chunk in synth.synthesize("Stream me.", voice="alloy"):
        stamps.append(time.monotonic() - start)
        chunks.append(chunk)
    assert len(chunks) >= 3  # consumed piece by piece, not as one body
    assert stamps[0] < stamps[-1] - 0.3  # the first chunk came well before the body ended
    assert np.concatenate(chunks).tobytes() == pcm  # odd-byte remainders carried over exactly


def test_pcm_chunks_keeps_odd_bytes():
    data = np.arange(-50, 50, dtype="<i2").tobytes()
    pieces = [data[:3], data[3:4], data[4:77], data[77:]]
    out = np.concatenate(list(pcm_chunks(iter(pieces))))
    assert out.tolist() == list(range(-50, 50))


def test_long_input_split_at_sentences(srv):
    sentence = "This sentence is part of a very long text for the speech endpoint. "
    text = sentence * (2 * MAX_INPUT_CHARS // len(sentence) + 3)
    synth = OpenAISynthesizer(cfg_for(srv, model="tts-1-hd").tts)
    audio = collect(synth, text, voice="shimmer")
    reqs = speech_requests(srv)
    assert srv.violations == []
    assert len(reqs) == 3
    assert all(len(r.json["input"]) <= MAX_INPUT_CHARS for r in reqs)
    assert all(r.json["input"].endswith("endpoint.") for r in reqs)  # cut at sentence ends
    assert " ".join(r.json["input"] for r in reqs) == text.strip()
    assert len(audio) > 3 * 24000 * 2  # three parts joined


def test_fetch_encoded_format(srv):
    synth = OpenAISynthesizer(cfg_for(srv, model="tts-1").tts)
    data = synth.fetch("Save me.", voice="nova", response_format="mp3")
    (req,) = speech_requests(srv)
    assert req.json["response_format"] == "mp3" and srv.violations == []
    assert data[:2] == b"\xff\xfb"


def test_request_body_rejects_unknown_format():
    with pytest.raises(UserError, match="unknown response format"):
        request_body("tts-1", "hi", "nova", 1.0, "ogg", None)


def test_401_is_one_clear_api_error(srv):
    srv.script("/audio/speech", [Reply(status=401, json={"error": {"message": "Incorrect API key provided: sk-abc***",
                                                                   "type": "invalid_request_error",
                                                                   "code": "invalid_api_key", "param": None}})])
    synth = OpenAISynthesizer(cfg_for(srv).tts)
    with pytest.raises(ApiError, match="the API key was rejected") as info:
        list(synth.synthesize("Hello.", voice="alloy"))
    assert info.value.status == 401 and info.value.exit_code == 1


def test_server_error_message_and_unreachable():
    from assistant.config import TtsConfig

    synth = OpenAISynthesizer(TtsConfig(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2.0))
    with pytest.raises(ApiError, match="cannot reach the speech API"):
        list(synth.synthesize("Hello.", voice="alloy"))


def test_500_carries_api_message(srv):
    srv.script("/audio/speech", [Reply(status=500, json={"error": {"message": "The server had an error",
                                                                   "type": "server_error", "code": None,
                                                                   "param": None}})])
    synth = OpenAISynthesizer(cfg_for(srv).tts)
    with pytest.raises(ApiError, match="500: The server had an error"):
        list(synth.synthesize("Hello.", voice="alloy"))
