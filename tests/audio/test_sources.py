"""FileSource (files, raw, stdin, formats, resampling) and MicSource with a fake sounddevice."""
from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
import types

import numpy as np
import pytest
import soundfile as sf

from assistant.audio.format import FRAME_BYTES, FRAME_SAMPLES
from assistant.audio.sources import FileSource, Framer, MicrophoneError, MicSource
from assistant.errors import UserError
from tests.audio.speech import RATE, SPEECH, int16, peak_hz, tone, wav_bytes


def pcm(frames: list[bytes]) -> np.ndarray:
    assert all(len(f) == FRAME_BYTES for f in frames)
    return np.frombuffer(b"".join(frames), dtype=np.int16)


def frames_of(path, **kw) -> list[bytes]:
    return list(FileSource(path, **kw).iter_frames())


class FakeStdin:
    def __init__(self, data: bytes):
        self.buffer = io.BufferedReader(io.BytesIO(data))


# ---------------------------------------------------------------- resampling
@pytest.mark.parametrize("rate,channels", [(48000, 1), (44100, 2), (22050, 1), (16000, 1)])
def test_resampling_preserves_tone_frequency(tmp_path, rate, channels):
    x = tone(1.0, 1000.0, rate)
    data = x if channels == 1 else np.stack([x, x], axis=1)
    path = tmp_path / f"tone-{rate}.wav"
    sf.write(path, data, rate, subtype="PCM_16")
    out = pcm(frames_of(path))
    assert abs(len(out) - RATE) <= FRAME_SAMPLES  # one second stays one second
    assert peak_hz(out[1000:15000]) == pytest.approx(1000.0, abs=3)
    assert np.abs(out[1000:15000]).max() == pytest.approx(0.5 * 32767, rel=0.03)  # no loss of level


def test_stereo_is_down_mixed(tmp_path):
    left, right = tone(0.5, 440.0, RATE, 0.4), tone(0.5, 440.0, RATE, 0.2)
    path = tmp_path / "st.wav"
    sf.write(path, np.stack([left, right], axis=1), RATE, subtype="PCM_16")
    out = pcm(frames_of(path))[: len(left)]
    assert np.allclose(out, int16(0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(len(left)) / RATE)), atol=3)


def test_flac_and_fixture_formats():
    frames = frames_of(SPEECH / "en_44k_stereo.flac")
    assert len(frames) == pytest.approx(sf.info(SPEECH / "en_44k_stereo.flac").duration / 0.03, abs=1)


def test_tail_is_zero_padded_to_a_whole_frame(tmp_path):
    path = tmp_path / "odd.wav"
    sf.write(path, np.full(1000, 1000, np.int16), RATE, subtype="PCM_16")
    out = pcm(frames_of(path))
    assert len(out) == 3 * FRAME_SAMPLES and out[999] == 1000 and not out[1000:].any()


# ---------------------------------------------------------------- raw and stdin
def test_raw_file_needs_rate_and_is_resampled(tmp_path):
    path = tmp_path / "a.raw"
    path.write_bytes(int16(tone(1.0, 500.0, 8000, 0.5) * 32767).tobytes())
    with pytest.raises(UserError, match="--rate"):
        FileSource(path, input_format="raw")
    out = pcm(frames_of(path, input_format="raw", rate=8000))
    assert abs(len(out) - RATE) <= FRAME_SAMPLES
    assert peak_hz(out[1000:15000]) == pytest.approx(500.0, abs=3)


def test_raw_16k_passes_through_exactly(tmp_path):
    data = int16(np.random.default_rng(0).standard_normal(4800) * 1000)
    path = tmp_path / "a.raw"
    path.write_bytes(data.tobytes() + b"\x01")  # a stray odd byte is ignored
    assert np.array_equal(pcm(frames_of(path, input_format="raw", rate=16000)), data)


