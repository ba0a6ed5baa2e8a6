"""Frame sources: a file or stdin (FileSource) and a microphone (MicSource).

Both yield 960-byte frames of the internal format (16 kHz mono s16le, 30 ms; see format.py).
``sounddevice`` is imported only inside MicSource, so file input works without PortAudio.
"""
from __future__ import annotations

import asyncio
import io
import logging
import os
import stat
import struct
import sys
from pathlib import Path
from typing import AsyncIterator, BinaryIO, Iterator

import numpy as np

from ..errors import AssistantError, UserError
from .format import FRAME_BYTES, FRAME_SECONDS, SAMPLE_RATE, to_int16
from .resample import StreamResampler

log = logging.getLogger(__name__)

_CHUNK_BYTES = 32_768  # stdin/raw read size
_BLOCK_FRAMES = 16_384  # soundfile block size (samples per channel)


class MicrophoneError(AssistantError):
    """The microphone is missing, was lost or its stream failed (the service reopens it)."""

    exit_code = 1


# ---------------------------------------------------------------------- framing (pure)
class Framer:
    """Collects int16 mono samples at any rate and hands out whole 16 kHz frames."""

    def __init__(self, rate: int):
        self._resampler = StreamResampler(rate, SAMPLE_RATE)
        self._buf = bytearray()

    def push(self, samples: np.ndarray, last: bool = False) -> Iterator[bytes]:
        out = self._resampler.process(samples, last=last)
        self._buf += out.astype("<i2", copy=False).tobytes()
        n = len(self._buf) // FRAME_BYTES * FRAME_BYTES
        for i in range(0, n, FRAME_BYTES):
            yield bytes(self._buf[i : i + FRAME_BYTES])
        del self._buf[:n]
        if last and self._buf:  # zero-pad the final partial frame
            yield bytes(self._buf) + bytes(FRAME_BYTES - len(self._buf))
            self._buf.clear()


# ---------------------------------------------------------------------- WAV header (streaming)
_WAV_FORMATS = {(1, 16): "<i2", (1, 24): "i24", (1, 32): "<i4", (3, 32): "<f4", (3, 64): "<f8", (1, 8): "u1"}


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _wav_header(stream: BinaryIO, head: bytes, name: str) -> tuple[int, int, str, int | None]:
    """Parse a RIFF/WAVE header from a non-seekable stream up to the data chunk.

    Returns (rate, channels, numpy dtype, data bytes or None); ``head`` is the 12 bytes already read.
    """
    if len(head) < 12 or head[8:12] != b"WAVE":
        raise UserError(f"{name}: not a WAV stream")
    fmt = None
    while True:
        hdr = _read_exact(stream, 8)
        if len(hdr) < 8:
            raise UserError(f"{name}: WAV stream has no data chunk")
        cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
        if cid == b"data":
            data_size = size
            break
        body = _read_exact(stream, size + (size & 1))
        if cid == b"fmt ":
            if len(body) < 16:
                raise UserError(f"{name}: corrupt WAV fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: real tag in the GUID
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
    if fmt is None:
        raise UserError(f"{name}: WAV stream has no fmt chunk")
    tag, channels, rate, bits = fmt
    dtype = _WAV_FORMATS.get((tag, bits))
    if dtype is None or channels < 1 or rate < 1000:
        raise UserError(f"{name}: unsupported WAV stream (format {tag}, {bits} bit, {channels} ch, {rate} Hz)")
    # streaming writers (ffmpeg, sox to a pipe) leave the size 0 or 0xFFFFFFFF: read to EOF
    limit = data_size if 0 < data_size < 0xFFFFFFFF else None
    return rate, channels, dtype, limit


def _pcm_blocks(stream: BinaryIO, dtype: str, channels: int, limit: int | None = None) -> Iterator[np.ndarray]:
    """Read interleaved PCM incrementally (at most ``limit`` bytes); yields (n, channels) arrays."""
    width = (3 if dtype == "i24" else np.dtype(dtype).itemsize) * channels
    carry = b""
    left = limit
    while left is None or left > 0:
        want = _CHUNK_BYTES if left is None else min(_CHUNK_BYTES, left)
        # read1: return what a pipe has now instead of waiting for a full chunk
        chunk = stream.read1(want) if hasattr(stream, "read1") else stream.read(want)
        if not chunk:
            break
        if left is not None:
            left -= len(chunk)
        data = carry + chunk
        n = len(data) // width * width
        carry = data[n:]
        if n:
            yield _to_int16_block(data[:n], dtype, channels)


def _to_int16_block(data: bytes, dtype: str, channels: int) -> np.ndarray:
    """Interleaved little-endian PCM of a WAV ``dtype`` -> (n, channels) int16."""
    if dtype == "i24":
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        block = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8) >> 16  # sign-extended, top 16 bits
        return block.astype(np.int16).reshape(-1, channels)
    block = np.frombuffer(data, dtype=dtype).reshape(-1, channels)
    if dtype == "u1":
        return ((block.astype(np.int16) - 128) * 256).astype(np.int16)
    if dtype.startswith("<f"):
        return float_to_int16(block)
    return to_int16(block)


