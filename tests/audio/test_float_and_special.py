"""Float / 24-bit / 32-bit WAV input reads at its real level (issue 17 #2), and non-regular files
(/dev/null, a FIFO, a socket) get a one-line reason instead of "not found" (issue 17 #7)."""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.audio.format import FRAME_BYTES
from assistant.audio.sources import FileSource, existing_audio_file, float_to_int16
from assistant.cli import main
from assistant.errors import UserError
from tests.corpus import need_corpus, select

SUBTYPES = [("FLOAT", 1e-4), ("DOUBLE", 1e-4), ("PCM_24", 1e-4), ("PCM_32", 1e-4), ("PCM_16", 0)]


def _speech() -> np.ndarray:
    need_corpus()
    clips = select(language="en", kind="command") or select(language="en")
    return clips[0].pcm()


def _frames(src) -> np.ndarray:
    frames = list(FileSource(src).iter_frames()) if not isinstance(src, FileSource) else list(src.iter_frames())
    assert all(len(f) == FRAME_BYTES for f in frames)
    return np.frombuffer(b"".join(frames), np.int16)


@pytest.mark.parametrize("subtype,tol", SUBTYPES)
def test_real_speech_in_any_wav_subtype_reads_back_as_the_same_int16(tmp_path, subtype, tol):
    pcm = _speech()
    path = tmp_path / f"speech-{subtype}.wav"
    sf.write(path, pcm.astype(np.float64) / 32768.0, 16000, subtype=subtype)
    out = _frames(str(path))[: len(pcm)]
    assert len(out) == len(pcm)
    # bit-exact up to one LSB of rounding; before the fix float files came out as -1/0/1
    assert np.abs(out.astype(np.int32) - pcm).max() <= 1
    assert np.abs(out).max() > 1000


@pytest.mark.parametrize("subtype", ["FLOAT", "DOUBLE", "PCM_24", "PCM_32"])
def test_stdin_wav_stream_of_any_subtype(monkeypatch, subtype):
    pcm = _speech()
    buf = io.BytesIO()
    sf.write(buf, pcm.astype(np.float64) / 32768.0, 16000, subtype=subtype, format="WAV")

    class Stdin:
        buffer = io.BufferedReader(io.BytesIO(buf.getvalue()))

    monkeypatch.setattr(sys, "stdin", Stdin)
    out = _frames(FileSource("-"))[: len(pcm)]
    assert np.abs(out.astype(np.int32) - pcm).max() <= 1


def test_float_over_full_scale_and_nan_are_clipped_not_wrapped():
    x = np.array([[0.0], [1.5], [-2.0], [np.nan], [np.inf], [-np.inf], [0.5]], np.float32)
    assert float_to_int16(x)[:, 0].tolist() == [0, 32767, -32768, 0, 32767, -32768, 16384]


def test_listen_finds_speech_in_a_float_wav(tmp_path):
    """The issue's case end to end: `listen` on float32 speech finds an utterance."""
    pcm = _speech()
    path = tmp_path / "f32.wav"
    silence = np.zeros(16000, np.int16)
    sf.write(path, np.concatenate([silence, pcm, silence]).astype(np.float32) / 32768.0, 16000, subtype="FLOAT")
    result = CliRunner().invoke(main, ["listen", "--input", str(path), "--json"])
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert found and found[0]["start"] < 1.5 and found[-1]["end"] > 1.0 + len(pcm) / 16000 - 0.5


@pytest.mark.parametrize("kind", ["devnull", "fifo", "socket"])
def test_non_regular_files_are_named_for_what_they_are(tmp_path, kind):
    if kind == "devnull":
        path, word = "/dev/null", "character device"
    elif kind == "fifo":
        path, word = str(tmp_path / "pipe"), "named pipe"
        os.mkfifo(path)
    else:
        path, word = str(tmp_path / "sock"), "socket"
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
    with pytest.raises(UserError) as err:
        existing_audio_file(path)
    text = str(err.value)
    assert word in text and "not a regular audio file" in text and "not found" not in text


@pytest.mark.parametrize("command", ["listen", "run"])
def test_cli_dev_null_is_one_line_exit_2(command):
    args = [command, "--input", "/dev/null"] + (["--quiet"] if command == "run" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "not a regular audio file" in result.output and "not found" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_transcribe_dev_null_is_not_reported_missing():
    r = subprocess.run([sys.executable, "-m", "assistant", "transcribe", "/dev/null"], capture_output=True, text=True,
                       env={**os.environ, "OPENAI_API_KEY": ""}, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "not found" not in r.stderr and "Traceback" not in r.stderr


def test_nan_and_inf_samples_are_silence_on_every_path(tmp_path):
    """`transcribe` read files through `to_int16`, which cast NaN straight to int16 (a numpy
    RuntimeWarning on stderr and undefined samples); a 48 kHz file was resampled with NaN first."""
    import warnings

    from assistant.audio.format import to_int16
    from assistant.stt.audio import load_audio

    x = np.array([0.0, np.nan, np.inf, -np.inf, 0.5], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert to_int16(x).tolist() == [0, 0, 32767, -32767, 16383]
        tone = (0.3 * np.sin(np.arange(48000) / 7.0)).astype(np.float32)
        tone[1000:3000] = np.nan
        tone[9000:9100] = np.inf
        path = tmp_path / "nan48k.wav"
        sf.write(path, tone, 48000, subtype="FLOAT")
        pcm = load_audio(path)
    assert len(pcm) == 16000 and np.abs(pcm[360:970]).max() < 200 and pcm.std() > 1000


@pytest.mark.parametrize("command", [["listen", "--input"], ["transcribe"]])
def test_a_broken_mp3_is_not_called_missing(tmp_path, command):
    """libsndfile answers a broken MP3 with "File does not exist or is not a regular file
    (possibly a pipe?)": the one line said so for a file that was there (hostile run)."""
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(np.random.default_rng(3).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    result = CliRunner().invoke(main, [*command, str(bad)])
    assert result.exit_code == 2, result.output
    line = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert len(line) == 1 and "not a readable audio file" in line[0] and "does not exist" not in line[0]
