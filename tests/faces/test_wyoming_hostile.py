"""The Wyoming server against a client we do not trust (127.0.0.1, fake engines, no models).

Each case: the client gets an ``Error`` naming what was wrong and its connection is closed,
the log has one WARNING line for it and no traceback, and the next client is answered."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.config import load_config, with_overrides
from assistant.errors import ApiError
from assistant.faces.wyoming import audio as wy_audio
from assistant.faces.wyoming import server as wy_server
from assistant.faces.wyoming import wire
from assistant.faces.wyoming.client import Connection
from tests.faces.sockets import send_and_read
from tests.faces.test_wyoming_server import with_server
from tests.loop.fakes import FakeSynthesizer

FMT = {"rate": 16000, "width": 2, "channels": 1}


class CountingTranscriber:
    def transcribe(self, audio, *, task="transcribe", language=None, **_):
        return SimpleNamespace(text=f"n={len(audio)}", language="en")


def ev(kind: str, data: dict | None = None, payload: bytes = b"") -> bytes:
    header: dict = {"type": kind}
    body = json.dumps(data).encode() if data else b""
    if body:
        header["data_length"] = len(body)
    if payload:
        header["payload_length"] = len(payload)
    return json.dumps(header).encode() + b"\n" + body + payload


def _whole_frames(raw: bytes) -> list[dict]:
    try:
        return frames(raw)
    except (ValueError, IndexError):  # the rest has not arrived yet
        return []


def frames(raw: bytes) -> list[dict]:
    """The events in a server's answer (headers with their data merged)."""
    out, i = [], 0
    while i < len(raw):
        end = raw.index(b"\n", i)
        header = json.loads(raw[i:end])
        i = end + 1
        n = header.get("data_length") or 0
        if n:
            header.setdefault("data", {}).update(json.loads(raw[i:i + n]))
            i += n
        i += header.get("payload_length") or 0
        out.append(header)
    return out


async def exchange(port: int, raw: bytes, wait: float = 5.0, until: str | None = None) -> tuple[list[dict], bool]:
    """Send ``raw``; read until the server closes (True), ``wait`` passes or an ``until`` event came (False)."""
    came = (lambda data: until in [e["type"] for e in _whole_frames(data)]) if until else None
    data, closed = await send_and_read(port, raw, wait, came)
    return frames(data), closed


def run_server(body, *, transcriber=None):
    cfg = with_overrides(load_config(), stt={"backend": "local"}, tts={"backend": "local"})
    engines = SimpleNamespace(transcriber=transcriber or CountingTranscriber(), synthesizer=FakeSynthesizer())
    return asyncio.run(with_server(cfg, engines, body))


async def answers_describe(port: int) -> bool:
    events, _ = await exchange(port, ev("describe"), wait=2.0, until="info")
    await asyncio.sleep(0.1)  # the server sees this client go
    return [e["type"] for e in events] == ["info"]


def one_warning(caplog) -> str:
    records = [r for r in caplog.records if r.name.startswith("assistant.faces.wyoming")]
    assert not [r for r in records if r.levelno >= logging.ERROR or r.exc_info], [r.getMessage() for r in records]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    return warnings[0]


