"""`assistant transcribe` input errors: one line on stderr, exit 2, no traceback, no network."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main


@pytest.fixture
def wav(tmp_path):
    p = tmp_path / "a.wav"
    sf.write(p, np.zeros(1600, np.int16), 16000, subtype="PCM_16")
    return p


def run(*args):
    return CliRunner().invoke(main, ["transcribe", *map(str, args)])


@pytest.mark.parametrize("make,args,message", [
    (lambda p: p / "missing.wav", ["--backend", "local"], "audio file not found"),
    (lambda p: (p / "bad.wav").write_bytes(b"RIFF nonsense") and p / "bad.wav", ["--backend", "local"], "cannot read audio file"),
    (lambda p: (p / "empty.wav").write_bytes(b"") or p / "empty.wav", ["--backend", "local"], "cannot read audio file"),
    (lambda p: (p / "bad.flac").write_bytes(b"fLaC junk") and p / "bad.flac", ["--backend", "openai"], "not a valid flac file"),
])
def test_bad_files(tmp_path, make, args, message):
    res = run(make(tmp_path), *args)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_empty_audio(tmp_path):
    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros(0, np.int16), 16000, subtype="PCM_16")
    res = run(p, "--backend", "local")
    assert res.exit_code == 2 and "empty" in res.output


@pytest.mark.parametrize("args,message", [
    (["--detect-language", "--translate"], "--detect-language"),
    (["--detect-language", "--format", "srt"], "--detect-language"),
    (["--backend", "openai", "--vad"], "--vad"),
    (["--language", "klingon", "--backend", "local"], "unknown language"),
    (["--record", "3"], "either FILE or --record"),
    (["--out", "/nonexistent-dir/x.txt"], "directory does not exist"),
    (["--backend", "local", "--model", "/nowhere"], "stt.local_model"),
])
def test_unsupported_combinations(wav, args, message):
    res = run(wav, *args)
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_missing_file_and_record_bounds():
    assert run().exit_code == 2
    res = run("--record", "0")
    assert res.exit_code == 2 and "--record" in res.output


def test_openai_file_error_before_any_request(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real-000000000000")
    p = tmp_path / "bad.wav"
    p.write_bytes(b"not audio at all")
    res = run(p, "--backend", "openai")
    assert res.exit_code == 2 and "cannot read audio file" in res.output


def test_import_and_help_need_no_portaudio():
    code = ("import sys, assistant.cli, assistant.api, assistant.stt.factory, assistant.stt.openai;"
            "assert 'sounddevice' not in sys.modules, 'sounddevice imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_record_keeps_the_wav_beside_out_and_transcribes_it(tmp_path, monkeypatch):
    """--record with a fake sounddevice (no audio hardware here): WAV kept next to --out."""
    import types

    calls = {}
    fake = types.SimpleNamespace(
        check_input_settings=lambda **kw: calls.setdefault("check", kw),
        rec=lambda n, samplerate, channels, dtype: calls.setdefault("rec", np.zeros((n, channels), np.int16)),
        wait=lambda: None,
        query_devices=lambda kind=None: {"default_samplerate": 16000.0},
    )
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    monkeypatch.setattr("assistant.stt.pieces.SpeechPieces.transcribe",
                        lambda self, audio, **kw: __import__("assistant.stt.base", fromlist=["Transcript"]).Transcript("ok", "en"))
    out = tmp_path / "take.txt"
    res = CliRunner().invoke(main, ["transcribe", "--record", "0.5", "--backend", "local", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text() == "ok\n"
    wav = tmp_path / "take.wav"
    assert sf.info(wav).samplerate == 16000 and sf.info(wav).frames == 8000
    assert calls["check"]["samplerate"] == 16000
