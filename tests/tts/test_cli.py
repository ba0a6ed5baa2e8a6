"""`assistant say` through click's CliRunner: errors are one line + exit 2; files are written."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main

from .conftest import write_config


def run(*args, input=None, env=None):
    return CliRunner().invoke(main, list(args), input=input, env=env)


def speech_requests(srv):
    return [r for r in srv.requests if r.endpoint == "/audio/speech"]


@pytest.mark.parametrize("args,message", [
    (["say", ""], "nothing to say"),
    (["say", "   "], "nothing to say"),
    (["say", "hi", "--speed", "5"], "speed must be between 0.25 and 4"),
    (["say", "hi", "--speed", "0.1"], "speed must be between 0.25 and 4"),
    (["say", "hi", "--voice", "bob", "--backend", "local"], "valid voices: alloy, ash"),
    (["say", "hi", "--out", "x.xyz", "--backend", "local", "--no-play"], "invalid choice|cannot write 'xyz'"),
    (["say", "hi", "--out", "noext", "--backend", "local", "--no-play"], "cannot tell the audio format"),
    (["say", "hi", "--out", "missing/x.wav", "--backend", "local", "--no-play"], "directory does not exist"),
    (["say", "hi", "--format", "aac", "--backend", "local", "--no-play"], "aac comes only from the openai backend"),
])
def test_cli_errors_local(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    import re
    assert re.search(message, lines[0])


@pytest.mark.parametrize("args,message", [
    (["say", "hi", "--model", "tts-1", "--instructions", "calm"], "tts-1 does not take instructions"),
    (["say", "hi", "--model", "tts-1", "--voice", "marin"], "valid voices: alloy"),
    (["say", "hi", "--voice", "robot"], "unknown voice 'robot'"),
])
def test_cli_errors_openai_nothing_sent(srv, tmp_path, args, message):
    cfg = write_config(tmp_path, srv)
    result = run("--config", cfg, *args, "--no-play", "--out", str(tmp_path / "x.wav"))
    assert result.exit_code == 2 and message in result.stderr
    assert srv.requests == []


def test_say_local_to_wav(tmp_path):
    out = tmp_path / "x.wav"
    result = run("say", "Hello from the local voice.", "--backend", "local", "--out", str(out), "--no-play")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    data, rate = sf.read(out, dtype="int16")
    assert rate == 22050 and 1.0 < len(data) / rate < 4.0


def test_say_stdin_and_format_flag(tmp_path):
    out = tmp_path / "x.audio"
    result = run("say", "-", "--backend", "local", "--out", str(out), "--format", "flac", "--no-play",
                 input="Read from standard input.")
    assert result.exit_code == 0, result.output
    assert sf.info(out).format == "FLAC"


def test_say_korean_ogg(tmp_path):
    out = tmp_path / "ko.ogg"
    result = run("say", "안녕하세요, 반갑습니다.", "--backend", "local", "--voice", "nova", "--out", str(out), "--no-play")
    assert result.exit_code == 0, result.output
    assert sf.info(out).duration > 1.0


def test_no_play_without_out_saves_to_data_dir(tmp_path):
    result = run("say", "Saved for later.", "--backend", "local", "--no-play")
    assert result.exit_code == 0, result.output
    path = result.stdout.strip()
    assert "/assistant/speech/" in path and path.endswith(".wav")
    assert sf.info(path).duration > 0.5


def test_without_portaudio_says_so_and_saves(tmp_path, monkeypatch):
    from assistant.audio.playback import Speaker

    monkeypatch.setattr(Speaker, "available", staticmethod(lambda: (False, "cannot play audio: no audio output device found")))
    result = run("say", "Nobody can hear me.", "--backend", "local")
    assert result.exit_code == 0, result.output
    assert "no audio output device found; saving to" in result.stderr
    assert sf.info(result.stdout.strip()).duration > 0.5


def test_plays_through_speaker_while_streaming(tmp_path, monkeypatch):
    from assistant.audio import playback

    played = []

    class Recording(playback.NullSpeaker):
        def play(self, chunks, sample_rate):
            for c in chunks:
                played.append((len(c), sample_rate))
            return True

    monkeypatch.setattr(playback.Speaker, "available", staticmethod(lambda: (True, "fake")))
    monkeypatch.setattr(playback, "Speaker", type("S", (Recording,), {"available": staticmethod(lambda: (True, "fake"))}))
    result = run("say", "One sentence. And another one.", "--backend", "local")
    assert result.exit_code == 0, result.output
    assert len(played) == 2 and played[0][1] == 22050
    assert result.stdout == ""  # played, nothing saved


@pytest.mark.parametrize("model,voice,extra,expected", [
    ("tts-1", "nova", [], {"model": "tts-1", "voice": "nova", "speed": 1.0}),
    ("tts-1-hd", "alloy", ["--speed", "0.7"], {"model": "tts-1-hd", "voice": "alloy", "speed": 0.7}),
    ("gpt-4o-mini-tts", "coral", ["--speed", "1.5", "--instructions", "Whisper."],
     {"model": "gpt-4o-mini-tts", "voice": "coral", "speed": 1.5, "instructions": "Whisper."}),
])
def test_say_openai_mp3_fetched_directly(srv, tmp_path, model, voice, extra, expected):
    cfg = write_config(tmp_path, srv)
    out = tmp_path / "x.mp3"
    result = run("--config", cfg, "say", "Hello there.", "--model", model, "--voice", voice, *extra,
                 "--out", str(out), "--no-play")
    assert result.exit_code == 0, result.output
    assert srv.violations == []
    (req,) = speech_requests(srv)
    assert req.json == {"input": "Hello there.", "response_format": "mp3", **expected}
    assert out.read_bytes()[:2] == b"\xff\xfb"


def test_say_openai_ogg_encodes_pcm_locally(srv, tmp_path):
    cfg = write_config(tmp_path, srv, model="tts-1")
    out = tmp_path / "x.ogg"
    result = run("--config", cfg, "say", "Hello there.", "--out", str(out), "--no-play")
    assert result.exit_code == 0, result.output
    (req,) = speech_requests(srv)
    assert req.json["response_format"] == "pcm" and "instructions" not in req.json
    assert sf.info(out).samplerate == 24000


def test_config_instructions_dropped_for_tts1(srv, tmp_path):
    cfg = write_config(tmp_path, srv, instructions="Be calm.")
    result = run("--config", cfg, "say", "Hi.", "--model", "tts-1", "--no-play", "--out", str(tmp_path / "a.wav"))
    assert result.exit_code == 0, result.output
    assert "instructions" not in speech_requests(srv)[0].json
    result = run("--config", cfg, "say", "Hi.", "--no-play", "--out", str(tmp_path / "b.wav"))
    assert speech_requests(srv)[1].json["instructions"] == "Be calm."


def test_api_error_exit_1(srv, tmp_path):
    from tests.standin import Reply

    srv.script("/audio/speech", [Reply(status=401, json={"error": {"message": "Incorrect API key provided.",
                                                                   "type": "invalid_request_error",
                                                                   "code": "invalid_api_key", "param": None}})])
    cfg = write_config(tmp_path, srv)
    result = run("--config", cfg, "say", "Hi.", "--no-play", "--out", str(tmp_path / "a.wav"))
    assert result.exit_code == 1 and "the API key was rejected" in result.stderr
    assert not (tmp_path / "a.wav").exists()


def test_api_say_returns_speech(srv, tmp_path):
    from assistant import api
    from assistant.config import load_config

    speech = api.say("Hello.", voice="nova", config=load_config(write_config(tmp_path, srv, model="tts-1")))
    assert speech.sample_rate == 24000 and len(speech.samples) > 0
    assert "<audio" in speech._repr_html_()
    local = api.say("Hello.", backend="local")
    assert local.sample_rate == 22050 and local.duration > 0.3
    assert np.asarray(local.samples).dtype == np.int16


def test_unknown_local_language_is_one_clear_line(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    r = CliRunner().invoke(main, ["say", "hello", "--backend", "local", "--language", "zz", "--no-play",
                                  "--out", str(tmp_path / "x.wav")])
    assert r.exit_code == 2 and "no local voice for language 'zz'" in r.output
    assert not (tmp_path / "x.wav").exists()


def test_local_backend_says_it_ignores_openai_only_options(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    r = CliRunner().invoke(main, ["say", "hello", "--backend", "local", "--model", "tts-1-hd", "--no-play",
                                  "--out", str(tmp_path / "x.wav")])
    assert r.exit_code == 0, r.output
    assert "ignore --model" in r.output and (tmp_path / "x.wav").exists()


def test_text_no_voice_can_say_is_cleaned_or_refused(tmp_path):
    """NUL and other controls from stdin were an `error: ValueError: embedded null character`
    (exit 1) from espeak-ng; zero-width characters only wrote a 44-byte WAV and exited 0."""
    out = tmp_path / "x.wav"
    result = run("say", "-", "--backend", "local", "--out", str(out), "--no-play", input="Hello\x00 there\x1b[31m.\x07")
    assert result.exit_code == 0, result.output
    assert len(sf.read(out, dtype="int16")[0]) > 22050 // 2
    out2 = tmp_path / "y.wav"
    result = run("say", "-", "--backend", "local", "--out", str(out2), "--no-play", input="\u200b\u200d\x00\u2067 \x01")
    assert result.exit_code == 2 and "nothing to say" in result.stderr and not out2.exists()


def test_speakable_keeps_words_and_drops_what_cannot_be_said():
    from assistant.tts.text import sentences, speakable

    assert speakable("안녕\u200b하세요\x00 hi\n") == "안녕하세요  hi\n"
    assert sentences("a\x00b. \u202eC") == ["a b.", "C"]
    assert speakable("مرحبا 😀") == "مرحبا 😀"