@pytest.mark.parametrize("kind", ["wav", "flac", "raw"])
def test_stdin(monkeypatch, kind):
    x = int16(tone(0.6, 700.0, 48000, 0.5) * 32767)
    data = {"wav": lambda: wav_bytes(x, 48000), "flac": lambda: wav_bytes(x, 48000, "FLAC"),
            "raw": lambda: x.tobytes()}[kind]()
    monkeypatch.setattr(sys, "stdin", FakeStdin(data))
    kw = {"input_format": "raw", "rate": 48000} if kind == "raw" else {}
    out = pcm(frames_of("-", **kw))
    assert abs(len(out) - 0.6 * RATE) <= FRAME_SAMPLES
    assert peak_hz(out[500:9000]) == pytest.approx(700.0, abs=4)


def test_stdin_wav_streams_before_eof(monkeypatch):
    """The first frame arrives after reading only a small part of a long WAV pipe."""
    x = int16(tone(60.0, 300.0, RATE, 0.3) * 32767)
    data = wav_bytes(x, RATE)

    class Pipe(io.RawIOBase):
        pos = 0

        def readable(self):
            return True

        def readinto(self, b):
            n = min(len(b), 4096, len(data) - self.pos)  # a pipe hands out small pieces
            b[:n] = data[self.pos : self.pos + n]
            self.pos += n
            return n

    pipe = Pipe()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BufferedReader(pipe, 4096)))
    it = FileSource("-").iter_frames()
    first = next(it)
    assert len(first) == FRAME_BYTES
    assert pipe.pos < len(data) // 10


def test_wav_stream_extensible_float(monkeypatch):
    x = tone(0.3, 1000.0, 32000, 0.5).astype(np.float32)
    data = wav_bytes(x, 32000, subtype="FLOAT")
    monkeypatch.setattr(sys, "stdin", FakeStdin(data))
    out = pcm(frames_of("-"))
    assert peak_hz(out[200:4500]) == pytest.approx(1000.0, abs=5)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("content,match", [(None, "not found"), (b"", "empty"), (b"RIFF\x00\x00garbage" * 50, "cannot read"),
                                           (b"\x00\x01" * 3000, "cannot read")])
def test_bad_files_are_one_line_user_errors(tmp_path, content, match):
    path = tmp_path / "in.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=match) as info:
        frames_of(path)
    assert "\n" not in str(info.value)


def test_header_only_wav_is_empty(tmp_path):
    path = tmp_path / "h.wav"
    sf.write(path, np.zeros(0, np.int16), RATE, subtype="PCM_16")
    with pytest.raises(UserError, match="no audio"):
        frames_of(path)


def test_empty_and_corrupt_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", FakeStdin(b""))
    with pytest.raises(UserError, match="empty"):
        frames_of("-")
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"RIFF\x24\x00\x00\x00WAVEjunk"))
    with pytest.raises(UserError):
        frames_of("-")


def test_bad_options():
    with pytest.raises(UserError):
        FileSource("x", input_format="mp3")
    with pytest.raises(UserError):
        FileSource("x", input_format="raw", rate=10)


# ---------------------------------------------------------------- async and pacing
def test_async_frames_match_sync_and_realtime_paces(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(0.6, 440.0, 48000), 48000, subtype="PCM_16")

    async def collect(src):
        return [f async for f in src.frames()]

    assert asyncio.run(collect(FileSource(path))) == frames_of(path)
    src = FileSource(path, realtime=True)
    t = time.monotonic()
    got = asyncio.run(collect(src))
    assert time.monotonic() - t >= (len(got) - 1) * 0.03 * 0.95


def test_framer_keeps_remainder():
    framer = Framer(RATE)
    assert list(framer.push(np.ones(300, np.int16))) == []
    assert len(list(framer.push(np.ones(300, np.int16)))) == 1
    assert len(list(framer.push(np.zeros(0, np.int16), last=True))) == 1


# ---------------------------------------------------------------- microphone (fake sounddevice)
class FakePortAudioError(Exception):
    pass


