"""The strict OpenAI stand-in: valid SDK calls pass, invalid raw requests are rejected."""
from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
import uuid

import pytest
from openai import OpenAI, RateLimitError
from PIL import Image

from tests import standin
from tests.standin import Reply, StandIn, image_bytes, speech_bytes

WAV = speech_bytes("wav", 0.5)
PNG = image_bytes("256x256")
# the SDK marks translations/variations deprecated; they are still in the spec
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def srv():
    with StandIn() as server:
        yield server


@pytest.fixture
def client(srv):
    srv.reset()
    yield OpenAI(api_key="sk-test", base_url=srv.base_url, max_retries=0)
    assert srv.violations == [], srv.violations


def _check(schema: str, body) -> None:
    assert standin.schema_violations(schema, body) == [], schema


# ---------------------------------------------------------------- valid SDK requests

def test_transcription_verbose_words(client, srv):
    r = client.audio.transcriptions.create(
        model="whisper-1", file=("clip.wav", WAV, "audio/wav"), response_format="verbose_json",
        timestamp_granularities=["word", "segment"], language="en")
    assert r.text == "hello world" and r.language == "english"
    assert [w.word for w in r.words] == ["hello", "world"] and len(r.segments) == 1
    assert r.duration == pytest.approx(0.5)
    rec = srv.requests[-1]
    assert rec.form["timestamp_granularities[]"] == ["word", "segment"]
    assert rec.files["file"] == ("clip.wav", "audio/wav", WAV)
    _check("CreateTranscriptionResponseVerboseJson", r.model_dump(exclude_none=True))


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_transcription_text_formats(client, srv, fmt):
    srv.transcript_text = "good morning"
    try:
        out = client.audio.transcriptions.create(model="whisper-1", response_format=fmt,
                                                 file=("c.mp3", b"\xff\xfb" * 50, "audio/mpeg"))
    finally:
        srv.transcript_text = "hello world"
    assert "good morning" in out
    assert out.startswith({"text": "good", "srt": "1\n00:00:00,000 --> ", "vtt": "WEBVTT"}[fmt])


def test_transcription_gpt4o_json_and_translation(client):
    r = client.audio.transcriptions.create(model="gpt-4o-mini-transcribe",
                                           file=("c.wav", WAV, "audio/wav"), include=["logprobs"])
    assert r.text == "hello world" and r.usage.type == "tokens" and len(r.logprobs) == 2
    t = client.audio.translations.create(model="whisper-1", file=("c.wav", WAV, "audio/wav"))
    assert t.text == "hello world"


def test_transcription_diarize_nested_form_and_stream(client, srv):
    r = client.audio.transcriptions.create(
        model="gpt-4o-transcribe-diarize", file=("c.wav", WAV, "audio/wav"),
        response_format="diarized_json",
        chunking_strategy={"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 300})
    assert r.segments[0].speaker == "A"
    assert srv.requests[-1].params["chunking_strategy"] == {
        "type": "server_vad", "threshold": 0.5, "silence_duration_ms": 300}
    events = list(client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("c.wav", WAV, "audio/wav"), stream=True))
    assert [e.type for e in events] == ["transcript.text.delta"] * 2 + ["transcript.text.done"]
    assert events[-1].text == "hello world"


def test_speech_pcm_arrives_in_chunks(client, srv):
    with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="coral", input="Hello there, this is a test.",
            instructions="Calm.", response_format="pcm") as resp:
        chunks = list(resp.iter_bytes(chunk_size=None))
        assert resp.headers["transfer-encoding"] == "chunked"
    assert len(chunks) >= 2 and len(b"".join(chunks)) % 2 == 0
    assert srv.requests[-1].json == {"model": "gpt-4o-mini-tts", "voice": "coral",
                                     "input": "Hello there, this is a test.",
                                     "instructions": "Calm.", "response_format": "pcm"}