# ---------------------------------------------------------------------- FileSource
def existing_audio_file(path: str | os.PathLike[str], what: str = "input file") -> Path:
    """``path`` as a Path if it is a non-empty file; else the one-line reason (UserError)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise UserError(f"{what} not found: {p}") from None
    except OSError as exc:  # permission, a loop of symlinks, a name too long
        raise UserError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{p} is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "special file")
        raise UserError(f"{p} is a {kind}, not a regular audio file (use --input - to read a stream)")
    if st.st_size == 0:
        raise UserError(f"cannot read audio file {p}: the file is empty")
    return p


_KINDS = {stat.S_IFCHR: "character device", stat.S_IFBLK: "block device", stat.S_IFIFO: "named pipe",
          stat.S_IFSOCK: "socket"}


class FileSource:
    """Frames from a sound file (anything soundfile reads), raw s16le, or stdin (``"-"``)."""

    def __init__(self, path: str | Path, *, input_format: str = "auto", rate: int | None = None,
                 realtime: bool = False):
        if input_format not in ("auto", "raw"):
            raise UserError(f"unknown input format {input_format!r}; use auto or raw")
        if input_format == "raw" and not rate:
            raise UserError("raw input needs --rate (sample rate in Hz)")
        if rate is not None and not 1000 <= rate <= 384_000:
            raise UserError(f"sample rate out of range: {rate}")
        self.path = str(path)
        self.input_format = input_format
        self.rate = rate
        self.realtime = realtime
        self.is_stdin = self.path == "-"
        self.name = "stdin" if self.is_stdin else self.path

    # -- sync
    def iter_frames(self) -> Iterator[bytes]:
        count = 0
        for frame in self._frames():
            count += 1
            yield frame
        if count == 0:
            raise UserError(f"{self.name}: no audio (empty input)")

    def _frames(self) -> Iterator[bytes]:
        if self.is_stdin:
            stream: BinaryIO = sys.stdin.buffer
            yield from self._from_stream(stream)
            return
        path = existing_audio_file(self.path)
        if self.input_format == "raw":
            with path.open("rb") as fh:
                yield from self._raw(fh)
            return
        yield from self._soundfile(path)

    def _from_stream(self, stream: BinaryIO) -> Iterator[bytes]:
        if self.input_format == "raw":
            yield from self._raw(stream)
            return
        head = _read_exact(stream, 12)
        if not head:
            raise UserError("stdin: no audio (empty input)")
        if head[:4] == b"RIFF":  # stream WAV without reading it whole
            rate, channels, dtype, limit = _wav_header(stream, head, "stdin")
            framer = Framer(rate)
            for block in _pcm_blocks(stream, dtype, channels, limit):
                yield from framer.push(_mono16(block))
            yield from framer.push(np.zeros(0, np.int16), last=True)
            return
        # other formats (FLAC, OGG, ...) need seeking: read whole
        yield from self._soundfile(io.BytesIO(head + stream.read()))

    def _raw(self, stream: BinaryIO) -> Iterator[bytes]:
        framer = Framer(int(self.rate or SAMPLE_RATE))
        for block in _pcm_blocks(stream, "<i2", 1):
            yield from framer.push(block[:, 0])
        yield from framer.push(np.zeros(0, np.int16), last=True)

    def _soundfile(self, source: Path | io.BytesIO) -> Iterator[bytes]:
        from .quiet import is_mpeg, sniff, without_mpg123_noise

        with without_mpg123_noise(is_mpeg(sniff(source))):  # a broken MP3: our one line only
            yield from self._soundfile_frames(source)

    def _soundfile_frames(self, source: Path | io.BytesIO) -> Iterator[bytes]:
        import soundfile as sf

        try:
            snd = sf.SoundFile(os.fsencode(source) if isinstance(source, Path) else source)  # any file name bytes
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise UserError(f"{self.name}: cannot read audio ({soundfile_reason(exc)})") from None
        with snd:
            if snd.samplerate < 1000 or snd.channels < 1:
                raise UserError(f"{self.name}: unsupported audio ({snd.samplerate} Hz, {snd.channels} ch)")
            framer = Framer(snd.samplerate)
            while True:
                try:
                    # float, then clipped to int16: libsndfile's own float->int16 does not scale
                    # float files (they came out as -1/0/1), and 24/32-bit ints keep their level
                    block = snd.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    raise UserError(f"{self.name}: corrupt audio ({_first_line(exc)})") from None
                if not len(block):
                    break
                yield from framer.push(_mono16(float_to_int16(block)))
            yield from framer.push(np.zeros(0, np.int16), last=True)

    # -- async
    async def frames(self) -> AsyncIterator[bytes]:
        """Frames as fast as possible, or at wall-clock pace with ``realtime``. Reads off the loop."""
        it = self.iter_frames()
        batch = 1 if self.is_stdin or self.realtime else 64
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        n = 0
        while True:
            frames = await asyncio.to_thread(_take, it, batch)
            for frame in frames:
                if self.realtime:
                    delay = t0 + n * FRAME_SECONDS - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                n += 1
                yield frame
            if len(frames) < batch:
                return


def _take(it: Iterator[bytes], n: int) -> list[bytes]:
    out = []
    for frame in it:
        out.append(frame)
        if len(out) >= n:
            break
    return out


def float_to_int16(block: np.ndarray) -> np.ndarray:
    """Float samples (full scale ±1.0) -> int16, clipped; NaN/inf (broken files) become 0 / the rails.

    The scale is 32768 so 16-bit files read as float come back bit-exact."""
    block = np.nan_to_num(np.asarray(block, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(np.rint(block * 32768.0), -32768, 32767).astype(np.int16)


def _mono16(block: np.ndarray) -> np.ndarray:
    """(n, channels) int16 -> (n,) int16, channels averaged (no int16 overflow)."""
    if block.ndim == 1:
        return np.ascontiguousarray(block, dtype=np.int16)
    if block.shape[1] == 1:
        return np.ascontiguousarray(block[:, 0], dtype=np.int16)
    return np.round(block.astype(np.float32).mean(axis=1)).astype(np.int16)


def soundfile_reason(exc: BaseException) -> str:
    """libsndfile's reason without its "Error opening <object repr>: " prefix. For a regular file
    it could not parse (a broken MP3) libsndfile says the file does not exist: not so here."""
    reason = getattr(exc, "error_string", None)
    reason = str(reason) if reason else _first_line(exc)
    if reason.startswith("File does not exist or is not a regular file"):
        return "not a readable audio file (corrupt, or a format that cannot be read)"
    return reason


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------------- MicSource
def _import_sounddevice():
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        raise MicrophoneError(f"no audio devices: PortAudio is not available ({_first_line(exc)}); install libportaudio2") from None
    return sd


def resolve_device(sd, device: str | int | None, kind: str = "input") -> int | None:
    """Index, digit string or case-insensitive name substring -> device index (None = default)."""
    if device is None or device == "":
        return None
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        return int(device)
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    try:
        devices = list(sd.query_devices())
    except Exception as exc:  # PortAudioError and friends
        raise MicrophoneError(f"cannot list audio devices ({_first_line(exc)})") from None
    needle = str(device).lower()
    for i, info in enumerate(devices):
        if needle in str(info.get("name", "")).lower() and info.get(channels, 0) > 0:
            return i
    raise MicrophoneError(f"no {kind} device matches {device!r}")


def _is_rate_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    args = getattr(exc, "args", ())
    code = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    return code == -9997 or "-9997" in text or "invalid sample rate" in text


class MicSource:
    """Live microphone frames. The PortAudio callback only copies the block and hands it to the
    event loop with ``call_soon_threadsafe``; resampling and framing happen on the loop side."""

    STALL_S = 3.0  # no audio for this long -> MicrophoneError (device gone)

    def __init__(self, device: str | int | None = None, *, rate: int = 0):
        self.device = device
        self.rate = rate
        self.overflows = 0
        self.stream_rate: int | None = None
        self._stream = None

    def _open(self, sd, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        index = resolve_device(sd, self.device, "input")

        def callback(indata, frames, time_info, status) -> None:  # PortAudio thread: never block
            if status and status.input_overflow:
                self.overflows += 1
            try:
                loop.call_soon_threadsafe(queue.put_nowait, indata.copy())
            except RuntimeError:  # loop closed while the stream winds down
                pass

        def finished() -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:
                pass

        def open_at(rate: int):
            stream = sd.InputStream(samplerate=rate, channels=1, dtype="int16", device=index,
                                    blocksize=int(rate * FRAME_SECONDS), callback=callback,
                                    finished_callback=finished)
            stream.start()
            return stream

        rate = self.rate or SAMPLE_RATE
        try:
            self._stream = open_at(rate)
        except Exception as exc:
            if not _is_rate_error(exc):
                raise MicrophoneError(f"cannot open microphone ({_first_line(exc)})") from None
            try:
                rate = int(sd.query_devices(index, "input")["default_samplerate"])
                log.info("microphone refuses %d Hz; opening at %d Hz and resampling", self.rate or SAMPLE_RATE, rate)
                self._stream = open_at(rate)
            except Exception as exc2:
                raise MicrophoneError(f"cannot open microphone ({_first_line(exc2)})") from None
        self.stream_rate = rate

    async def frames(self) -> AsyncIterator[bytes]:
        sd = _import_sounddevice()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        self._open(sd, loop, queue)
        framer = Framer(int(self.stream_rate or SAMPLE_RATE))
        seen_overflows = 0
        try:
            while True:
                try:
                    block = await asyncio.wait_for(queue.get(), self.STALL_S)
                except asyncio.TimeoutError:
                    raise MicrophoneError(f"no audio from the microphone for {self.STALL_S:.0f} s") from None
                if block is None:
                    raise MicrophoneError("microphone stream stopped (device lost?)")
                if self.overflows != seen_overflows:
                    log.warning("microphone overflow: %d blocks dropped so far", self.overflows)
                    seen_overflows = self.overflows
                for frame in framer.push(_mono16(block)):
                    yield frame
        finally:
            self.close()

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # already gone
                log.debug("closing microphone: %s", exc)


__all__ = ["FileSource", "MicSource", "MicrophoneError", "Framer", "resolve_device"]