def fake_sounddevice(*, refuse_16k: bool, blocks: int, overflow_at: int = -1, default_rate: int = 48000):
    opened = []

    class Stream:
        def __init__(self, samplerate, channels, dtype, device, blocksize, callback, finished_callback):
            if refuse_16k and samplerate == 16000:
                raise FakePortAudioError("Error opening InputStream: Invalid sample rate [PaErrorCode -9997]", -9997)
            self.rate, self.callback, self.finished = samplerate, callback, finished_callback
            self.blocksize, self.stopped = blocksize, False
            opened.append(self)

        def start(self):
            import threading

            def run():
                t = np.arange(self.blocksize * blocks) / self.rate
                data = int16(0.5 * 32767 * np.sin(2 * np.pi * 1000 * t)).reshape(blocks, -1, 1)
                for i in range(blocks):
                    status = types.SimpleNamespace(input_overflow=i == overflow_at)
                    self.callback(data[i], self.blocksize, None, status)
                self.finished()  # the device goes away

            threading.Thread(target=run, daemon=True).start()

        def stop(self):
            self.stopped = True

        def close(self):
            pass

    devices = [{"name": "Fake USB Mic", "max_input_channels": 1, "max_output_channels": 0, "default_samplerate": default_rate},
               {"name": "Speakers", "max_input_channels": 0, "max_output_channels": 2, "default_samplerate": 44100}]

    def query_devices(index=None, kind=None):
        if index is None and kind is None:
            return devices
        return devices[index or 0]

    mod = types.SimpleNamespace(InputStream=Stream, query_devices=query_devices, PortAudioError=FakePortAudioError,
                                default=types.SimpleNamespace(device=(0, 1)))
    return mod, opened


def test_mic_falls_back_to_default_rate_and_resamples(monkeypatch):
    sd, opened = fake_sounddevice(refuse_16k=True, blocks=40, overflow_at=5)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    mic = MicSource("usb")
    frames: list[bytes] = []

    async def run():
        with pytest.raises(MicrophoneError, match="stopped"):
            async for f in mic.frames():
                frames.append(f)

    asyncio.run(run())
    assert opened[0].rate == 48000 and mic.stream_rate == 48000 and opened[0].stopped
    assert mic.overflows == 1
    out = pcm(frames)
    assert abs(len(frames) - 40) <= 2  # 40 blocks of 30 ms
    assert peak_hz(out[2000:]) == pytest.approx(1000.0, abs=5)


def test_mic_unknown_device_and_missing_portaudio(monkeypatch):
    sd, _ = fake_sounddevice(refuse_16k=False, blocks=1)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)

    async def first(mic):
        async for f in mic.frames():
            return f

    with pytest.raises(MicrophoneError, match="no input device"):
        asyncio.run(first(MicSource("nonexistent")))
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(MicrophoneError, match="PortAudio"):
        asyncio.run(first(MicSource()))


def test_imports_work_without_sounddevice():
    code = ("import sys; sys.modules['sounddevice'] = None\n"
            "import assistant, assistant.audio.sources, assistant.cli, assistant.vad.segmenter\n"
            "from assistant.audio.sources import FileSource\n"
            f"print(sum(1 for _ in FileSource({str(SPEECH / 'en_48k.wav')!r}).iter_frames()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 0


def test_stdin_wav_trailing_chunk_and_unknown_size(monkeypatch):
    x = int16(tone(0.3, 440.0, RATE, 0.5) * 32767)
    data = wav_bytes(x, RATE) + b"LIST\x10\x00\x00\x00" + b"\x7f" * 16  # metadata after the samples
    monkeypatch.setattr(sys, "stdin", FakeStdin(data))
    out = pcm(frames_of("-"))
    assert np.array_equal(out[: len(x)], x) and not out[len(x):].any()
    streamed = bytearray(wav_bytes(x, RATE))
    streamed[40:44] = b"\xff\xff\xff\xff"  # data size unknown, as ffmpeg writes to a pipe
    monkeypatch.setattr(sys, "stdin", FakeStdin(bytes(streamed)))
    assert np.array_equal(pcm(frames_of("-"))[: len(x)], x)