def test_speech_wav_is_real_and_scripted_chunks(client, srv):
    import soundfile
    audio = client.audio.speech.create(model="tts-1", voice="alloy", input="Hi",
                                       response_format="wav").content
    info = soundfile.info(io.BytesIO(audio))
    assert info.samplerate == 24000 and info.channels == 1
    srv.script("/audio/speech", [Reply(chunks=[b"ab", b"cd", b"ef"], chunk_delay=0.01,
                                       content_type="audio/pcm")])
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hi", response_format="pcm") as resp:
        chunks = list(resp.iter_bytes(chunk_size=None))
    assert b"".join(chunks) == b"abcdef" and len(chunks) == 3


def test_images_gpt_b64_and_stream(client):
    r = client.images.generate(model="gpt-image-1", prompt="otter", size="1536x1024",
                               quality="low", output_format="webp", output_compression=80)
    img = Image.open(io.BytesIO(base64.b64decode(r.data[0].b64_json)))
    assert (img.format, img.size) == ("WEBP", (1536, 1024))
    _check("ImagesResponse", r.model_dump(exclude_none=True))
    events = list(client.images.generate(model="gpt-image-1", prompt="otter", stream=True,
                                         partial_images=2))
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + [
        "image_generation.completed"]
    r = client.images.generate(model="gpt-image-2", prompt="otter", size="1536x864")
    assert Image.open(io.BytesIO(base64.b64decode(r.data[0].b64_json))).size == (1536, 864)


def test_images_dalle_url_served(client, srv):
    r = client.images.generate(model="dall-e-3", prompt="otter", size="1792x1024",
                               quality="hd", style="natural")
    assert r.data[0].revised_prompt == "otter"
    with urllib.request.urlopen(r.data[0].url) as resp:
        assert Image.open(io.BytesIO(resp.read())).size == (1792, 1024)


def test_image_edits_and_variation(client, srv):
    mask = image_bytes("256x256", transparent=True)
    r = client.images.edit(model="dall-e-2", image=("a.png", PNG, "image/png"),
                           mask=("m.png", mask, "image/png"), prompt="hat", size="256x256",
                           response_format="b64_json")
    assert len(r.data) == 1
    assert srv.requests[-1].files["mask"][0] == "m.png"
    r = client.images.edit(model="gpt-image-1", prompt="combine",
                           image=[("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")])
    files = srv.requests[-1].files
    assert [f[0] for f in files["image[]"]] == ["a.png", "b.png"] and r.data[0].b64_json
    r = client.images.create_variation(model="dall-e-2", image=("a.png", PNG, "image/png"), n=2,
                                       response_format="b64_json")
    assert len(r.data) == 2


def test_chat_and_models(client, srv):
    srv.chat_text = "Sure."
    try:
        r = client.chat.completions.create(model="gpt-4o-mini",
                                           messages=[{"role": "user", "content": "hi"}])
        assert r.choices[0].message.content == "Sure."
        parts = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                               messages=[{"role": "user", "content": "hi"}])
        assert "".join(c.choices[0].delta.content or "" for c in parts) == "Sure."
    finally:
        srv.chat_text = "Hello."
    assert "whisper-1" in {m.id for m in client.models.list()}


def test_scripted_429_then_success_with_retries(srv):
    srv.reset()
    client = OpenAI(api_key="sk-test", base_url=srv.base_url, max_retries=2)
    err = {"error": {"message": "Rate limit", "type": "requests", "param": None,
                     "code": "rate_limit_exceeded"}}
    srv.script("/v1/audio/speech", [Reply(status=429, json=err, headers={"retry-after-ms": "10"})])
    audio = client.audio.speech.create(model="tts-1", voice="echo", input="x",
                                       response_format="flac").content
    assert audio[:4] == b"fLaC" and len(srv.requests) == 2
    srv.script("/audio/speech", [Reply(status=429, json=err, headers={"retry-after-ms": "10"})] * 3)
    with pytest.raises(RateLimitError):
        client.audio.speech.create(model="tts-1", voice="echo", input="x")
    assert srv.violations == []


# ---------------------------------------------------------------- invalid raw requests

