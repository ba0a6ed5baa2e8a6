"""The Wyoming server driven by the `wyoming` client library the way Home Assistant drives it,
on 127.0.0.1: Describe -> Info, Transcribe + audio of a real recording -> Transcript,
Synthesize -> audio at the announced rate (streaming too), bad addresses and the bind warning."""
from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, SynthesizeVoice

from assistant.config import load_config, with_overrides
from assistant.errors import UserError
from assistant.faces.wyoming import wyoming_faces
from assistant.faces.wyoming.audio import audio_chunks
from assistant.faces.wyoming.uri import parse_uri, warn_if_exposed
from tests import corpus


def local_config():
    return with_overrides(load_config(), stt={"backend": "local"}, tts={"backend": "local", "deterministic": True},
                          images={"backend": "openai"})


async def read_until(client, *types, limit=10_000):
    events = []
    for _ in range(limit):
        event = await asyncio.wait_for(client.read_event(), 120)
        assert event is not None, "connection closed"
        events.append(event)
        if event.type in types:
            return events
    raise AssertionError(f"no {types}")


async def with_server(cfg, engines, body):
    (server,) = wyoming_faces(cfg, engines, servers=["tcp://127.0.0.1:0"])
    await server.start(None)
    try:
        return await body(server)
    finally:
        await server.stop()


def test_uri_defaults_and_errors():
    assert parse_uri("tcp://0.0.0.0:10500", 10400) == ("0.0.0.0", 10500)
    assert parse_uri("tcp://", 10400) == ("127.0.0.1", 10400)
    assert parse_uri("kitchen:10700", 10700, default_host=None) == ("kitchen", 10700)
    for bad in ("http://x:1", "tcp://x:99999", "", "tcp://x:1/path"):
        with pytest.raises(UserError):
            parse_uri(bad, 10400)


def test_bind_warning(caplog):
    with caplog.at_level(logging.WARNING):
        assert not warn_if_exposed("127.0.0.1", 10400)
        assert warn_if_exposed("0.0.0.0", 10400)
    assert "no authentication" in caplog.text


def test_describe_answers_info_without_loading_a_model():
    async def body(server):
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(Describe().event())
            (event,) = await read_until(client, "info")
        return Info.from_event(event)

    info = asyncio.run(with_server(local_config(), None, body))
    (asr,) = info.asr
    names = [m.name for m in asr.models]
    assert any(n.endswith("-translate-en") for n in names)
    assert asr.models[0].languages[:2] == ["en", "ko"] and len(asr.models[0].languages) > 50
    (tts,) = info.tts
    assert tts.supports_synthesize_streaming
    assert {"alloy", "nova"} <= {v.name for v in tts.voices}
    assert all("ko" in v.languages for v in tts.voices)
    (handle,) = info.handle
    assert "draw" in handle.models[0].description and handle.models[0].languages == ["en", "ko"]
    assert asr.installed and tts.installed and handle.installed


@pytest.fixture(scope="module")
def engines():
    from assistant.audio.playback import NullSpeaker
    from assistant.engines import build_engines

    return build_engines(local_config(), speaker=NullSpeaker())


@pytest.mark.slow
def test_transcribe_a_real_recording(engines):
    corpus.need_corpus()
    (clip,) = [c for c in corpus.select(language="en", with_text=True) if c.name == "cheetah_platforms"]

    async def body(server):
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            for chunk in audio_chunks(clip.pcm(), 16000):
                await client.write_event(chunk.event())
            await client.write_event(AudioStop().event())
            events = await read_until(client, "transcript")
        return Transcript.from_event(events[-1])

    transcript = asyncio.run(with_server(local_config(), engines, body))
    assert "platforms" in transcript.text.lower() and transcript.language == "en"


