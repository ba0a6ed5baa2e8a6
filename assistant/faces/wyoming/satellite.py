"""A room's wyoming-satellite, driven as Home Assistant drives it (``assistant run --satellite``).

We connect to the satellite (it is the server), ask ``Describe`` for its name/area (the room),
send ``RunSatellite`` and then follow its requests:
- ``RunPipeline`` from ``wake`` (the satellite streams all the time; our wake word applies when
  ``router.wake_word`` is set) or from ``asr`` (its own wake word fired: the next utterance is
  the command, then ``Transcript`` sends it back to wake-word detection);
- its microphone ``AudioChunk``s are cut by our segmenter (pure, per satellite) into utterances
  handed to the loop as turns of the room's own session (language, voice, speed, translate mode,
  last picture), sharing the engines and the image queue with every other room;
- the room hears back: ``VoiceStarted``/``VoiceStopped``, ``Transcript``, ``Synthesize`` (the
  reply text) and the reply audio (``AudioStart``/``AudioChunk``/``AudioStop``) from the turn
  events of its session.
A dropped satellite is reconnected with backoff (doubling up to a cap); the others go on.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStarted, VoiceStopped
from wyoming.wake import Detection

from ...audio.format import FRAME_BYTES
from ...events import EventType, SpeechStarted, TurnEvent, Utterance
from ...vad.segmenter import Segmenter
from .audio import BadAudio, PcmCollector, audio_chunks
from .wire import BadEvent, read_event

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
DESCRIBE_TIMEOUT_S = 5.0
BACKOFF = (1.0, 30.0)  # first wait and cap between reconnects (doubling in between)
WAKE_SILENCE_S = 8.0  # after the satellite's wake word: no speech this long -> back to its wake word


class SatelliteLink:
    """A Face: one satellite, reconnected until ``stop()``."""

    def __init__(self, cfg: Any, host: str, port: int, *, backoff: tuple[float, float] = BACKOFF):
        self.cfg = cfg
        self.host, self.port = host, port
        self.backoff = backoff
        self.name = f"{host}:{port}"  # replaced by the satellite's own name/area once it answers
        self.connected = asyncio.Event()
        self.connections = 0
        self._assistant: Any = None
        self._task: asyncio.Task | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    async def start(self, assistant: Any) -> None:
        self._assistant = assistant
        self._task = asyncio.create_task(self._run(), name=f"satellite {self.uri}")

    async def stop(self) -> None:
        self._stopping = True
        writer = self._writer
        if writer is not None:  # tell the satellite to pause, as Home Assistant does on the way out
            with contextlib.suppress(Exception):
                await asyncio.wait_for(async_write_event(PauseSatellite().event(), writer), 0.3)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    # ------------------------------------------------------------- connection
    async def _run(self) -> None:
        delay = self.backoff[0]
        said_unreachable = False
        while not self._stopping:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT_S)
            except (OSError, asyncio.TimeoutError) as exc:
                if not said_unreachable:
                    log.warning("satellite %s unreachable (%s); retrying with backoff", self.uri, exc or "timeout")
                    said_unreachable = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            said_unreachable, delay = False, self.backoff[0]
            self._writer = writer
            try:
                await _Conversation(self, reader, writer).run()
                if not self._stopping:
                    log.warning("satellite %s (%s) closed the connection; reconnecting", self.name, self.uri)
            except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
                if not self._stopping:
                    log.warning("satellite %s (%s) dropped: %s; reconnecting", self.name, self.uri, exc or type(exc).__name__)
            except (BadEvent, BadAudio) as exc:  # garbage from the satellite: one line, a new connection
                log.warning("satellite %s (%s) sent what we cannot take: %s; reconnecting", self.name, self.uri, exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a fault with one room never stops the others: one line
                log.warning("satellite %s (%s) failed: %s: %s; reconnecting", self.name, self.uri, type(exc).__name__, exc)
                log.debug("satellite failure", exc_info=True)
            finally:
                self._writer = None
                self.connected.clear()
                writer.close()
            if not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff[1])


class _Conversation:
    """One connection to the satellite: its pipeline requests in, the room's turns out."""

    def __init__(self, link: SatelliteLink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.link = link
        self.reader, self.writer = reader, writer
        self.assistant = link._assistant
        self.out: asyncio.Queue[Event | None] = asyncio.Queue()
        self.segmenter = Segmenter(link.cfg.vad)
        self.pcm = PcmCollector(max_seconds=None)  # a stream: converted chunk by chunk, never collected
        self.buffer = b""
        self.streaming = False
        self.wake_mode = False  # the satellite detected its own wake word: one command per pipeline
        self.wake_gate: Any = None
        self.last_accepted = float("-inf")
        self.turns: set[int] = set()
        self.replying: dict[int | None, bool] = {}
        self.audio_open = False
        self.audio_rate = 0
        self.audio_ms = 0
        self.silent_frames = 0  # frames since the pipeline started without speech (wake mode)

    async def run(self) -> None:
        await async_write_event(Describe().event(), self.writer)
        info = await asyncio.wait_for(self._read_info(), DESCRIBE_TIMEOUT_S)
        link = self.link
        satellite = info.satellite if info is not None else None
        room = (satellite.area or satellite.name) if satellite is not None else None
        link.name = _unique(self.assistant, room or link.name, link)
        session = self.assistant.session(link.name, room=room or link.name)
        if link.cfg.router.wake_word:
            from ...vad.wakeword import WakeGate

            self.wake_gate = WakeGate(link.cfg.router.wake_word)
        unsubscribe = self.assistant.subscribe(self._on_turn_event)
        sender = asyncio.create_task(self._send_out(), name=f"satellite {link.name} out")
        link.connections += 1
        link.connected.set()
        log.info("satellite %s connected (%s)", link.name, link.uri)
        try:
            await async_write_event(RunSatellite().event(), self.writer)
            while True:
                event = await read_event(self.reader)
                if event is None:
                    return
                await self._on_satellite_event(event, session)
                if sender.done():  # the write side failed: the connection is gone
                    sender.result()
                    return
        finally:
            unsubscribe()
            self.out.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sender, 1.0)

    async def _read_info(self) -> Info | None:
        while True:
            event = await read_event(self.reader)
            if event is None:
                raise ConnectionResetError("closed before answering Describe")
            if Info.is_type(event.type):
                try:
                    return Info.from_event(event)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise BadEvent(f"info: {type(exc).__name__} {exc}") from None

    # ------------------------------------------------------------- satellite in
    async def _on_satellite_event(self, event: Event, session: Any) -> None:
        if AudioChunk.is_type(event.type):
            if self.streaming:
                try:
                    chunk = AudioChunk.from_event(event)
                except (KeyError, TypeError, ValueError) as exc:
                    raise BadEvent(f"audio-chunk: {type(exc).__name__} {exc}") from None
                await self._audio(chunk)
        elif RunPipeline.is_type(event.type):
            run = RunPipeline.from_event(event)
            self.wake_mode = run.start_stage == PipelineStage.ASR
            session.hears_itself = not self.wake_mode  # streaming all the time: it hears its own replies
            if not self.streaming or self.wake_mode:
                self.segmenter.reset()
                self.buffer = b""
            self.streaming = True
            self.silent_frames = 0
        elif AudioStop.is_type(event.type):
            await self._segments(self.segmenter.flush())
            self.streaming = False
        elif Detection.is_type(event.type):
            log.info("satellite %s heard its wake word %s", self.link.name, Detection.from_event(event).name)
        elif Ping.is_type(event.type):
            self.out.put_nowait(Pong(text=Ping.from_event(event).text).event())

    async def _audio(self, chunk: AudioChunk) -> None:
        self.buffer += self.pcm.convert(chunk)
        n = len(self.buffer) // FRAME_BYTES * FRAME_BYTES
        frames, self.buffer = self.buffer[:n], self.buffer[n:]
        for i in range(0, n, FRAME_BYTES):
            frame = frames[i:i + FRAME_BYTES]
            if self.wake_gate is not None and not self.wake_mode:
                self.wake_gate.feed(frame)
            await self._segments(self.segmenter.process(frame))
            if not self.streaming:
                return
            if self.wake_mode and not self.segmenter.in_speech:
                self.silent_frames += 1
                if self.silent_frames * FRAME_BYTES / 32000 >= WAKE_SILENCE_S:  # nothing said after the wake word
                    self.streaming = False
                    self.out.put_nowait(Transcript(text="").event())
                    return

    async def _segments(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, SpeechStarted):
                self.silent_frames = 0
                self.out.put_nowait(VoiceStarted(timestamp=int(event.start * 1000)).event())
            elif isinstance(event, Utterance):
                self.out.put_nowait(VoiceStopped(timestamp=int(event.end * 1000)).event())
                if not self._wake_accepts(event):
                    continue
                if self.wake_mode:
                    self.streaming = False  # one command per pipeline run; Transcript ends it
                ticket = await self.assistant.handle_utterance(event.audio, session=self.link.name)
                self.turns.add(ticket.id)

    def _wake_accepts(self, utterance: Utterance) -> bool:
        """Always-streaming with router.wake_word: the utterance holds or follows the wake word."""
        if self.wake_gate is None or self.wake_mode:
            return True
        heard = self.wake_gate.heard_between(utterance.audio_start - 0.5, utterance.end)
        follow_up = utterance.start - self.last_accepted <= self.link.cfg.router.follow_up_s
        if heard or follow_up:
            self.last_accepted = utterance.end
            return True
        return False

    # ------------------------------------------------------------ satellite out
    def _on_turn_event(self, event: TurnEvent) -> None:
        """A turn event listener: runs on the loop thread, must not block; queues events out."""
        if event.session != self.link.name:
            return
        kind, data = event.type, event.data
        if kind == EventType.TRANSCRIBED:
            self.out.put_nowait(Transcript(text=str(data.get("text", "")), language=data.get("language")).event())
        elif kind == EventType.IGNORED and event.turn in self.turns:
            self.out.put_nowait(Transcript(text="").event())  # back to wake-word detection
        elif kind == EventType.REPLY_STARTED:
            self.out.put_nowait(Synthesize(text=str(data.get("text", ""))).event())
        elif kind == EventType.REPLY_AUDIO:
            audio, rate = data.get("audio"), int(data.get("sample_rate") or 0)
            if audio is None or not rate:
                return
            if not self.audio_open or rate != self.audio_rate:
                if self.audio_open:
                    self.out.put_nowait(AudioStop(timestamp=self.audio_ms).event())
                self.out.put_nowait(AudioStart(rate=rate, width=2, channels=1, timestamp=0).event())
                self.audio_open, self.audio_rate, self.audio_ms = True, rate, 0
            for chunk in audio_chunks(audio, rate, self.audio_ms):
                self.out.put_nowait(chunk.event())
            self.audio_ms += int(len(audio) * 1000 / rate)
        elif kind == EventType.REPLY_FINISHED:
            if self.audio_open:
                self.out.put_nowait(AudioStop(timestamp=self.audio_ms).event())
                self.audio_open = False
        elif kind == EventType.TURN_FINISHED:
            self.turns.discard(event.turn)
            if data.get("result") == "failed":  # the satellite's --error-command, as Home Assistant's errors
                self.out.put_nowait(Error(text=str(data.get("reason") or "failed"), code="turn-failed").event())

    async def _send_out(self) -> None:
        while True:
            event = await self.out.get()
            if event is None:
                return
            await async_write_event(event, self.writer)


_ROOMS: "weakref.WeakKeyDictionary[Any, dict[str, SatelliteLink]]" = weakref.WeakKeyDictionary()


def _unique(assistant: Any, name: str, link: SatelliteLink) -> str:
    """Two satellites with the same name stay two rooms: the second gets its address added."""
    rooms = _ROOMS.setdefault(assistant, {})
    owner = rooms.setdefault(name, link)
    return name if owner is link else f"{name} ({link.uri})"
