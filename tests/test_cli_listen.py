"""`assistant listen / record / devices` through click's CliRunner."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main
from tests.audio.speech import SPEECH, TOLERANCE_S, entry


def invoke(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_listen_json_one_object_per_line_matches_truth():
    result = invoke("listen", "--input", str(SPEECH / "en_five_noisy.wav"), "--json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    truth = entry("en_five_noisy.wav")["sentences"]
    assert len(lines) == len(truth) == 5
    for n, (line, t) in enumerate(zip(lines, truth), 1):
        rec = json.loads(line)
        assert set(rec) == {"index", "start", "end", "duration"}
        assert rec["index"] == n
        assert abs(rec["start"] - t["start"]) <= TOLERANCE_S and abs(rec["end"] - t["end"]) <= TOLERANCE_S
        assert rec["duration"] == pytest.approx(rec["end"] - rec["start"], abs=0.0011)
        assert all(round(rec[k], 3) == rec[k] for k in ("start", "end", "duration"))


def test_listen_human_lines():
    result = invoke("listen", "--input", str(SPEECH / "ko_two_noisy.wav"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("  1  0.") and lines[0].endswith(" s)") and " s  (" in lines[0]


def test_listen_stdin_and_raw(tmp_path):
    data = (SPEECH / "en_48k.wav").read_bytes()
    result = invoke("listen", "--input", "-", "--json", input=data)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    pcm, rate = sf.read(SPEECH / "en_48k.wav", dtype="int16")
    raw = tmp_path / "in.raw"
    raw.write_bytes(pcm.tobytes())
    result2 = invoke("listen", "--input", str(raw), "--input-format", "raw", "--rate", str(rate), "--json")
    assert result2.exit_code == 0 and result2.stdout == result.stdout


def test_listen_save_dir_writes_utterance_wavs(tmp_path):
    out = tmp_path / "utts"
    result = invoke("listen", "--input", str(SPEECH / "en_short_pauses.wav"), "--json", "--save-dir", str(out))
    assert result.exit_code == 0, result.output
    recs = [json.loads(line) for line in result.stdout.splitlines()]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["utterance-001.wav", "utterance-002.wav"]  # no temp files left behind
    for rec in recs:
        info = sf.info(rec["file"])
        assert info.samplerate == 16000 and info.channels == 1
        # speech plus 0.3 s pre-roll and 0.15 s padding
        assert info.duration == pytest.approx(rec["duration"] + 0.45, abs=0.035)
    again = invoke("listen", "--input", str(SPEECH / "en_short_pauses.wav"), "--save-dir", str(out))
    assert again.exit_code == 2 and "utterance" in again.stderr  # never overwrites earlier files


@pytest.mark.parametrize("args,match", [
    (["--input", "missing.wav"], "not found"),
    (["--input", "{empty}"], "empty"),
    (["--input", "{corrupt}"], "cannot read"),
    (["--input", "{corrupt}", "--input-format", "raw"], "--rate"),
    (["--input-format", "raw"], "needs --input"),
])
def test_listen_errors_are_one_line_exit_2(tmp_path, args, match):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 20)
    args = [a.format(empty=tmp_path / "empty.wav", corrupt=tmp_path / "corrupt.wav") for a in args]
    result = invoke("listen", *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and match in result.stderr
    assert "Traceback" not in result.output


def test_listen_digital_silence_finds_nothing(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, np.zeros(16000, np.int16), 16000)
    result = invoke("listen", "--input", str(path), "--json")
    assert result.exit_code == 0 and result.stdout == ""


def test_record_refuses_to_overwrite_and_needs_wav(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    existing = tmp_path / "take.wav"
    existing.write_bytes(b"mine")
    result = invoke("record", "--seconds", "1", "--out", str(existing))
    assert result.exit_code == 2 and "--force" in result.stderr and existing.read_bytes() == b"mine"
    result = invoke("record", "--seconds", "1", "--out", str(tmp_path / "take.mp3"))
    assert result.exit_code == 2
    result = invoke("record", "--seconds", "1", "--out", str(tmp_path / "new.wav"))
    assert result.exit_code == 1 and "PortAudio" in result.stderr and not (tmp_path / "new.wav").exists()


def test_record_with_fake_device(tmp_path, monkeypatch):
    import types

    calls = {}

    def rec(frames, samplerate, channels, dtype, device):
        calls.update(frames=frames, samplerate=samplerate, device=device)
        return np.full((frames, 1), 1234, np.int16)

    sd = types.SimpleNamespace(rec=rec, wait=lambda: None, query_devices=lambda *a, **k: [])
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    out = tmp_path / "take.wav"
    result = invoke("record", "--seconds", "0.5", "--out", str(out), "--device", "2")
    assert result.exit_code == 0, result.output
    data, rate = sf.read(out, dtype="int16")
    assert rate == 16000 and len(data) == 8000 and calls["device"] == 2 and (data == 1234).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.wav"]


def test_devices_without_portaudio_is_one_clear_sentence(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    result = invoke("devices")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "PortAudio" in result.stderr


def test_devices_lists_inputs_and_outputs(monkeypatch):
    import types

    devices = [{"name": "USB Mic", "max_input_channels": 1, "max_output_channels": 0, "default_samplerate": 48000.0},
               {"name": "Speakers", "max_input_channels": 0, "max_output_channels": 2, "default_samplerate": 44100.0}]
    sd = types.SimpleNamespace(query_devices=lambda: devices, default=types.SimpleNamespace(device=(0, 1)))
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    result = invoke("devices")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["input devices:", " *  0  USB Mic  (1 ch, 48000 Hz)",
                                          "output devices:", " *  1  Speakers  (2 ch, 44100 Hz)"]


def test_ctrl_c_still_emits_the_utterance_in_progress():
    from assistant.cli.listen import segment
    from assistant.config import VadConfig
    from assistant.audio.sources import FileSource

    def interrupted():
        for i, frame in enumerate(FileSource(SPEECH / "en_48k.wav").iter_frames()):
            if i * 0.03 > 2.3:  # inside the second sentence
                raise KeyboardInterrupt
            yield frame

    found = list(segment(interrupted(), VadConfig()))
    assert len(found) == 2 and found[1].end == pytest.approx(2.3, abs=0.06)


def test_a_file_in_blocks_gives_the_utterances_of_frames():
    from assistant.cli.listen import segment
    from assistant.config import VadConfig
    from assistant.audio.sources import FileSource

    frames = list(FileSource(SPEECH / "en_five_noisy.wav").iter_frames())
    by_frame = [(u.start, u.end, u.audio.tobytes()) for u in segment(frames, VadConfig())]
    by_block = [(u.start, u.end, u.audio.tobytes()) for u in segment(iter(frames), VadConfig(), block=34)]
    assert len(by_frame) == len(entry("en_five_noisy.wav")["sentences"]) and by_block == by_frame