@pytest.mark.slow
def test_synthesize_english_and_korean_at_the_announced_rate(engines):
    async def synth(server, text, voice):
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=voice)).event())
            events = await read_until(client, "audio-stop")
        start = AudioStart.from_event(events[0])
        chunks = [AudioChunk.from_event(e) for e in events if e.type == "audio-chunk"]
        assert chunks and all(c.rate == start.rate and c.width == 2 and c.channels == 1 for c in chunks)
        return start.rate, sum(len(c.audio) for c in chunks) / 2 / start.rate

    async def body(server):
        return await synth(server, "Hello from the assistant.", "nova"), await synth(server, "안녕하세요.", "alloy")

    (rate_en, seconds_en), (rate_ko, seconds_ko) = asyncio.run(with_server(local_config(), engines, body))
    assert rate_en == rate_ko == engines.synthesizer.sample_rate
    assert 0.5 < seconds_en < 5 and 0.3 < seconds_ko < 5


@pytest.mark.slow
def test_streaming_synthesis_speaks_each_sentence(engines):
    async def body(server):
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="alloy")).event())
            for piece in ("The first sen", "tence. The sec", "ond one"):
                await client.write_event(SynthesizeChunk(text=piece).event())
            await client.write_event(Synthesize(text="The first sentence. The second one").event())
            await client.write_event(SynthesizeStop().event())
            return await read_until(client, SynthesizeStopped().event().type)

    events = asyncio.run(with_server(local_config(), engines, body))
    types = [e.type for e in events]
    assert types.count("audio-start") == 2 and types.count("audio-stop") == 2
    assert types[-1] == "synthesize-stopped"


def needs_loop():
    from assistant.loop import Assistant

    if not hasattr(Assistant, "handle_text"):
        pytest.skip("needs the turn-events loop (Assistant.handle_text)")
    return Assistant


@pytest.mark.slow
def test_transcript_draw_a_red_fox_is_handled_and_the_picture_saved(tmp_path, monkeypatch):
    """Home Assistant's conversation agent: Transcript -> Handled, the saved picture in context."""
    from wyoming.handle import Handled, NotHandled

    from assistant.audio.playback import NullSpeaker
    from assistant.engines import build_engines
    from tests.standin import StandIn

    Assistant = needs_loop()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-handle-0123456789")
    with StandIn() as standin:
        cfg = with_overrides(local_config(), images={"backend": "openai", "base_url": standin.base_url,
                                                     "output_dir": str(tmp_path / "images"), "max_retries": 0},
                             chat={"backend": "off"})  # a question is then not handled (no chat model)
        engines = build_engines(cfg, speaker=NullSpeaker())

        async def main():
            assistant = Assistant(cfg, engines)
            serving = asyncio.create_task(assistant.serve())
            (server,) = wyoming_faces(cfg, engines, servers=["tcp://127.0.0.1:0"])
            await server.start(assistant)
            try:
                answers = []
                for text in ("draw a red fox", "what is the weather on mars"):
                    async with AsyncTcpClient("127.0.0.1", server.port) as client:
                        await client.write_event(Transcript(text=text, language="en",
                                                            context={"conversation_id": "c1"}).event())
                        answers.append((await read_until(client, "handled", "not-handled"))[-1])
                return answers
            finally:
                await server.stop()
                assistant.stop()
                await asyncio.wait_for(serving, 10)

        handled, not_handled = asyncio.run(main())
    assert handled.type == "handled", handled
    answer = Handled.from_event(handled)
    assert "fox" in (answer.text or "").lower()
    from pathlib import Path

    assert Path(answer.context["image"]).is_file() and answer.context["intent"] == "draw"
    assert answer.context["conversation_id"] == "c1"
    assert not_handled.type == "not-handled" and NotHandled.from_event(not_handled).text


@pytest.mark.parametrize("args", [["serve", "--wyoming", "http://x:1"], ["run", "--wyoming", "tcp://x:99999"],
                                  ["run", "--satellite", "tcp://:10700"], ["serve", "--satellite", "udp://x:1"]])
def test_bad_addresses_are_one_line_and_exit_2(args):
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