AUDIO = ev("audio-start", FMT)
GARBAGE = {
    "binary": (b"\x00\xff\xfe\x89PNG\r\n", "not a JSON event header"),
    "a JSON list": (b"[1, 2]\n", "JSON list"),
    "a JSON number": (b"5\n", "JSON int"),
    "no type": (b'{"data": {}}\n', "without a type"),
    "data a list": (b'{"type": "describe", "data": [1]}\n', "data is not an object"),
    "data_length text": (b'{"type": "describe", "data_length": "5"}\n{"a":1}', "data_length '5'"),
    "data_length negative": (b'{"type": "describe", "data_length": -4}\n', "data_length -4"),
    "data_length a terabyte": (b'{"type": "transcript", "data_length": 1000000000000}\n', "over the limit"),
    "payload_length a terabyte": (b'{"type": "audio-chunk", "payload_length": 1000000000000}\n', "over the limit"),
    "data_length lies (short)": (b'{"type": "transcript", "data_length": 3}\n{"text": "hi"}', "not JSON"),
    "data a JSON list": (b'{"type": "describe", "data_length": 3}\n[1]', "JSON list"),
    "a header of 200 KB": (b"{" + b" " * 200_000 + b"}\n", "over 65536 bytes"),
    "transcript text a number": (ev("transcript", {"text": 5}), "text is not text"),
    "transcript without text": (ev("transcript", {}), "KeyError"),
    "transcript context a list": (ev("transcript", {"text": "hi", "context": [1]}), "context is not an object"),
    "synthesize text a list": (ev("synthesize", {"text": [1]}), "text is not text"),
    "synthesize voice a number": (ev("synthesize-start", {"voice": 5}), "synthesize-start"),
    "transcribe language a number": (ev("transcribe", {"language": 5}), "language is not text"),
    "rate 0": (AUDIO + ev("audio-chunk", {**FMT, "rate": 0}, b"\0" * 320), "audio rate 0"),
    "rate 1 (a 3 KB chunk would be 51 MB)": (AUDIO + ev("audio-chunk", {**FMT, "rate": 1}, b"\0" * 3200), "audio rate 1 "),
    "rate a string": (AUDIO + ev("audio-chunk", {**FMT, "rate": "x"}, b"\0" * 320), "audio rate 'x'"),
    "width 0": (AUDIO + ev("audio-chunk", {**FMT, "width": 0}, b"\0" * 320), "audio width 0"),
    "width 7": (AUDIO + ev("audio-chunk", {**FMT, "width": 7}, b"\0" * 322), "audio width 7"),
    "channels 0": (AUDIO + ev("audio-chunk", {**FMT, "channels": 0}, b"\0" * 320), "audio channels 0"),
    "half a frame": (AUDIO + ev("audio-chunk", FMT, b"\0" * 321), "not whole frames"),
    "24-bit, not whole frames": (AUDIO + ev("audio-chunk", {**FMT, "width": 3}, b"\0" * 320), "not whole frames"),
    "a chunk without its format": (AUDIO + ev("audio-chunk", {}, b"\0" * 320), "KeyError"),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_is_one_line_an_error_and_a_closed_connection(name, caplog):
    raw, reason = GARBAGE[name]

    async def body(server):
        events, closed = await exchange(server.port, raw)
        return events, closed, await answers_describe(server.port), server.connections, server.buffered

    with caplog.at_level(logging.INFO):
        events, closed, alive, connections, buffered = run_server(body)
    assert closed, "the connection stays open"
    assert events and events[-1]["type"] == "error" and reason in events[-1]["data"]["text"], events
    assert reason in one_warning(caplog)
    assert alive and connections == 0 and buffered == 0


def test_audio_of_any_width_and_channel_count_is_heard_at_its_real_level():
    """8-bit unsigned, 16/24/32-bit, 6 channels at 48 kHz: the same second of audio
    (six channels were mixed as if two: a third of the length)."""
    t = np.arange(48000) / 48000
    wave = (np.sin(2 * np.pi * 440 * t) * 20000).astype(np.int32)
    encodings = {1: ((wave >> 8) + 128).astype(np.uint8), 2: wave.astype("<i2"), 4: (wave << 16).astype("<i4"),
                 3: np.stack([(wave << 8) >> s & 255 for s in (0, 8, 16)], 1).astype(np.uint8)}
    for width, samples in encodings.items():
        interleaved = np.repeat(samples.reshape(len(wave), -1), 6, axis=0).reshape(len(wave), 6, -1)
        chunk = wy_audio.AudioChunk(rate=48000, width=width, channels=6, audio=interleaved.tobytes())
        collector = wy_audio.PcmCollector()
        collector.add(chunk)
        out = collector.samples()
        assert abs(len(out) - 16000) <= 32, (width, len(out))
        peak = np.abs(out[100:-100]).max()
        assert 19000 < peak < 20600, (width, peak)


def test_a_stream_without_end_is_refused_at_the_request_limit(monkeypatch, caplog):
    monkeypatch.setattr(wy_audio, "MAX_REQUEST_S", 2.0)
    monkeypatch.setattr(wy_audio.PcmCollector.__init__, "__defaults__", (2.0,))
    second = ev("audio-chunk", FMT, b"\1\0" * 16000)

    async def body(server):
        events, closed = await exchange(server.port, ev("transcribe") + AUDIO + second * 5)
        return events, closed, await answers_describe(server.port), server.buffered

    with caplog.at_level(logging.INFO):
        events, closed, alive, buffered = run_server(body)
    assert closed and events[-1]["type"] == "error" and "more than 2 s of audio" in events[-1]["data"]["text"]
    assert "more than 2 s" in one_warning(caplog)
    assert alive and buffered == 0


def test_audio_held_for_all_connections_together_is_bounded(monkeypatch, caplog):
    monkeypatch.setattr(wy_server, "MAX_BUFFERED_BYTES", 5 * 32000)
    second = ev("audio-chunk", FMT, b"\1\0" * 16000)

    async def body(server):
        holders = []
        for _ in range(2):  # two unfinished requests hold 4 s
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(AUDIO + second * 2)
            await writer.drain()
            holders.append(writer)
        await asyncio.sleep(0.3)
        held = server.buffered
        events, closed = await exchange(server.port, AUDIO + second * 2)  # the third goes over 5 s
        for writer in holders:
            writer.close()
        await asyncio.sleep(0.3)
        small, _ = await exchange(server.port, AUDIO + second + ev("audio-stop"), wait=1.0)
        return held, events, closed, small, server.buffered

    with caplog.at_level(logging.INFO):
        held, events, closed, small, buffered = run_server(body)
    assert held == 4 * 32000
    assert closed and "unfinished requests" in events[-1]["data"]["text"]
    assert "unfinished requests" in one_warning(caplog)
    assert small[-1]["data"]["text"] == "n=16000" and buffered == 0


def test_a_client_that_stalls_mid_event_or_mid_audio_is_dropped(monkeypatch, caplog):
    monkeypatch.setattr(wire, "BODY_TIMEOUT_S", 0.3)
    monkeypatch.setattr(wy_server, "BODY_TIMEOUT_S", 0.3)

    async def body(server):
        mid_event = await exchange(server.port, b'{"type": "transcript", "data_length": 100}\n{"te')
        mid_audio = await exchange(server.port, AUDIO + ev("audio-chunk", FMT, b"\0" * 320))
        idle = await exchange(server.port, ev("describe"), wait=1.0)  # idle between requests is fine
        return mid_event, mid_audio, idle, server.buffered

    with caplog.at_level(logging.INFO):
        (ev1, closed1), (ev2, closed2), (ev3, closed3), buffered = run_server(body)
    assert closed1 and "did not arrive within 0.3 s" in ev1[-1]["data"]["text"]
    assert closed2 and "no event for 0.3 s" in ev2[-1]["data"]["text"]
    assert not closed3 and ev3[-1]["type"] == "info" and buffered == 0


def test_a_hundred_clients_at_once_are_all_answered_and_more_are_refused_in_one_line(monkeypatch, caplog):
    request = (ev("transcribe", {"language": "en"}) + AUDIO + ev("audio-chunk", FMT, b"\1\0" * 8000)
               + ev("audio-stop") + ev("synthesize", {"text": "hello there"}))

    async def body(server):
        answers = await asyncio.gather(*(exchange(server.port, request, until="audio-stop") for _ in range(100)))
        monkeypatch.setattr(wy_server, "MAX_CONNECTIONS", 20)
        holders = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(30)]
        await asyncio.sleep(0.3)
        busy = server.connections
        refused, closed = await exchange(server.port, ev("describe"), wait=1.0)
        for _, writer in holders:
            writer.close()
        await asyncio.sleep(0.3)
        return answers, busy, refused, closed, await answers_describe(server.port)

    with caplog.at_level(logging.INFO):
        answers, busy, refused, closed, alive = run_server(body)
    for events, _ in answers:
        kinds = [e["type"] for e in events]
        assert kinds[0] == "transcript" and events[0]["data"]["text"] == "n=8000", kinds
        assert kinds[1] == "audio-start" and kinds[-1] == "audio-stop"
    assert busy == 20 and closed and refused[-1]["data"]["text"] == "too many connections"
    assert "refusing more" in one_warning(caplog)
    assert alive


