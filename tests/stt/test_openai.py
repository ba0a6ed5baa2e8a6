"""openai backend against a strict local stand-in: request fields, formats, errors, big files."""
from __future__ import annotations

import io
import json
import logging

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main
from assistant.errors import ApiError, UserError
from assistant.stt.formats import parse
from assistant.stt.openai import OpenAITranscriber

from .conftest import CHAT, TEXT, Reply, cfg_for, tone, write_config

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize")


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "speech.wav"
    sf.write(path, tone(1.0), 16000, subtype="PCM_16")
    return path


def audio_requests(srv):
    return [r for r in srv.requests if "/audio/" in r.path]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_every_format_and_model_family_is_accepted(srv, tmp_path, wav, model, fmt):
    config = write_config(tmp_path, srv, model=model)
    res = CliRunner().invoke(main, ["--config", config, "transcribe", str(wav), "--format", fmt, "--language", "en"])
    assert res.exit_code == 0, res.output
    assert srv.violations == []
    (req,) = audio_requests(srv)
    assert req.path == "/v1/audio/transcriptions"
    assert req.files["file"][0] == "speech.wav" and req.files["file"][1] == "audio/wav"
    timestamps = fmt in ("srt", "vtt", "verbose_json")
    expected_model = "whisper-1" if timestamps and model != "whisper-1" else model
    assert req.form["model"] == expected_model
    assert req.form["response_format"] == ("verbose_json" if timestamps else "json")
    assert req.form["language"] == "en"
    if timestamps:
        assert req.form["timestamp_granularities[]"] in ("segment", ["segment"])
    else:
        assert "timestamp_granularities[]" not in req.form
    if "diarize" in expected_model:
        assert req.form["chunking_strategy"] == "auto"
    t = parse(res.output, fmt)
    assert t.text == TEXT
    if timestamps:
        assert [(s.start, s.end) for s in t.segments] == [(0.0, 1.0)]


def test_array_upload_is_named_wav_and_prompt_sent(srv):
    t = OpenAITranscriber(cfg_for(srv, model="whisper-1").stt).transcribe(tone(0.5), prompt="kitchen", language="english")
    (req,) = audio_requests(srv)
    name, ctype, data = req.files["file"]
    assert (name, ctype) == ("utterance.wav", "audio/wav")
    assert sf.info(io.BytesIO(data)).samplerate == 16000
    assert req.form["prompt"] == "kitchen" and req.form["language"] == "en"
    assert t.language == "en" and t.duration == pytest.approx(0.5)


def test_timestamps_without_timestamps_model_fails_clearly(srv):
    tr = OpenAITranscriber(cfg_for(srv, model="gpt-4o-mini-transcribe", timestamps_model="").stt)
    with pytest.raises(UserError, match="timestamps_model"):
        tr.transcribe(tone(0.5), want_timestamps=True)
    assert srv.requests == []


def test_diarize_refuses_prompt(srv):
    tr = OpenAITranscriber(cfg_for(srv, model="gpt-4o-transcribe-diarize").stt)
    with pytest.raises(UserError, match="prompt"):
        tr.transcribe(tone(0.5), prompt="hi")


def test_translation_endpoint_with_whisper(srv):
    t = OpenAITranscriber(cfg_for(srv).stt).transcribe(tone(0.5), task="translate", language="ko",
                                                       prompt="Weather", want_timestamps=True)
    (req,) = audio_requests(srv)
    assert req.path == "/v1/audio/translations"
    assert req.form["model"] == "whisper-1" and req.form["response_format"] == "verbose_json"
    assert "language" not in req.form  # the translations endpoint has no language field
    assert srv.violations == [] and t.task == "translate" and t.segments


def test_translation_falls_back_to_chat_when_model_not_accepted(srv, caplog):
    caplog.set_level(logging.WARNING)
    tr = OpenAITranscriber(cfg_for(srv, translate_model="gpt-4o-transcribe").stt)
    t = tr.transcribe(tone(0.5), task="translate", language="ko")
    paths = [r.path for r in srv.requests]
    assert paths == ["/v1/audio/transcriptions", "/v1/chat/completions"]
    assert srv.requests[1].json["model"] == "gpt-4o-mini"
    assert t.text == CHAT and t.task == "translate" and t.language == "ko"
    assert "translating with gpt-4o-mini" in caplog.text


def test_translation_falls_back_on_404_model_not_found(srv, caplog):
    caplog.set_level(logging.WARNING)
    srv.script("/audio/translations", [Reply(status=404, json={"error": {"message": "The model `whisper-1` does not exist",
                                                                        "type": "invalid_request_error", "code": "model_not_found"}})])
    t = OpenAITranscriber(cfg_for(srv).stt).transcribe(tone(0.5), task="translate")
    assert [r.path for r in srv.requests][-1] == "/v1/chat/completions"
    assert t.text == CHAT
    assert "refused whisper-1" in caplog.text


