"""Speech saving/Jupyter display and the Speaker (against a fake sounddevice) / NullSpeaker."""
from __future__ import annotations

import sys
import threading
import time
import types

import numpy as np
import pytest
import soundfile as sf

from assistant.audio.playback import NullSpeaker, Speaker
from assistant.errors import UserError
from assistant.tts.base import Speech, format_for


def tone(seconds=0.5, rate=22050):
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 300 * t) * 8000).astype(np.int16)


@pytest.mark.parametrize("suffix", ["wav", "flac", "ogg", "mp3", "opus"])
def test_save_formats(tmp_path, suffix):
    speech = Speech(tone(), 22050)
    path = speech.save(tmp_path / f"x.{suffix}")
    info = sf.info(path)
    assert abs(info.duration - 0.5) < 0.08
    assert [p.name for p in tmp_path.iterdir()] == [f"x.{suffix}"]  # no temp files left


def test_save_pcm_and_format_override(tmp_path):
    speech = Speech(tone(), 22050)
    assert (speech.save(tmp_path / "raw.bin", "pcm")).read_bytes() == tone().tobytes()
    data, rate = sf.read(speech.save(tmp_path / "noext", "wav"), dtype="int16")
    assert rate == 22050 and len(data) == len(tone())


def test_save_errors(tmp_path):
    speech = Speech(tone(), 22050)
    with pytest.raises(UserError, match="cannot tell the audio format"):
        speech.save(tmp_path / "noext")
    with pytest.raises(UserError, match="cannot write 'aac'"):
        format_for("x.aac")
    with pytest.raises(UserError, match="directory does not exist"):
        speech.save(tmp_path / "missing" / "x.wav")
    (tmp_path / "keep.wav").write_bytes(b"mine")
    with pytest.raises(UserError, match="not overwriting"):
        speech.save(tmp_path / "keep.wav", overwrite=False)
    assert (tmp_path / "keep.wav").read_bytes() == b"mine"


def test_jupyter_inline_audio():
    speech = Speech(tone(), 22050)
    html = speech._repr_html_()
    assert html.startswith("<audio controls") and "data:audio/wav;base64,UklGR" in html
    bundle = speech._repr_mimebundle_()
    assert bundle["text/html"] == html and "0.50s" in bundle["text/plain"]


def test_null_speaker_plays_and_stops():
    spk = NullSpeaker()
    assert spk.play([tone(), tone()], 22050) is True and spk.played == 2

    def endless():
        while True:
            yield tone(0.01)

    threading.Timer(0.05, spk.stop).start()
    assert spk.play(endless(), 22050) is False


class FakeStream:
    def __init__(self, log, **kw):
        self.kw, self.log, self.written = kw, log, []
        log.append(self)

    def start(self):
        self.log.append("start")

    def write(self, data):
        self.written.append(np.array(data))
        time.sleep(len(data) / self.kw["samplerate"] / 4)  # a fast fake device

    def stop(self):
        self.log.append("stop")

    def abort(self):
        self.log.append("abort")

    def close(self):
        self.log.append("close")


@pytest.fixture
def fake_sd(monkeypatch):
    log: list = []
    mod = types.SimpleNamespace(rates={48000}, log=log)

    def check_output_settings(device=None, samplerate=None, channels=None, dtype=None):
        if samplerate not in mod.rates:
            raise ValueError("Invalid sample rate")

    mod.check_output_settings = check_output_settings
    mod.query_devices = lambda device=None, kind=None: {"name": "fake", "max_output_channels": 2,
                                                         "default_samplerate": 48000.0}
    mod.OutputStream = lambda **kw: FakeStream(log, **kw)
    monkeypatch.setitem(sys.modules, "sounddevice", mod)
    return mod


def test_speaker_resamples_when_device_refuses_rate(fake_sd):
    spk = Speaker("0")
    assert spk.device == 0
    assert Speaker.available() == (True, "fake")
    first_seen = []

    def chunks():
        yield tone(0.3, 24000)
        first_seen.append(list(fake_sd.log))  # the stream was started on the first chunk
        yield tone(0.3, 24000)

    assert spk.play(chunks(), 24000) is True
    stream = fake_sd.log[0]
    assert stream.kw["samplerate"] == 48000 and "start" in first_seen[0]
    total = sum(len(w) for w in stream.written)
    assert abs(total - 0.6 * 48000) < 48000 * 0.02
    assert fake_sd.log[-2:] == ["stop", "close"]


def test_speaker_stop_cuts_at_once(fake_sd):
    fake_sd.rates.add(22050)
    spk = Speaker()

    def endless():
        for _ in range(1000):
            yield tone(0.5)

    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("ok", spk.play(endless(), 22050)))
    worker.start()
    time.sleep(0.2)
    assert spk.is_playing
    t0 = time.monotonic()
    spk.stop()
    worker.join(2)
    assert time.monotonic() - t0 < 0.2
    assert result["ok"] is False and not spk.is_playing
    assert "abort" in fake_sd.log and fake_sd.log[0].kw["samplerate"] == 22050


def test_speaker_unavailable_without_portaudio(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_portaudio(name, *a, **kw):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *a, **kw)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    ok, why = Speaker.available()
    assert not ok and "PortAudio" in why and "\n" not in why
