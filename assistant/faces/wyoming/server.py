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
from .audio import PcmCollector, audio_chunks, iterate_in_thread
from .info import TRANSLATE_SUFFIX, build_info
from .uri import warn_if_exposed

if TYPE_CHECKING:
    from ...engines import Engines

log = logging.getLogger(__name__)

HANDLE_SESSION = "home-assistant"
_IMAGE_WAIT_EXTRA_S = 30.0
_SENTENCE_DONE = re.compile(r"[.!?…。！？][\"'”’)\]]*\s")


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

    async def start(self, assistant: Any = None) -> None:
        self.assistant = assistant
        self._server = AsyncTcpServer(self.host, self.port)
        try:
            await self._server.start(lambda r, w: _Handler(self, r, w))
        except OSError as exc:
            raise AssistantError(f"cannot listen for Wyoming on {self.host}:{self.port}: {exc.strerror or exc}") from None
        sock = self._server._server.sockets[0] if self._server._server and self._server._server.sockets else None
        if sock is not None:
            self.port = sock.getsockname()[1]  # port 0 -> the one the system chose
        warn_if_exposed(self.host, self.port)
        log.info("Wyoming server on tcp://%s:%d (asr, tts, handle)", self.host, self.port)

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

    async def run(self) -> None:
        try:
            await super().run()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request (Home Assistant cancels, a TTS player stops)

    async def handle_event(self, event: Event) -> bool:
        try:
            return await self._dispatch(event)
        except AssistantError as exc:
            await self.write_event(Error(text=redact(str(exc)), code=type(exc).__name__).event())
            return True
        except (ConnectionError, asyncio.IncompleteReadError):
            return False
        except Exception as exc:  # a fault in one request never takes the server down
            log.exception("Wyoming request failed")
            await self.write_event(Error(text=f"{type(exc).__name__}: {redact(str(exc))}", code="internal").event())
            return True

    async def _dispatch(self, event: Event) -> bool:
        server = self.server
        if Describe.is_type(event.type):
            await self.write_event(server.info.event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif SelectProgram.is_type(event.type):
            self._program = SelectProgram.from_event(event).name
        elif Transcribe.is_type(event.type):
            self._transcribe = Transcribe.from_event(event)
            self._audio = PcmCollector()
        elif AudioStart.is_type(event.type):
            if self._audio is None:  # audio without Transcribe: transcribe with the defaults
                self._transcribe, self._audio = Transcribe(), PcmCollector()
        elif AudioChunk.is_type(event.type):
            if self._audio is not None:
                self._audio.add(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            if self._audio is not None:
                await self._finish_transcribe()
        elif Synthesize.is_type(event.type):
            if self._stream is None:  # inside a stream it only repeats the text (compatibility)
                synth = Synthesize.from_event(event)
                await self._speak(synth.text, synth)
        elif SynthesizeStart.is_type(event.type):
            start = SynthesizeStart.from_event(event)
            self._stream, self._stream_text, self._stream_started = Synthesize(text="", voice=start.voice), "", False
        elif SynthesizeChunk.is_type(event.type):
            if self._stream is not None:
                self._stream_text += SynthesizeChunk.from_event(event).text
                await self._speak_finished_sentences()
        elif SynthesizeStop.is_type(event.type):
            if self._stream is not None:
                rest, self._stream_text = self._stream_text.strip(), ""
                if rest:
                    await self._speak(rest, self._stream)
                self._stream = None
            await self.write_event(SynthesizeStopped().event())
        elif Transcript.is_type(event.type):
            transcript = Transcript.from_event(event)
            await self.write_event(await server.handle(transcript.text, transcript.language, transcript.context))
        return True

    async def _finish_transcribe(self) -> None:
        request, audio = self._transcribe or Transcribe(), self._audio
        self._transcribe, self._audio = None, None
        samples = audio.samples() if audio is not None else None
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


def _language(code: str | None) -> str | None:
    """'en-US' / 'ko_KR' -> 'en' / 'ko' (Home Assistant sends region tags)."""
    if not code:
        return None
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] or None