def _post(srv, path, *, json_body=None, fields=(), files=(), auth=True):
    headers = {"Authorization": "Bearer sk-test"} if auth else {}
    if json_body is not None:
        data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    else:
        boundary = uuid.uuid4().hex
        out = io.BytesIO()
        for name, value in fields:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      f"{value}\r\n".encode())
        for name, filename, ctype, content in files:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                      f'filename="{filename}"\r\n'.encode())
            out.write((f"Content-Type: {ctype}\r\n" if ctype else "").encode() + b"\r\n")
            out.write(content + b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
        data, headers["Content-Type"] = out.getvalue(), f"multipart/form-data; boundary={boundary}"
    req = urllib.request.Request(srv.base_url + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


AUDIO = ("file", "a.wav", "audio/wav", WAV)
SPEECH = {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "hi"}
GEN = {"model": "dall-e-2", "prompt": "otter"}

INVALID = [
    ("speech-voice", "/audio/speech", {**SPEECH, "voice": "robot"}, "voice"),
    ("speech-speed", "/audio/speech", {**SPEECH, "speed": 5}, "speed"),
    ("speech-input-len", "/audio/speech", {**SPEECH, "input": "x" * 4097}, "input"),
    ("speech-instr-tts1", "/audio/speech", {**SPEECH, "model": "tts-1", "instructions": "x"},
     "instructions"),
    ("speech-no-model", "/audio/speech", {"voice": "alloy", "input": "hi"}, "model"),
    ("speech-unknown-field", "/audio/speech", {**SPEECH, "sample_rate": 16000}, "sample_rate"),
    ("speech-format", "/audio/speech", {**SPEECH, "response_format": "ogg"}, "response_format"),
    ("gen-no-model", "/images/generations", {"prompt": "otter"}, "model"),
    ("gen-d2-size", "/images/generations", {**GEN, "size": "1792x1024"}, "size"),
    ("gen-d3-n", "/images/generations", {**GEN, "model": "dall-e-3", "n": 2}, "n"),
    ("gen-style-d2", "/images/generations", {**GEN, "style": "vivid"}, "style"),
    ("gen-d2-prompt", "/images/generations", {**GEN, "prompt": "x" * 1001}, "prompt"),
    ("gen-gpt-respfmt", "/images/generations",
     {**GEN, "model": "gpt-image-1", "response_format": "b64_json"}, "response_format"),
    ("gen-d3-outfmt", "/images/generations", {**GEN, "model": "dall-e-3", "output_format": "png"},
     "output_format"),
    ("gen-gpt-quality", "/images/generations", {**GEN, "model": "gpt-image-1", "quality": "hd"},
     "quality"),
    ("gen-gpt1-any-size", "/images/generations", {**GEN, "model": "gpt-image-1", "size": "1536x864"},
     "size"),
    ("gen-gpt2-bad-size", "/images/generations", {**GEN, "model": "gpt-image-2", "size": "1000x1000"},
     "size"),
    ("gen-gpt2-ratio", "/images/generations", {**GEN, "model": "gpt-image-2", "size": "3840x1024"},
     "size"),
    ("gen-n-11", "/images/generations", {**GEN, "n": 11}, "n"),
    ("gen-compression-png", "/images/generations",
     {**GEN, "model": "gpt-image-1", "output_compression": 50}, "output_compression"),
    ("speech-sse-tts1", "/audio/speech", {**SPEECH, "model": "tts-1", "stream_format": "sse"},
     "stream_format"),
    ("gen-transparent-jpeg", "/images/generations", {**GEN, "model": "gpt-image-1",
     "background": "transparent", "output_format": "jpeg"}, "background"),
    ("gen-d2-stream", "/images/generations", {**GEN, "stream": True}, "stream"),
    ("gen-unknown-field", "/images/generations", {**GEN, "seed": 1}, "seed"),
    ("chat-unknown-field", "/chat/completions",
     {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "voice": "x"},
     "voice"),
    ("chat-no-messages", "/chat/completions", {"model": "gpt-4o-mini"}, "messages"),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_json_requests_rejected(srv, case):
    srv.reset()
    _, path, body, param = case
    status, err = _post(srv, path, json_body=body)
    assert status == 400 and err["error"]["type"] == "invalid_request_error"
    assert param in (err["error"]["param"] or "") + err["error"]["message"]
    assert len(srv.violations) == 1 and param in srv.violations[0]


INVALID_MP = [
    ("tr-gpt4o-srt", "/audio/transcriptions",
     [("model", "gpt-4o-transcribe"), ("response_format", "srt")], [AUDIO], "response_format"),
    ("tr-granularity-json", "/audio/transcriptions",
     [("model", "whisper-1"), ("timestamp_granularities[]", "word")], [AUDIO],
     "timestamp_granularities"),
    ("tr-ext", "/audio/transcriptions", [("model", "whisper-1")],
     [("file", "a.txt", "text/plain", WAV)], "file"),
    ("tr-no-ctype", "/audio/transcriptions", [("model", "whisper-1")],
     [("file", "a.wav", "", WAV)], "file"),
    ("tr-no-model", "/audio/transcriptions", [], [AUDIO], "model"),
    ("tr-temperature", "/audio/transcriptions", [("model", "whisper-1"), ("temperature", "x")],
     [AUDIO], "temperature"),
    ("tr-unknown", "/audio/transcriptions", [("model", "whisper-1"), ("beam", "5")], [AUDIO],
     "beam"),
    ("tl-model", "/audio/translations", [("model", "gpt-4o-transcribe")], [AUDIO], "model"),
    ("edit-d2-not-square", "/images/edits", [("model", "dall-e-2"), ("prompt", "x")],
     [("image", "a.png", "image/png", image_bytes("256x128"))], "image"),
    ("edit-d2-jpeg", "/images/edits", [("model", "dall-e-2"), ("prompt", "x")],
     [("image", "a.jpg", "image/jpeg", image_bytes("256x256", "jpeg"))], "image"),
    ("edit-mask-size", "/images/edits", [("model", "dall-e-2"), ("prompt", "x")],
     [("image", "a.png", "image/png", PNG),
      ("mask", "m.png", "image/png", image_bytes("512x512", transparent=True))], "mask"),
    ("edit-mask-alpha", "/images/edits", [("model", "dall-e-2"), ("prompt", "x")],
     [("image", "a.png", "image/png", PNG), ("mask", "m.png", "image/png", PNG)], "mask"),
    ("edit-17-images", "/images/edits", [("model", "gpt-image-1"), ("prompt", "x")],
     [("image[]", f"{i}.png", "image/png", PNG) for i in range(17)], "image"),
    ("var-gpt", "/images/variations", [("model", "gpt-image-1")],
     [("image", "a.png", "image/png", PNG)], "model"),
    ("tr-unbracketed-array", "/audio/transcriptions",
     [("model", "whisper-1"), ("response_format", "verbose_json"),
      ("timestamp_granularities", "word")], [AUDIO], "timestamp_granularities"),
    ("tr-raw-pcm-as-wav", "/audio/transcriptions", [("model", "whisper-1")],
     [("file", "a.wav", "audio/wav", b"\x00\x01" * 800)], "file"),
    ("tr-diarize-prompt", "/audio/transcriptions",
     [("model", "gpt-4o-transcribe-diarize"), ("prompt", "x")], [AUDIO], "prompt"),
    ("tr-logprobs-whisper", "/audio/transcriptions",
     [("model", "whisper-1"), ("include[]", "logprobs")], [AUDIO], "include"),
    ("tr-chunking-type", "/audio/transcriptions",
     [("model", "gpt-4o-transcribe"), ("chunking_strategy[type]", "client_vad")], [AUDIO],
     "chunking_strategy"),
    ("tr-model-twice", "/audio/transcriptions", [("model", "whisper-1"), ("model", "whisper-1")],
     [AUDIO], "model"),
    ("tr-file-as-text", "/audio/transcriptions", [("model", "whisper-1"), ("file", "a.wav")], [],
     "file"),
    ("edit-mini-fidelity", "/images/edits",
     [("model", "gpt-image-1-mini"), ("prompt", "x"), ("input_fidelity", "high")],
     [("image", "a.png", "image/png", PNG)], "input_fidelity"),
    # file parts: content type and extension must fit the bytes (spec: "appropriate content type")
    ("tr-octet-stream", "/audio/transcriptions", [("model", "whisper-1")],
     [("file", "a.wav", "application/octet-stream", WAV)], "file"),
    ("tr-mp3-as-wav-type", "/audio/transcriptions", [("model", "whisper-1")],
     [("file", "a.mp3", "audio/wav", b"\xff\xfb" * 50)], "file"),
    ("tr-wav-named-m4a", "/audio/transcriptions", [("model", "whisper-1")],
     [("file", "a.m4a", "audio/mp4", WAV)], "file"),
    ("tr-language-not-639-1", "/audio/transcriptions", [("model", "whisper-1"), ("language", "haw")],
     [AUDIO], "language"),
    ("edit-octet-stream", "/images/edits", [("model", "gpt-image-1"), ("prompt", "x")],
     [("image", "a.png", "application/octet-stream", PNG)], "image"),
    ("edit-jpeg-named-png", "/images/edits", [("model", "gpt-image-1"), ("prompt", "x")],
     [("image", "a.png", "image/jpeg", image_bytes("256x256", "jpeg"))], "image"),
    ("edit-mask-ctype", "/images/edits", [("model", "dall-e-2"), ("prompt", "x")],
     [("image", "a.png", "image/png", PNG),
      ("mask", "m.png", "", image_bytes("256x256", transparent=True))], "mask"),
    ("edit-d2-stream", "/images/edits", [("model", "dall-e-2"), ("prompt", "x"), ("stream", "true")],
     [("image", "a.png", "image/png", PNG)], "stream"),
    ("var-octet-stream", "/images/variations", [("model", "dall-e-2")],
     [("image", "a.png", "application/octet-stream", PNG)], "image"),
]


@pytest.mark.parametrize("case", INVALID_MP, ids=[c[0] for c in INVALID_MP])
def test_invalid_multipart_requests_rejected(srv, case):
    srv.reset()
    _, path, fields, files, param = case
    status, err = _post(srv, path, fields=fields, files=files)
    assert status == 400, err
    assert param in (err["error"]["param"] or "") + err["error"]["message"]
    assert len(srv.violations) == 1 and param in srv.violations[0]
    assert srv.requests[-1].violations == srv.violations


def test_missing_key_and_unknown_path(srv):
    srv.reset()
    status, err = _post(srv, "/audio/speech", json_body=SPEECH, auth=False)
    assert status == 401 and err["error"]["code"] == "invalid_api_key"
    status, _ = _post(srv, "/audio/speak", json_body=SPEECH)
    assert status == 404 and len(srv.violations) == 2


def test_invalid_request_does_not_consume_script(srv):
    srv.reset()
    srv.script("/audio/speech", [Reply(status=500, json={"error": {"message": "boom"}})])
    assert _post(srv, "/audio/speech", json_body={**SPEECH, "speed": 0.1})[0] == 400
    assert _post(srv, "/audio/speech", json_body=SPEECH)[0] == 500
    assert _post(srv, "/audio/speech", json_body=SPEECH)[0] == 200


def test_subset_matches_full_spec():
    """The committed subset is what build_subset makes of the full spec (when present)."""
    full = standin.FULL_SPEC
    if not full.is_file():
        pytest.skip("full OpenAPI document not available")
    committed = json.loads(standin.SUBSET_SPEC.read_text())
    assert committed == json.loads(json.dumps(standin.build_subset(json.loads(full.read_text()))))


def test_subset_spec_validates_like_full(tmp_path):
    with StandIn(spec_path=standin.SUBSET_SPEC) as s:
        assert _post(s, "/audio/speech", json_body={**SPEECH, "speed": 9})[0] == 400
        assert _post(s, "/audio/speech", json_body=SPEECH)[0] == 200
        assert len(s.violations) == 1


def _events(body: bytes) -> list:
    return [json.loads(line[6:]) for line in body.decode().splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"]


def test_default_answers_match_response_schemas():
    """Every default answer validates against the spec's response schema."""
    tr = {"model": "whisper-1", "response_format": "verbose_json",
          "timestamp_granularities": ["word", "segment"]}
    _check("CreateTranscriptionResponseVerboseJson",
           standin.transcription_reply(tr, WAV, "hi there", False).json)
    for model in ("whisper-1", "gpt-4o-transcribe"):
        _check("CreateTranscriptionResponseJson", standin.transcription_reply(
            {"model": model, "include": ["logprobs"]}, WAV, "hi", False).json)
    _check("CreateTranscriptionResponseDiarizedJson", standin.transcription_reply(
        {"model": standin.DIARIZE, "response_format": "diarized_json"}, WAV, "hi", False).json)
    stream = standin.transcription_reply({"model": "gpt-4o-transcribe", "stream": True}, WAV,
                                         "a b", False)
    for event in _events(b"".join(stream.chunks)):
        _check("CreateTranscriptionResponseStreamEvent", event)
    sse = standin.speech_reply({"model": "gpt-4o-mini-tts", "input": "hi", "voice": "ash",
                                "stream_format": "sse"})
    assert [e["type"] for e in _events(b"".join(sse.chunks))][-1] == "speech.audio.done"
    for event in _events(b"".join(sse.chunks)):
        _check("CreateSpeechResponseStreamEvent", event)
    store = lambda data: "http://127.0.0.1/files/x.png"  # noqa: E731
    for model, extra in (("gpt-image-1", {"quality": "high"}), ("dall-e-2", {}),
                         ("dall-e-3", {"response_format": "b64_json"})):
        _check("ImagesResponse", standin.images_reply(
            {"prompt": "p", "size": "1024x1024", **extra}, model, "generations", store).json)
    for kind, schema in (("generations", "ImageGenStreamEvent"), ("edits", "ImageEditStreamEvent")):
        reply = standin.images_reply({"prompt": "p", "stream": True, "partial_images": 1,
                                      "size": "256x256"}, "gpt-image-1", kind, store)
        for event in _events(b"".join(reply.chunks)):
            _check(schema, event)
    _check("CreateChatCompletionResponse", standin.chat_reply({"model": "m"}, "Hi").json)
    for event in _events(b"".join(standin.chat_reply({"model": "m", "stream": True}, "Hi").chunks)):
        _check("CreateChatCompletionStreamResponse", event)
    _check("ListModelsResponse", standin.models_reply().json)
    bad = StandIn().handle(standin.Recorded("POST", "/nowhere", {}, None, {}, {}, b""))
    assert bad.status == 404
    _check("ErrorResponse", bad.json)


def test_internal_error_is_a_visible_500(srv, monkeypatch):
    srv.reset()
    monkeypatch.setattr(standin, "speech_reply", lambda req: 1 / 0)
    status, err = _post(srv, "/audio/speech", json_body=SPEECH)
    assert status == 500 and "ZeroDivisionError" in err["error"]["message"]
    assert "internal error" in srv.violations[0]
    srv.reset()


def test_delay_triggers_client_timeout_and_latency(srv):
    from openai import APITimeoutError
    srv.reset()
    client = OpenAI(api_key="sk-test", base_url=srv.base_url, max_retries=0, timeout=0.2)
    srv.script("/audio/speech", [Reply(delay=0.6, body=b"late", content_type="audio/mpeg")])
    with pytest.raises(APITimeoutError):
        client.audio.speech.create(model="tts-1", voice="nova", input="x")
    with StandIn(latency=0.3) as slow:
        slow_client = OpenAI(api_key="sk-test", base_url=slow.base_url, max_retries=0, timeout=0.1)
        with pytest.raises(APITimeoutError):
            slow_client.models.list()
    assert srv.violations == []
