"""SatelliteLink against a stand-in satellite (fast, no models): a wake word followed by silence
sends the satellite back to its wake word; a failed turn reaches it as an Error."""
from __future__ import annotations

import asyncio

import numpy as np
from wyoming.event import Event
from wyoming.info import Attribution, Info, Satellite
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.server import AsyncEventHandler, AsyncTcpServer

from assistant.config import load_config
from assistant.events import EventType, TurnEvent
from assistant.faces.wyoming.audio import audio_chunks
from assistant.faces.wyoming.satellite import WAKE_SILENCE_S, SatelliteLink


class FakeAssistant:
    def __init__(self):
        self.listeners = []
        self.sessions = {}

    def session(self, name, *, speaker=None, room=None):
        return self.sessions.setdefault(name, type("S", (), {"hears_itself": False})())

    def subscribe(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    async def handle_utterance(self, audio, *, session="local"):
        raise AssertionError("silence is not an utterance")


class SilentRoom(AsyncEventHandler):
    """Its wake word fired; then the room stays silent."""

    received: list[Event] = []

    async def handle_event(self, event: Event) -> bool:
        SilentRoom.received.append(event)
        if event.type == "describe":
            sat = Satellite(name="den", area="Den", description="", attribution=Attribution(name="", url=""),
                            installed=True, version="1")
            await self.write_event(Info(satellite=sat).event())
        elif RunSatellite.is_type(event.type):
            await self.write_event(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())
            for chunk in audio_chunks(np.zeros(int(16000 * (WAKE_SILENCE_S + 1)), np.int16), 16000):
                await self.write_event(chunk.event())
        return True


def test_wake_word_then_silence_and_a_failed_turn():
    async def main():
        server = AsyncTcpServer("127.0.0.1", 0)
        await server.start(lambda r, w: SilentRoom(r, w))
        port = server._server.sockets[0].getsockname()[1]
        assistant = FakeAssistant()
        link = SatelliteLink(load_config(), "127.0.0.1", port)
        await link.start(assistant)
        try:
            await asyncio.wait_for(link.connected.wait(), 10)
            for _ in range(200):
                if any(e.type == "transcript" for e in SilentRoom.received):
                    break
                await asyncio.sleep(0.05)
            for listener in assistant.listeners:
                listener(TurnEvent(EventType.TURN_FINISHED, 7, 0.0, {"result": "failed", "reason": "disk full"}, "Den"))
            for _ in range(100):
                if any(e.type == "error" for e in SilentRoom.received):
                    break
                await asyncio.sleep(0.05)
        finally:
            await link.stop()
            await server.stop()
        return link.name, [e for e in SilentRoom.received if e.type in ("transcript", "error")]

    name, events = asyncio.run(main())
    assert name == "Den"
    assert events[0].type == "transcript" and events[0].data["text"] == ""
    assert events[1].type == "error" and events[1].data["text"] == "disk full"
