"""The Wyoming server face: Home Assistant's STT, TTS and conversation agent in one port.

One connection speaks one request at a time, as Home Assistant's wyoming integration does:
- ``Describe`` -> ``Info`` (built from config; answered at once, no model is loaded for it);
- asr: ``Transcribe`` + ``AudioStart``/``AudioChunk``*/``AudioStop`` -> ``Transcript``; the
  model name ending in ``-translate-en`` (or a ``SelectProgram`` of it) translates to English;
- tts: ``Synthesize`` -> ``AudioStart``/``AudioChunk``*/``AudioStop``; streaming
  (``SynthesizeStart``/``SynthesizeChunk``*/``SynthesizeStop``) speaks each finished sentence
  as its own audio stream and ends with ``SynthesizeStopped``;
- handle: ``Transcript`` -> the assistant handles the text as a turn of its own session ->
  ``Handled`` (the spoken reply text; saved pictures' paths in ``context``) or ``NotHandled``.
The asr/tts requests call the engines directly (in threads); handle goes through the loop.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info, SelectProgram
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

from ...errors import AssistantError
from ...events import EventType
from ...secrets import redact
from ...tts.text import sentences
from .audio import BadAudio, PcmCollector, audio_chunks, iterate_in_thread
from .info import TRANSLATE_SUFFIX, build_info
from .uri import warn_if_exposed
from .wire import BODY_TIMEOUT_S, BadEvent, read_event

if TYPE_CHECKING:
    from ...engines import Engines

log = logging.getLogger(__name__)

HANDLE_SESSION = "home-assistant"
_IMAGE_WAIT_EXTRA_S = 30.0
_SENTENCE_DONE = re.compile(r"[.!?…。！？][\"'”’)\]]*\s")
MAX_CONNECTIONS = 128  # more at once are refused (each is a file descriptor and a task)
MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # audio held for all unfinished requests together (~35 min)
_WRITE_TIMEOUT_S = 5.0  # a client that does not read its answer is dropped


class WyomingServer:
    """A Face: ``start(assistant)`` listens on host:port, ``stop()`` closes every connection."""

    def __init__(self, cfg: Any, engines: "Engines | None", host: str, port: int, *, stt_backend: str = "local",
                 tts_backend: str = "local"):
        self.cfg = cfg
        self._engines = engines  # None: the running assistant's (they follow a SIGHUP reload)
        self.host, self.port = host, port
        self.info = build_info(cfg, stt_backend, tts_backend)
        self.assistant: Any = None
        self._server: AsyncTcpServer | None = None
        self.connections = 0
        self.buffered = 0  # bytes of audio held by all connections' unfinished requests
        self._said_full = False

    async def start(self, assistant: Any = None) -> None:
        self.assistant = assistant
        self._server = AsyncTcpServer(self.host, self.port)
        try:
            await self._server.start(self._handler)
        except OSError as exc:
            raise AssistantError(f"cannot listen for Wyoming on {self.host}:{self.port}: {exc.strerror or exc}") from None
        sock = self._server._server.sockets[0] if self._server._server and self._server._server.sockets else None
        if sock is not None:
            self.port = sock.getsockname()[1]  # port 0 -> the one the system chose
        warn_if_exposed(self.host, self.port)
        log.info("Wyoming server on tcp://%s:%d (asr, tts, handle)", self.host, self.port)

    def _handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncEventHandler:
        if self.connections >= MAX_CONNECTIONS:
            if not self._said_full:  # one line per episode, not one per refused connection
                log.warning("Wyoming: %d connections open; refusing more until some close", self.connections)
                self._said_full = True
            return _Refused(reader, writer)
        self._said_full = False
        return _Handler(self, reader, writer)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    @property
    def engines(self) -> "Engines":
        return self._engines if self._engines is not None else self.assistant.engines

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    # ------------------------------------------------------------ the work
    async def transcribe(self, samples: Any, model: str | None, language: str | None) -> Any:
        task = "translate" if (model or "").endswith(TRANSLATE_SUFFIX) else "transcribe"
        return await asyncio.to_thread(self.engines.transcriber.transcribe, samples, task=task,
                                       language=language or None)

    def voice_for(self, name: str | None) -> str:
        voices = {v.name for p in self.info.tts for v in p.voices}
        return name if name in voices else self.cfg.tts.voice

    async def handle(self, text: str, language: str | None, context: dict | None) -> Event:
        assistant = self.assistant
        if assistant is None:  # served without the loop (asr and tts only)
            return NotHandled(text="the assistant loop is not running").event()
        session = _session_name(context)
        assistant.session(session, room=session)
        seen: list[Any] = []
        unsubscribe = assistant.subscribe(lambda e: seen.append(e) if e.session == session else None)
        try:
            ticket = await assistant.handle_text(text, language or None, session=session)
            replies = await ticket.replied()
            mine = lambda: [e for e in seen if e.turn == ticket.id]  # noqa: E731
            if any(e.type == EventType.IMAGE_QUEUED for e in mine()):
                timeout = float(getattr(self.cfg.images, "timeout", 120.0)) + _IMAGE_WAIT_EXTRA_S
                try:
                    await asyncio.wait_for(ticket.finished(), timeout)
                except asyncio.TimeoutError:
                    log.warning("turn %s: the picture is still being made; answering without it", ticket.id)
            events = mine()
        finally:
            unsubscribe()
        spoken = " ".join(r.text for r in replies if getattr(r, "text", ""))
        spoken = " ".join([spoken] + [e.data.get("text", "") for e in events
                                      if e.type == EventType.REPLY_STARTED
                                      and e.data.get("text") and e.data.get("text") not in spoken]).strip()
        out_context: dict[str, Any] = dict(context or {})
        out_context["turn"] = ticket.id
        images = [str(e.data.get("path")) for e in events if e.type == EventType.IMAGE_SAVED and e.data.get("path")]
        if images:
            out_context["image"] = images[-1]
            out_context["images"] = images
        failed = [e.data.get("reason", "") for e in events if e.type == EventType.IMAGE_FAILED]
        if failed:
            out_context["image_error"] = failed[-1]
        routed = [e for e in events if e.type == EventType.ROUTED]
        intent = routed[-1].data.get("intent") if routed else None
        ignored = any(e.type == EventType.IGNORED for e in events)
        if intent in (None, "unknown") or ignored:
            return NotHandled(text=spoken or None, context=out_context).event()
        out_context["intent"] = intent
        return Handled(text=spoken, context=out_context).event()


def _session_name(context: dict | None) -> str:
    """Home Assistant's satellite/device id keeps each room's conversation apart."""
    context = context or {}
    for key in ("satellite_id", "device_id"):
        if context.get(key):
            return f"ha:{context[key]}"
    return HANDLE_SESSION


class _Handler(AsyncEventHandler):
    def __init__(self, server: WyomingServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        super().__init__(reader, writer)
        self.server = server
        self._transcribe: Transcribe | None = None
        self._audio: PcmCollector | None = None
        self._program: str | None = None  # SelectProgram name (an asr model name picks that model)
        self._stream: Synthesize | None = None  # streaming synthesis in progress
        self._stream_text = ""
        self._stream_started = False
        self.peer = _peer(writer)
        self._held = 0  # bytes of this connection's audio counted in server.buffered

    async def run(self) -> None:
        """Events until the client goes or sends what we cannot take (then one log line, an
        ``Error`` for it, and the connection is closed). A client that went away mid-request
        (Home Assistant cancels, a TTS player stops) is no fault."""
        self.server.connections += 1
        try:
            while True:
                # in the middle of an audio stream the next chunk must come; idle otherwise is fine
                idle = BODY_TIMEOUT_S if self._audio is not None else None
                try:
                    event = await read_event(self.reader, idle_timeout=idle)
                except BadEvent as exc:
                    await self._refuse(str(exc), "bad-event")
                    return
                if event is None or not await self.handle_event(event):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            self.server.connections -= 1
            self._release()
            self.writer.close()

    async def write_event(self, event: Event) -> None:
        async with asyncio.timeout(_WRITE_TIMEOUT_S):  # (not wait_for: it can swallow a cancellation on 3.11)
            await super().write_event(event)

    async def _refuse(self, reason: str, code: str) -> None:
        log.warning("Wyoming client %s: %s; closing the connection", self.peer, reason)
        try:
            await self.write_event(Error(text=reason, code=code).event())
        except (ConnectionError, asyncio.TimeoutError, RuntimeError):
            pass

    def _release(self) -> None:
        self.server.buffered -= self._held
        self._held = 0

    async def handle_event(self, event: Event) -> bool:
        try:
            return await self._dispatch(event)
        except (BadEvent, BadAudio) as exc:
            self._transcribe, self._audio = None, None
            await self._refuse(str(exc), "bad-event" if isinstance(exc, BadEvent) else "bad-audio")
            return False
        except AssistantError as exc:
            log.warning("Wyoming request from %s: %s", self.peer, redact(str(exc)))
            await self.write_event(Error(text=redact(str(exc)), code=type(exc).__name__).event())
            return True
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            return False
        except Exception as exc:  # a fault in one request never takes the server down: one line
            log.warning("Wyoming request from %s failed: %s: %s", self.peer, type(exc).__name__, redact(str(exc)))
            log.debug("Wyoming request failed", exc_info=True)
            await self.write_event(Error(text=f"{type(exc).__name__}: {redact(str(exc))}", code="internal").event())
            return True

    async def _dispatch(self, event: Event) -> bool:
        server = self.server
        if Describe.is_type(event.type):
            await self.write_event(server.info.event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif SelectProgram.is_type(event.type):
            self._program = _parse(SelectProgram, event).name
        elif Transcribe.is_type(event.type):
            self._transcribe = _parse(Transcribe, event)
            self._release()
            self._audio = PcmCollector()
        elif AudioStart.is_type(event.type):
            if self._audio is None:  # audio without Transcribe: transcribe with the defaults
                self._transcribe, self._audio = Transcribe(), PcmCollector()
        elif AudioChunk.is_type(event.type):
            if self._audio is not None:
                self._add_audio(_parse(AudioChunk, event))
        elif AudioStop.is_type(event.type):
            if self._audio is not None:
                await self._finish_transcribe()
        elif Synthesize.is_type(event.type):
            if self._stream is None:  # inside a stream it only repeats the text (compatibility)
                synth = _parse(Synthesize, event)
                await self._speak(synth.text, synth)
        elif SynthesizeStart.is_type(event.type):
            start = _parse(SynthesizeStart, event)
            self._stream, self._stream_text, self._stream_started = Synthesize(text="", voice=start.voice), "", False
        elif SynthesizeChunk.is_type(event.type):
            if self._stream is not None:
                self._stream_text += _parse(SynthesizeChunk, event).text
                if len(self._stream_text) > _MAX_STREAM_TEXT:
                    raise BadEvent(f"streamed text over {_MAX_STREAM_TEXT} characters without a sentence end")
                await self._speak_finished_sentences()
        elif SynthesizeStop.is_type(event.type):
            if self._stream is not None:
                rest, self._stream_text = self._stream_text.strip(), ""
                if rest:
                    await self._speak(rest, self._stream)
                self._stream = None
            await self.write_event(SynthesizeStopped().event())
        elif Transcript.is_type(event.type):
            transcript = _parse(Transcript, event)
            await self.write_event(await server.handle(transcript.text, transcript.language, transcript.context))
        return True

    def _add_audio(self, chunk: AudioChunk) -> None:
        before = self._audio.size
        self._audio.add(chunk)
        grown = self._audio.size - before
        self._held += grown
        self.server.buffered += grown
        if self.server.buffered > MAX_BUFFERED_BYTES:
            raise BadAudio(f"the server holds {MAX_BUFFERED_BYTES >> 20} MB of audio for unfinished requests; "
                           "finish one first")

    async def _finish_transcribe(self) -> None:
        request, audio = self._transcribe or Transcribe(), self._audio
        self._transcribe, self._audio = None, None
        samples = audio.samples() if audio is not None else None
        self._release()
        if samples is None or len(samples) == 0:
            await self.write_event(Transcript(text="").event())
            return
        model = request.name or self._program
        result = await self.server.transcribe(samples, model, _language(request.language))
        await self.write_event(Transcript(text=result.text, language=result.language).event())

    async def _speak_finished_sentences(self) -> None:
        matches = list(_SENTENCE_DONE.finditer(self._stream_text))
        if not matches:
            return
        cut = matches[-1].end()
        done, self._stream_text = self._stream_text[:cut], self._stream_text[cut:]
        for sentence in sentences(done):
            await self._speak(sentence, self._stream)

    async def _speak(self, text: str, request: Synthesize) -> None:
        """One text -> AudioStart, AudioChunk*, AudioStop (chunks sent as the engine yields them)."""
        server = self.server
        voice_req = request.voice
        voice = server.voice_for(voice_req.name if voice_req else None)
        language = _language(voice_req.language if voice_req else None)
        synth = server.engines.synthesizer
        speed = server.cfg.tts.speed
        rate = synth.sample_rate
        if not text.strip():
            await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())
            await self.write_event(AudioStop().event())
            return
        started = False
        timestamp = 0
        async for chunk in iterate_in_thread(lambda: synth.synthesize(text, voice=voice, speed=speed,
                                                                      language=language)):
            rate = synth.sample_rate
            if not started:
                await self.write_event(AudioStart(rate=rate, width=2, channels=1, timestamp=0).event())
                started = True
            for ev in audio_chunks(chunk, rate, timestamp):
                await self.write_event(ev.event())
            timestamp += int(len(chunk) * 1000 / rate)
        if not started:
            await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())
        await self.write_event(AudioStop(timestamp=timestamp).event())


_MAX_STREAM_TEXT = 100_000
_TEXT_FIELDS = ("text", "language", "name")


def _parse(kind: Any, event: Event) -> Any:
    """``kind.from_event`` for a client we do not trust: a missing field or one of the wrong
    type is a BadEvent naming it, not a KeyError deep in the library."""
    try:
        parsed = kind.from_event(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadEvent(f"{event.type}: {type(exc).__name__} {exc}") from None
    for name in _TEXT_FIELDS:
        value = getattr(parsed, name, None)
        if value is not None and not isinstance(value, str):
            raise BadEvent(f"{event.type}: {name} is not text ({type(value).__name__})")
    voice = getattr(parsed, "voice", None)
    if voice is not None and not all(isinstance(v, (str, type(None))) for v in (voice.name, voice.language, voice.speaker)):
        raise BadEvent(f"{event.type}: the voice is not text")
    context = getattr(parsed, "context", None)
    if context is not None and not isinstance(context, dict):
        raise BadEvent(f"{event.type}: context is not an object")
    return parsed


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "?"


class _Refused(AsyncEventHandler):
    """A connection over MAX_CONNECTIONS: told so and closed at once."""

    async def handle_event(self, event: Event) -> bool:
        return False

    async def run(self) -> None:
        try:
            async with asyncio.timeout(1.0):
                await self.write_event(Error(text="too many connections", code="busy").event())
        except (ConnectionError, asyncio.TimeoutError, RuntimeError):
            pass
        finally:
            self.writer.close()


def _language(code: str | None) -> str | None:
    """'en-US' / 'ko_KR' -> 'en' / 'ko' (Home Assistant sends region tags)."""
    if not code:
        return None
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] or None