def test_a_client_gone_mid_reply_leaves_no_trace(caplog):
    async def body(server):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(ev("synthesize", {"text": "Hello there. " * 500}))
        await writer.drain()
        writer.transport.abort()
        await asyncio.sleep(0.5)
        return await answers_describe(server.port), server.connections

    with caplog.at_level(logging.INFO):
        alive, connections = run_server(body)
    assert alive and connections == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_remote_engine_that_sends_garbage_is_an_api_error():
    """The blocking client of the remote engines: a JSON list, an endless line."""
    for garbage in (b"[1, 2]\n", b"x" * 200_000):
        listener = socket.create_server(("127.0.0.1", 0))

        def serve():
            conn, _ = listener.accept()
            conn.sendall(garbage)
            conn.recv(100)
            conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with Connection(f"tcp://127.0.0.1:{listener.getsockname()[1]}", 10300, 5.0, "speech server") as conn:
            with pytest.raises(ApiError, match="did not answer"):
                conn.receive()
        listener.close()
        thread.join(5)


def test_a_face_that_cannot_listen_while_models_load_is_its_own_error():
    """`serve --wyoming tcp://256.1.1.1:1` said "InvalidStateError: Exception is not set."
    (the serve task, still loading models, was asked for its exception)."""
    from assistant.errors import AssistantError
    from assistant.faces import hosting

    class Loading:
        loading = True
        notifier = None

        async def serve(self):
            await asyncio.sleep(30)

        def stop(self):
            pass

    class Unbindable:
        async def start(self, assistant):
            raise AssistantError("cannot listen for Wyoming on 256.1.1.1:1: Name or service not known")

        async def stop(self):
            pass

    with pytest.raises(AssistantError, match="cannot listen for Wyoming"):
        asyncio.run(hosting.serve(Loading(), [Unbindable()]))