@pytest.mark.parametrize("status,pattern", [
    (400, "speech API error 400: bad audio"),
    (401, "API key was rejected \\(401\\): bad audio"),
    (429, "rate limited or out of quota \\(429\\): bad audio"),
    (500, "speech API error 500: bad audio"),
])
def test_errors_map_to_one_line_api_errors(srv, tmp_path, wav, status, pattern):
    srv.script("/audio/transcriptions", [Reply(status=status, json={"error": {"message": "bad audio", "type": "x", "code": None}})])
    with pytest.raises(ApiError, match=pattern) as info:
        OpenAITranscriber(cfg_for(srv).stt).transcribe(tone(0.5))
    assert info.value.status == status
    srv.script("/audio/transcriptions", [Reply(status=status, json={"error": {"message": "bad audio", "type": "x", "code": None}})])
    res = CliRunner().invoke(main, ["--config", write_config(tmp_path, srv), "transcribe", str(wav)])
    assert res.exit_code == 1
    assert len(res.output.strip().splitlines()) == 1 and "bad audio" in res.output


def test_unreachable_server_is_api_error_without_status(tmp_path):
    from assistant.config import Config, with_overrides

    cfg = with_overrides(Config(), stt={"base_url": "http://127.0.0.1:9/v1", "max_retries": 0, "timeout": 2.0})
    with pytest.raises(ApiError) as info:
        OpenAITranscriber(cfg.stt).transcribe(tone(0.2))
    assert info.value.status is None


def test_hallucination_guard_applies_to_api_answers(srv):
    srv.script("/audio/transcriptions", [Reply(json={"text": "Thank you for watching!"})])
    from assistant.config import load_config, with_overrides

    cfg = with_overrides(load_config(), stt={"base_url": srv.base_url, "max_retries": 0})
    assert OpenAITranscriber(cfg.stt).transcribe(tone(0.5)).text == ""


def _long_float_stereo_48k(path, seconds: float) -> None:
    """Tone bursts and silence, 48 kHz stereo float32: > 25 MB as WAV."""
    rate = 48000
    t = np.arange(int(seconds * rate)) / rate
    burst = (np.floor(t) % 2 == 0)  # 1 s tone, 1 s silence
    mono = (0.3 * np.sin(2 * np.pi * 330 * t) * burst).astype(np.float32)
    sf.write(path, np.stack([mono, mono], axis=1), rate, subtype="FLOAT")


def test_over_25_mb_is_reencoded_to_16k_mono_flac(srv, tmp_path):
    big = tmp_path / "long.wav"
    _long_float_stereo_48k(big, 70.0)
    assert big.stat().st_size > 25_000_000
    t = OpenAITranscriber(cfg_for(srv, model="whisper-1").stt).transcribe_file(big, want_timestamps=True)
    (req,) = audio_requests(srv)
    name, ctype, data = req.files["file"]
    assert (name, ctype) == ("audio.flac", "audio/flac")
    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
    assert len(data) < 25_000_000 and srv.violations == []
    assert info.frames / info.samplerate == pytest.approx(70.0, abs=0.01)
    assert t.segments  # the answer was parsed


def test_still_too_big_is_split_at_silence_and_merged_with_shifted_times(srv, tmp_path):
    big = tmp_path / "long.wav"
    _long_float_stereo_48k(big, 20.0)
    tr = OpenAITranscriber(cfg_for(srv, model="whisper-1").stt)
    from assistant.stt.audio import encode, load_audio

    tr.max_bytes = len(encode(load_audio(big), "FLAC")) // 3  # force the split path
    t = tr.transcribe_file(big, want_timestamps=True)
    reqs = audio_requests(srv)
    assert len(reqs) >= 2 and srv.violations == []
    offsets = []
    total = 0.0
    for r in reqs:
        name, ctype, data = r.files["file"]
        assert name.endswith(".flac") and ctype == "audio/flac" and len(data) <= tr.max_bytes
        info = sf.info(io.BytesIO(data))
        offsets.append(total)
        total += info.frames / info.samplerate
        # each cut lies in silence: the chunk's last 30 ms are quiet
        pcm, _ = sf.read(io.BytesIO(data), dtype="float32")
        if r is not reqs[-1]:
            assert np.abs(pcm[-480:]).max() < 0.01
    assert total == pytest.approx(20.0, abs=0.01)
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts) and len(t.segments) == len(reqs)
    for seg, off in zip(t.segments, offsets):
        assert seg.start == pytest.approx(off, abs=1e-3)
    assert t.segments[-1].end == pytest.approx(20.0, abs=0.01)
    assert t.text.count("Turn on the kitchen lights.") == len(reqs)


def test_cli_out_writes_atomically(srv, tmp_path, wav):
    out = tmp_path / "out.srt"
    res = CliRunner().invoke(main, ["--config", write_config(tmp_path, srv, model="whisper-1"), "transcribe", str(wav),
                                    "--format", "srt", "--out", str(out)])
    assert res.exit_code == 0 and res.output == ""
    assert out.read_text() == f"1\n00:00:00,000 --> 00:00:01,000\n{TEXT}\n\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_cli_detect_language_openai(srv, tmp_path, wav):
    res = CliRunner().invoke(main, ["--config", write_config(tmp_path, srv), "transcribe", str(wav), "--detect-language"])
    assert res.exit_code == 0, res.output
    assert res.output == "en unknown\n"
    assert audio_requests(srv)[0].form["response_format"] == "verbose_json"


def test_api_transcribe_with_openai(srv):
    from assistant import api

    t = api.transcribe(tone(0.3), config=cfg_for(srv), model="whisper-1", timestamps=True)
    assert "language='en'" in repr(t) and "kitchen" in repr(t)
    assert t.to("srt").startswith("1\n")
    assert audio_requests(srv)[0].form["model"] == "whisper-1"
