"""Issue 17 item 4: garbage from the speech API is never saved or played (one line, exit 1, no
file); a truncated body is an ApiError that is asked for once more, never a traceback."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Config, with_overrides
from assistant.errors import ApiError
from assistant.tts.openai import OpenAISynthesizer, check_audio
from tests.standin import GARBAGE_KINDS, speech_bytes


pytestmark = pytest.mark.usefixtures("clean")


def write_config(tmp_path, srv) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[tts]\nbase_url = "{srv.base_url}"\nmax_retries = 0\ntimeout = 5.0\nbackend = "openai"\n')
    return str(path)


SPEECH_GARBAGE = [k for k in GARBAGE_KINDS if k not in ("notimage", "badjson")] + ["badjson"]


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "pcm", "opus", "aac"])
@pytest.mark.parametrize("kind", SPEECH_GARBAGE)
def test_say_out_never_saves_garbage(srv, tmp_path, fmt, kind):
    if kind == "random" and fmt in ("pcm",):
        pytest.skip("any even number of bytes is valid pcm")
    srv.fault("speech", kind, times=2, size=4097)   # the first answer and the one retry
    out = tmp_path / f"x.{fmt}"
    r = CliRunner().invoke(main, ["--config", write_config(tmp_path, srv), "say", "Hello there.",
                                  "--out", str(out), "--no-play"])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "speech API" in r.stderr
    assert not out.exists() and list(tmp_path.glob("*.tmp*")) == [] and list(tmp_path.glob(".x*")) == []


@pytest.mark.parametrize("fmt", ["wav", "ogg"])
def test_say_out_retries_a_truncated_body_once(srv, tmp_path, fmt):
    srv.fault("speech", "truncated")
    out = tmp_path / f"x.{fmt}"
    r = CliRunner().invoke(main, ["--config", write_config(tmp_path, srv), "say", "Hello there.",
                                  "--out", str(out), "--no-play"])
    assert r.exit_code == 0, r.output
    data, rate = sf.read(out, dtype="int16")
    assert rate == 24000 and len(data) > 0
    assert sum(q.endpoint == "/audio/speech" for q in srv.requests) == 2


def test_say_out_truncated_twice_is_one_line(srv, tmp_path):
    srv.fault("speech", "truncated", times=2)
    out = tmp_path / "x.wav"
    r = CliRunner().invoke(main, ["--config", write_config(tmp_path, srv), "say", "Hello there.",
                                  "--out", str(out), "--no-play"])
    assert r.exit_code == 1 and "connection broke" in r.stderr and not out.exists(), r.output


def test_streamed_pcm_resumes_after_a_cut_without_repeating(srv):
    synth = OpenAISynthesizer(with_overrides(Config(), tts={"base_url": srv.base_url, "max_retries": 0,
                                                           "backend": "openai", "model": "tts-1"}).tts)
    whole = np.concatenate(list(synth.synthesize("Hello there.", voice="alloy")))
    srv.fault("speech", "truncated", keep=0.3)
    again = np.concatenate(list(synth.synthesize("Hello there.", voice="alloy")))
    assert len(again) == len(whole) and np.array_equal(again, whole)


def test_streamed_html_is_an_api_error(srv):
    synth = OpenAISynthesizer(with_overrides(Config(), tts={"base_url": srv.base_url, "max_retries": 0,
                                                           "backend": "openai"}).tts)
    srv.fault("speech", "html", times=2)
    with pytest.raises(ApiError, match="text/html instead of audio"):
        list(synth.synthesize("Hello there.", voice="alloy"))


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "opus", "aac", "pcm"])
def test_check_audio_accepts_real_audio(fmt):
    check_audio(speech_bytes(fmt, 0.5), fmt)


@pytest.mark.parametrize("data", [b"", b"<html></html>", b'{"a": 1}', b"RIFF\x00\x00\x00\x00WAVEfmt ", b"\x00" * 27])
def test_check_audio_refuses_garbage(data):
    with pytest.raises(ApiError):
        check_audio(data, "wav")