def test_a_satellite_that_sends_garbage_is_one_line_per_connection_and_retried(caplog):
    """A 'satellite' answering Describe with garbage (a JSON list, then an Info whose data is a
    list): a log line each and a reconnect, never a traceback."""
    from assistant.config import load_config
    from assistant.faces.wyoming.satellite import SatelliteLink

    answers = [b"[1, 2]\n", b'{"type": "info", "data_length": 3}\n[1]', b'{"type": "info", "data": {"satellite": 5}}\n']

    async def main():
        served = []

        async def handle(reader, writer):
            await reader.readline()  # our Describe
            writer.write(answers[min(len(served), len(answers) - 1)])
            served.append(1)
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        link = SatelliteLink(load_config(), "127.0.0.1", port, backoff=(0.05, 0.1))
        await link.start(None)
        for _ in range(100):
            if len(served) >= 3:
                break
            await asyncio.sleep(0.05)
        await link.stop()
        server.close()
        return len(served)

    with caplog.at_level(logging.INFO):
        served = asyncio.run(main())
    assert served >= 3
    records = [r for r in caplog.records if r.name.startswith("assistant.faces.wyoming")]
    assert not [r for r in records if r.levelno >= logging.ERROR or r.exc_info], [r.getMessage() for r in records]
    lines = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any("JSON list" in line for line in lines) and any("info" in line for line in lines), lines
