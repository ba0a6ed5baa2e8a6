"""The assistant loop: the wiring of its workers.

    audio source -> segmenter -> [inputs] -> turn worker -> [replies per session] -> reply worker
                                    ^                 \\-> image jobs (background) -/
    handle_text / handle_utterance -/

- audio: frames from the source into the segmenter (pure, cheap) -> utterances (``_audio``);
- turns: each input is transcribed (in a thread), passed through the gate (pure: accept, ignore,
  barge-in), routed (pure) and answered by a skill (``_turn_worker`` -> ``_handle``);
- speculation (live input): when speech pauses, its transcription starts while the hangover still
  waits; the utterance cut with the same edges takes that result (``_speculate``, ``_confirmed``);
  when that result is a complete command and the pause goes on, the utterance is cut at once
  (``_end_early``: the rest of the hangover is not waited for; speech after it is the next one);
- listening ahead (live input): while an utterance goes on, the engine gets what was said so far
  once ``stt.early_evidence_s`` of it is heard, then each time it has grown by half, on idle cores
  (``_listen_ahead``: one at a time, never while a turn is handled; the local engine computes the
  language evidence its transcription of the whole utterance can reuse);
- replies: each session's replies are synthesized and played (in a thread) one at a time, in
  order; a session without a speaker still emits them as ``reply.audio`` events (``_speak``).

Each turn has one owner, the ``TurnLedger``: it counts the turn's outstanding replies and jobs and
finishes the turn when the last is done. Everything that happens is a ``TurnEvent`` to the
listeners (console, history, ``turns.jsonl``, sd_notify, ``run --events``, the faces).

``turn_based`` (file input faster than real time) waits for the replies of one turn to finish
before the next input is handled, like a person waiting for the answer.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from abc import ABC, abstractmethod
from concurrent.futures import Future
from typing import Any, AsyncIterator, Callable, Protocol, Union

import numpy as np

from . import gate
from .audio import earcons
from .chat.conversation import Conversation
from .config import Config
from .audio.speaker import Speaker
from .engines import Engines
from .errors import ApiError, AssistantError
from .events import EventType, Reply, SpeechPaused, SpeechStarted, TurnEvent, Utterance
from .history import HistoryWriter, Turn
from .listeners import ConsoleListener, HistoryListener, StatusListener
from .router.normalize import detect_language
from .router.route import complete_command, route
from .skills import timers, volume
from .skills.base import JobResult, Request
from .skills.chat import ChatSkill
from .skills.dispatch import Skills
from .skills.everyday import Everyday
from .skills.images import ImageJobs
from .skills.messages import message
from .skills.state import SessionState
from .skills.translate import Translate
from .stt import languages
from .stt.cancel import cancellable
from .turns import MAX_TURNS_KEPT, Result, TurnLedger, TurnTicket
from .vad.segmenter import Event as SpeechEvent, Segmenter

log = logging.getLogger(__name__)

_FILE_BACKLOG = 4  # inputs cut ahead of the turn being handled (file input: backpressure)
BACKLOG_S = 30.0  # live input: seconds of speech queued before the overflow is dropped
_LEVEL_FRAMES = 8  # input level over 8 frames (0.24 s) ...
_LEVEL_EVERY_S = 0.2  # ... sent at most every 0.2 s of wall time
_HEARD_GAP_FRAMES = 50  # 1.5 s of 30 ms frames between two "heard" earcons
Listener = Callable[[TurnEvent], None]


class FrameSource(Protocol):
    """Raw 30 ms int16 frames (microphone, file, stdin): the loop cuts them into utterances."""

    def frames(self) -> AsyncIterator[bytes]: ...


class CutSource(ABC):
    """Utterances that are already cut (replays, tests): no segmenter, no wake gate."""

    @abstractmethod
    def events(self) -> AsyncIterator[SpeechEvent]: ...


Source = Union[FrameSource, CutSource]


class Notifier(Protocol):
    def ready(self) -> None: ...
    def status(self, text: str) -> None: ...
    def watchdog(self) -> None: ...
    def stopping(self) -> None: ...


class _NoNotifier:
    def ready(self) -> None: ...
    def status(self, text: str) -> None: ...
    def watchdog(self) -> None: ...
    def stopping(self) -> None: ...


class SourceLost(AssistantError):
    """Raised by a live source when the device goes away (the loop reopens it)."""


class Session:
    """One conversation (the local microphone, a satellite, the web page): its own state and
    reply queue. Sessions share the engines, the image jobs and the turn worker."""

    def __init__(self, name: str, state: SessionState, speaker: Speaker | None, room: str | None, hears_itself: bool):
        self.name = name
        self.state = state
        self.speaker = speaker  # None: replies are only emitted as reply.audio events
        self.room = room
        self.hears_itself = hears_itself  # its input can pick up its output (echo possible)
        self.replies: asyncio.Queue[_Say | None] = asyncio.Queue()
        self.idle = asyncio.Event()
        self.idle.set()
        self.worker: asyncio.Task | None = None
        self.speaking = False
        self.cut = False  # set by barge-in: the reply being spoken is abandoned
        self.hearing = False
        self.thinking = 0
        self.streaming = 0  # chat answers still arriving: the session is not idle yet
        self.shown = ""  # the last state event sent
        self.heard_language: str | None = None  # the language of its last transcribed turn (the STT prior)


@dataclass(frozen=True, eq=False)
class _Input:
    turn: int
    session: Session
    utterance: Utterance | None = None
    text: str = ""
    language: str | None = None
    from_source: bool = False  # cut from the audio source (the wake word applies)
    hearing: gate.Hearing = gate.Hearing()  # the session as it was when the input arrived
    transcript: asyncio.Future | None = None  # its transcription, started speculatively at the pause


@dataclass(frozen=True, eq=False)
class _Speculation:
    """A transcription started when speech paused (``SpeechPaused``), kept if the utterance cut
    after the hangover has the same edges."""
    start: float
    end: float
    transcript: asyncio.Future
    cancel: threading.Event  # set when it went stale: it stops at its next stage (stt/cancel.py)


@dataclass(frozen=True)
class _Say:
    reply: Reply
    immediate: bool


class Assistant:
    def __init__(
        self,
        cfg: Config,
        engines: Engines,
        *,
        output_dir: Path | None = None,
        history: HistoryWriter | None = None,
        notifier: Notifier | None = None,
        turn_based: bool = False,
        wake_gate: Any = None,
        console: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        warm_up: bool | Future[None] = False,
        hears_itself: bool = True,
    ):
        self.cfg = cfg
        self.engines = engines
        self.output_dir = output_dir
        self.notifier = notifier or _NoNotifier()
        self.turn_based = turn_based
        self.wake_gate = wake_gate
        self.clock = clock
        self.warm_up = warm_up
        # Reopening a lost microphone: first wait and cap (doubling in between). The cap keeps
        # "listening again within 5 s of the device coming back".
        self.reopen_backoff = (0.5, 4.0)
        self.ledger = TurnLedger(self._turn_finished, wall_clock=time.time)
        self.sessions: dict[str, Session] = {}
        self.local = self.session("local", speaker=engines.speaker)
        self.local.hears_itself = hears_itself
        self._listeners: list[Listener] = [self.ledger.observe]
        if console is not None:
            self.subscribe(ConsoleListener(console))
        if history is not None:
            self.subscribe(HistoryListener(history, self._write_failed, self.ledger.oldest_open))
        self.subscribe(StatusListener(self.notifier.status))
        self._reply_numbers = 0
        self._reply_copies_failing = False
        self._started: asyncio.Future | None = None
        self._done: asyncio.Task | None = None
        self._audio_task: asyncio.Task | None = None
        self._stopping = False
        self._last_accepted_end = float("-inf")
        self._said_once: set[str] = set()
        self._fallbacks_said: set[str] = set()
        self._backlog_s = 0.0
        self.overflowed = 0  # utterances dropped past the backlog
        self.conversation = Conversation(cfg.chat)  # one memory for the assistant (all sessions)
        self._heard_turns: set[int] = set()
        self._speculation: _Speculation | None = None  # the candidate awaiting the hangover's verdict
        self._speculating: asyncio.Future | None = None  # the last one started (one runs at a time)
        self._pending_pause: Utterance | None = None  # a pause heard while a stale speculation stopped
        self.speculated = [0, 0]  # speculative transcriptions kept, dropped (bench/loop.py)
        self.ended_early = 0  # utterances cut before the hangover's end (vad.end_early)
        self._segmenter: Segmenter | None = None  # the live source's (early ends cut it)
        self._early: set[asyncio.Task] = set()
        self._ahead: asyncio.Future | None = None  # the engine listening ahead (one at a time)
        self._ahead_due = float("inf")  # seconds of the current utterance at which to listen ahead next
        self.listened_ahead = 0  # times the engine was given an utterance so far (tests, bench/loop.py)
        self.subscribe(self._remember)

    # ------------------------------------------------------------ the contract
    @property
    def state(self) -> SessionState:
        """The local session's state."""
        return self.local.state

    @property
    def turns(self) -> list[Turn]:
        return list(self.ledger.turns)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every turn event (on the event-loop thread, in order); it must
        not block. Returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def session(self, name: str, *, speaker: Speaker | None = None, room: str | None = None) -> Session:
        """The session ``name`` (created on first use with its own state)."""
        existing = self.sessions.get(name)
        if existing is not None:
            if speaker is not None:
                existing.speaker = speaker
            return existing
        cfg = self.cfg
        state = SessionState(voice=cfg.tts.voice, speed=cfg.tts.speed, reply_language=cfg.router.reply_language)
        session = self.sessions[name] = Session(name, state, speaker, room, hears_itself=False)
        return session

    async def handle_text(self, text: str, language: str | None = None, *, session: str = "local") -> TurnTicket:
        """Typed text, routed exactly like speech."""
        await self._start()
        target = self.session(session)
        ticket = self.ledger.open(session=target.name)
        await self._inputs.put(_Input(ticket.id, target, text=text, language=language, hearing=self._hearing(target, heard=False)))
        return ticket

    async def handle_utterance(self, audio: np.ndarray, *, session: str = "local") -> TurnTicket:
        """An utterance already cut (int16 mono 16 kHz), handled like one from the microphone."""
        await self._start()
        target = self.session(session)
        audio = np.asarray(audio, dtype=np.int16)
        utterance = Utterance(0.0, len(audio) / 16000, audio, 16000, 0.0)
        return await self._submit(utterance, target, from_source=False)

    async def serve(self) -> None:
        """Run the workers with no audio source of their own, until ``stop()``."""
        await self._start()
        await self._stop_requested.wait()
        await self._wind_down()

    async def run(self, source_factory: Callable[[], Source]) -> list[Turn]:
        """Listen until the source ends (or ``stop()``), then finish pending jobs and replies."""
        await self._start()
        self._audio_task = asyncio.create_task(self._audio(source_factory), name="audio")
        try:
            await self._audio_task
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        await self._wind_down()
        return self.turns

    @property
    def loading(self) -> bool:
        """``run``/``serve`` was called and the models are still warming up (nothing to answer yet)."""
        return self._started is not None and not self._started.done()

    def stop(self) -> None:
        """Stop listening and speaking now (SIGTERM/SIGINT); pending work is recorded as failed."""
        if self._stopping:
            return
        self._stopping = True
        self.notifier.stopping()
        for session in self.sessions.values():
            self._barge_in(session)
        if self._started is None:
            return
        self.jobs.cancel_all()
        self.chat.cancel_all()
        if self._audio_task is not None and not self._audio_task.done():
            self._audio_task.cancel()
        while not self._inputs.empty():
            item = self._inputs.get_nowait()
            if item is not None:
                self.ledger.fail(item.turn, "shut down before it was handled")
                self.ledger.settle(item.turn)
        self._inputs.put_nowait(None)  # the turn worker ends after the input it is on
        self._stop_requested.set()

    def reload(self, cfg: Config, engines: Engines | None = None) -> list[str]:
        """Apply a new config (SIGHUP): returns the sections that changed."""
        changed = [f.name for f in dataclasses.fields(cfg) if f.name != "source" and getattr(cfg, f.name) != getattr(self.cfg, f.name)]
        self.cfg = cfg
        if engines is not None:
            self.engines = engines
            self.local.speaker = engines.speaker
            if self._started is not None:
                self.jobs.reset(engines.image_service)
        for session in self.sessions.values():
            if "tts" in changed:
                session.state.voice, session.state.speed = cfg.tts.voice, cfg.tts.speed
            if "router" in changed:
                session.state.reply_language = cfg.router.reply_language
        if "chat" in changed:
            self.conversation.reconfigure(cfg.chat)
        if "vad" in changed:
            self._new_segmenter = True
        return changed

    # ---------------------------------------------------------------- workers
    async def _start(self) -> None:
        if self._started is not None:
            return await asyncio.shield(self._started)
        loop = asyncio.get_running_loop()
        self._started = loop.create_future()
        self._loop = loop
        self._stop_requested = asyncio.Event()
        self._inputs: asyncio.Queue[_Input | None] = asyncio.Queue(maxsize=_FILE_BACKLOG if self.turn_based else 0)
        self.jobs = ImageJobs(self.engines.image_service, max_jobs=self.cfg.images.max_jobs, emit=self._emit_for_turn)
        self.timer_book = timers.TimerBook(timers.default_path())
        self.chat = ChatSkill(self.conversation, lambda reply: self._say(self._session_of(reply.turn), reply))
        everyday = Everyday(lambda: self.cfg, self.timer_book, can=self._can)
        self.skills = Skills(self.jobs, self.validate_voice, Translate(lambda: self.engines.transcriber),
                             everyday=everyday, chat=self.chat)
        self._ringer = asyncio.create_task(timers.ring(self.timer_book, self._ring), name="timers")
        try:
            if self.warm_up:  # True: started here; a Future: already started by the caller
                from .engines import start_warm_up

                self.notifier.status("loading models")
                warming = self.warm_up
                if not isinstance(warming, Future):
                    warming = start_warm_up(self.engines, self.state.voice)
                await asyncio.wrap_future(warming)
            self._turn_task = asyncio.create_task(self._turn_worker(), name="turns")
        finally:
            self._started.set_result(None)
        self._set_state(self.local)

    async def _wind_down(self) -> None:
        """After the input ends (or stop): finish the queued turns, the jobs, the replies."""
        if self._done is None:
            self._done = asyncio.create_task(self._finish_work())
        await asyncio.shield(self._done)

    async def _finish_work(self) -> None:
        await self._inputs.put(None)
        await self._turn_task
        if not self._stopping:
            await self.jobs.drain()
            await self.chat.drain()
        self._ringer.cancel()
        for session in list(self.sessions.values()):
            if session.worker is not None:
                session.replies.put_nowait(None)
                await session.worker
        self.ledger.close_all("shut down before it was finished")
        self._stop_requested.set()

    # ------------------------------------------------------------------ audio
    async def _audio(self, source_factory: Callable[[], Source]) -> None:
        backoff = self.reopen_backoff[0]
        while not self._stopping:
            segmenter = self._segmenter = Segmenter(self.cfg.vad)
            self._new_segmenter = False
            try:
                source = source_factory()
                self.notifier.status("listening")
                self.notifier.ready()
                if isinstance(source, CutSource):
                    async for event in source.events():
                        await self._on_event(event)
                    return
                n, energy, last_level = 0, 0.0, float("-inf")
                heard_at = -_HEARD_GAP_FRAMES - 1
                async for frame in source.frames():
                    if self._healthy():
                        self.notifier.watchdog()  # alive only while the turn worker is
                    backoff = self.reopen_backoff[0]
                    if self.wake_gate is not None:
                        if self.wake_gate.feed(frame) and n - heard_at > _HEARD_GAP_FRAMES:
                            heard_at = n  # one tone per wake word (a detector fires on several frames)
                            self._earcon(self.local, "heard")
                    for event in segmenter.process(frame):
                        await self._on_event(event)
                    if segmenter.in_speech and segmenter.speech_s >= self._ahead_due:
                        self._listen_ahead(segmenter)
                    if self.local.hearing and not segmenter.in_speech:  # a start it dropped (a click, noise)
                        self.local.hearing = False
                        self._set_state(self.local)
                    if self._new_segmenter and not segmenter.in_speech:
                        segmenter = self._segmenter = Segmenter(self.cfg.vad)
                        self._new_segmenter = False
                    n += 1
                    energy += _energy(frame)
                    if n % _LEVEL_FRAMES == 0:
                        if self.clock() - last_level >= _LEVEL_EVERY_S:  # a few a second at most
                            last_level = self.clock()
                            self._emit(EventType.LEVEL, None, self.local, {"db": _db(energy / _LEVEL_FRAMES)})
                        energy = 0.0
                    if n % 32 == 0:
                        await asyncio.sleep(0)  # let the other tasks run during fast file input
                if self._early:  # an utterance cut early is handed on before the end of input
                    await asyncio.gather(*self._early)
                for event in segmenter.flush():
                    await self._on_event(event)
                return
            except SourceLost as exc:
                log.warning("microphone lost (%s); retrying in %.1f s", exc, backoff)
                self.notifier.status("microphone lost, retrying")
                self.notifier.watchdog()  # alive and retrying: not a stuck stream
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.reopen_backoff[1])

    async def _on_event(self, event: Any) -> None:
        if isinstance(event, Utterance):
            self._pending_pause = None  # cut: the turn transcribes it now
            self.local.hearing = False
            self._set_state(self.local)
            await self._submit(event, self.local, from_source=True)
        elif isinstance(event, SpeechStarted):
            self._ahead_due = self.cfg.stt.early_evidence_s if self.cfg.stt.early_evidence_s > 0 else float("inf")
            self.local.hearing = True
            self._set_state(self.local)
        elif isinstance(event, SpeechPaused):
            self._speculate(event.utterance)

    def _speculate(self, utterance: Utterance) -> None:
        """Speech paused: transcribe what was said so far while the hangover waits (live input
        only, one at a time, and only when no turn is being handled: it must not slow one). If the
        last pause's transcription still runs, speech resumed after it: it is stopped at its next
        stage and this one starts when it has (``_pending_due``)."""
        running = self._speculating is not None and not self._speculating.done()
        spec = self._speculation
        if running and not self.turn_based and spec is not None and spec.transcript is self._speculating:
            spec.cancel.set()
            if self._pending_pause is None:
                self._speculating.add_done_callback(lambda _f: self._pending_due())
            self._pending_pause = utterance
            return
        if (self.turn_based or running or self._stopping or self.local.thinking or not self._inputs.empty()
                or (self.wake_gate is not None and not self._wake_accepts(utterance))):
            return
        if spec is not None:
            self.speculated[1] += 1  # the last one was not confirmed
        cancel = threading.Event()
        future = asyncio.ensure_future(asyncio.to_thread(self._speculative, utterance.audio, self.local, cancel))
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # a dropped one's error is not lost noise
        self._speculation = spec = _Speculation(utterance.start, utterance.end, future, cancel)
        self._speculating = future
        if self.cfg.vad.end_early:
            future.add_done_callback(lambda f: self._end_early(spec, f))

    def _pending_due(self) -> None:
        utterance, self._pending_pause = self._pending_pause, None
        if utterance is not None:
            self._speculate(utterance)

    def _speculative(self, audio: np.ndarray, session: Session, cancel: threading.Event) -> Any:
        """Blocking (a worker thread): ``_transcribe``, stopped between stages once ``cancel`` is set."""
        with cancellable(cancel):
            return self._transcribe(audio, session)

    def _listen_ahead(self, segmenter: Segmenter) -> None:
        """The user is still speaking: hand the utterance so far to the engine (a worker thread),
        when nothing else needs the cores (no turn being handled, none waiting, not in a pause that
        may be the end) and no earlier one still runs; the next time when it has grown by half.
        What the engine makes of it is reused only for this utterance's audio (``listen_ahead``)."""
        running = self._ahead is not None and not self._ahead.done()
        if (running or self.turn_based or self._stopping or self.local.thinking or not self._inputs.empty()
                or not segmenter.voiced):
            return  # tried again at the next frame
        utterance = segmenter.so_far()
        if utterance is None or (self.wake_gate is not None and not self._wake_accepts(utterance)):
            return
        self._ahead_due = segmenter.speech_s * 1.5
        self.listened_ahead += 1
        self._ahead = asyncio.ensure_future(asyncio.to_thread(self.engines.transcriber.listen_ahead, utterance.audio))
        self._ahead.add_done_callback(_quietly)

    def _end_early(self, spec: _Speculation, future: asyncio.Future) -> None:
        """The speculative transcript is in while the hangover still waits: a complete command
        ("stop", "what time is it") needs no more of it, so the segmenter cuts the utterance now
        (the same edges and audio: ``_confirmed`` takes this transcript). Anything else, or speech
        that already resumed, waits for the hangover as usual."""
        segmenter = self._segmenter
        if (self._speculation is not spec or future.cancelled() or future.exception() is not None
                or self._stopping or segmenter is None):
            return
        transcript = future.result()
        if not complete_command(transcript.text or "", transcript.language or None):
            return
        events = segmenter.end_now(spec.end)
        if not events:
            return
        self.ended_early += 1
        task = asyncio.ensure_future(self._on_events(events))
        self._early.add(task)
        task.add_done_callback(self._early.discard)

    async def _on_events(self, events: list) -> None:
        for event in events:
            await self._on_event(event)

    def _confirmed(self, utterance: Utterance) -> asyncio.Future | None:
        """The speculative transcription of ``utterance`` (same edges), or None."""
        spec, self._speculation = self._speculation, None
        if spec is None:
            return None
        if spec.start == utterance.start and spec.end == utterance.end:
            self.speculated[0] += 1
            return spec.transcript
        self.speculated[1] += 1
        spec.cancel.set()  # stale: let the turn's own transcription have the cores
        return None

    def _transcribe(self, audio: np.ndarray, session: Session) -> Any:
        """Blocking (a worker thread). The prior: the session's last heard language (uniform over
        ``stt.languages`` until it has one), not whatever another session said last."""
        stt = self.cfg.stt
        last = session.heard_language if stt.last_language_weight > 0 else None
        prior = languages.prior(stt.languages, last=last, weight=stt.last_language_weight)
        return self.engines.transcriber.transcribe(audio, language=stt.language or None, prior=prior or None)

    async def _submit(self, utterance: Utterance, session: Session, *, from_source: bool) -> TurnTicket:
        ticket = self.ledger.open(utterance.start, utterance.end, self.cfg.vad.hangover_ms / 1000, session=session.name)
        item = _Input(ticket.id, session, utterance, from_source=from_source, hearing=self._hearing(session, heard=True),
                      transcript=self._confirmed(utterance) if from_source else None)
        if from_source:
            self._heard_turns.add(ticket.id)  # the "done" earcon is for turns heard by the microphone
        if not self.turn_based and self._backlog_s + utterance.duration > BACKLOG_S:
            self._overflow(ticket.id, utterance)
            return ticket
        self._backlog_s += utterance.duration
        # file input waits here when turns lag behind (backpressure); a live queue never fills
        await self._inputs.put(item)
        return ticket

    def _overflow(self, turn: int, utterance: Utterance) -> None:
        self.overflowed += 1
        log.warning("input backlog over %.0f s: utterance at %.1f s dropped (%d so far)", BACKLOG_S, utterance.start, self.overflowed)
        self._emit(EventType.HEARD, turn, self.local, _edges(utterance))
        self._ignore(turn, self.local, f"backlog over {BACKLOG_S:.0f} s (dropped)")
        self.notice("backlog_overflow", f"input backlog over {BACKLOG_S:.0f} s: utterances dropped")

    # ------------------------------------------------------------------ turns
    async def _turn_worker(self) -> None:
        while True:
            item = await self._inputs.get()
            if item is None:
                return
            session = item.session
            if item.utterance is not None:
                self._backlog_s = max(0.0, self._backlog_s - item.utterance.duration)
            if self.turn_based:
                await session.idle.wait()  # the turn starts when the previous answer is over,
                item = dataclasses.replace(item, hearing=self._hearing(session, heard=item.utterance is not None))
            session.thinking += 1
            self._set_state(session)
            try:
                await self._handle(item)
            except AssistantError as exc:
                log.warning("turn %d failed: %s", item.turn, exc)
                language = session.state.reply_language_for(self._heard_language(item))
                if isinstance(exc, ApiError) and exc.status == 401:
                    self._say_key_rejected(session, language, item.turn)
                else:  # a failed turn is never silent (issue 17)
                    self._say(session, Reply(message("turn_failed", language), language, item.turn, "error"))
                self.ledger.fail(item.turn, str(exc))
            except Exception as exc:  # never let one input kill the loop
                log.exception("turn %d failed", item.turn)
                self.ledger.fail(item.turn, f"{type(exc).__name__}: {exc}")
            finally:
                self.ledger.settle(item.turn)
                session.thinking -= 1
                self._set_state(session)

    async def _handle(self, item: _Input) -> None:
        """One input: hear it, let the gate decide, route it, let a skill answer."""
        turn, session, utterance = item.turn, item.session, item.utterance
        if utterance is not None:
            self._emit(EventType.HEARD, turn, session, _edges(utterance))
            if item.from_source and self.wake_gate is not None and not self._wake_accepts(utterance):
                return self._ignore(turn, session, "no wake word")
            if item.transcript is not None:  # started speculatively when the speech paused
                transcript = await item.transcript
            else:
                transcript = await asyncio.to_thread(self._transcribe, utterance.audio, session)
            text, language = transcript.text.strip(), transcript.language or ""
            if text and language:
                session.heard_language = language
            self._emit(EventType.TRANSCRIBED, turn, session, {"text": text, "language": language})
        else:
            text = item.text.strip()
            language = item.language or (detect_language(text) if text else "")
            self._emit(EventType.TRANSCRIBED, turn, session, {"text": text, "language": language, "typed": True})

        decision = gate.decide(text, item.hearing)
        if decision.verdict is gate.Verdict.IGNORE:
            return self._ignore(turn, session, decision.reason)
        if decision.verdict is gate.Verdict.BARGE_IN:
            self._barge_in(session)
            self.ledger.note(turn, decision.reason)
            if decision.stop_only:
                self._emit(EventType.ROUTED, turn, session, {"intent": "stop", "slots": {}, "language": language or "en"})
                return
        intent = route(text, language or None)
        if utterance is not None and item.from_source:
            self._last_accepted_end = utterance.end
        request = Request(intent, turn, session.state.reply_language_for(intent.language), session.state,
                          utterance.audio if utterance is not None else None, language or None)
        kind = self.skills.kind_for(request)
        self._emit(EventType.ROUTED, turn, session, {"intent": kind, "slots": intent.slots(), "language": intent.language})
        outcome = await self.skills.handle(request, kind)
        if outcome.slots:
            self.ledger.annotate(turn, dict(outcome.slots))
        if outcome.failure:
            self.ledger.fail(turn, outcome.failure)
        for reply in outcome.replies:
            self._say(session, reply)
        if outcome.job is not None:
            self.ledger.hold(turn)
            outcome.job.add_done_callback(partial(self._job_done, session, turn))
            if kind == "chat":  # its sentences arrive later; the next turn waits for them (turn_based)
                session.streaming += 1
                session.idle.clear()
                outcome.job.add_done_callback(partial(self._stream_done, session))

    def _hearing(self, session: Session, *, heard: bool) -> gate.Hearing:
        """What the gate needs, as it was when the input arrived (a queued utterance was not
        spoken over a reply that started after it)."""
        state = session.state
        return gate.Hearing(
            speaking=session.speaking and not self.turn_based,
            hears_itself=session.hears_itself and heard,
            last_reply=state.last_reply,
            reply_age=0.0 if session.speaking else self.clock() - state.last_reply_at,
            echo_window_s=self.cfg.router.echo_window_s,
        )

    def _wake_accepts(self, utterance: Utterance) -> bool:
        heard = self.wake_gate.heard_between(utterance.audio_start - 0.5, utterance.end)
        return gate.wake_accepts(heard, utterance.start - self._last_accepted_end, self.cfg.router.follow_up_s)

    def _ignore(self, turn: int, session: Session, reason: str) -> None:
        self._emit(EventType.IGNORED, turn, session, {"reason": reason})
        self.ledger.ignore(turn, reason)

    def _stream_done(self, session: Session, _task: asyncio.Task) -> None:
        session.streaming -= 1
        if not session.streaming and session.replies.empty() and not session.speaking:
            session.idle.set()
            self._set_state(session)

    def _job_done(self, session: Session, turn: int, task: asyncio.Task) -> None:
        if task.cancelled():
            result = JobResult(failure="cancelled")
        elif task.exception() is not None:
            result = JobResult(failure=f"{type(task.exception()).__name__}: {task.exception()}")
        else:
            result = task.result()
        record = self.ledger.get(turn)
        if record is not None:
            record.files.extend(result.files)
        if result.failure:
            self.ledger.fail(turn, result.failure)
        if result.key_rejected:
            self._say_key_rejected(session, session.state.reply_language_for(session.state.last_reply_language), turn)
        if result.reply is not None and not self._stopping:
            self._say(session, result.reply)
        self.ledger.release(turn)

    @staticmethod
    def _heard_language(item: _Input) -> str:
        return item.language or "en"

    def validate_voice(self, voice: str, speed: float) -> None:
        """UserError (one line) when the current synthesizer cannot speak with ``voice`` at ``speed``."""
        self.engines.synthesizer.validate(voice, speed, None)  # engines change on reload

    # ---------------------------------------------------------------- replies
    def _say(self, session: Session, reply: Reply) -> None:
        """Queue a reply for the session's reply worker (the turn holds it until it is spoken)."""
        immediate = self.ledger.reply_queued(reply.turn, reply)
        session.idle.clear()
        if session.worker is None or session.worker.done():
            session.worker = asyncio.create_task(self._reply_worker(session), name=f"replies-{session.name}")
        session.replies.put_nowait(_Say(reply, immediate))
        self._set_state(session)

    async def _reply_worker(self, session: Session) -> None:
        while True:
            item = await session.replies.get()
            if item is None:
                return
            await self._speak(session, item)
            if session.replies.empty() and not session.streaming:
                session.idle.set()
                self._set_state(session)

    async def _speak(self, session: Session, item: _Say) -> None:
        reply, state = item.reply, session.state
        if reply.kind == "earcon":  # a short tone, no words, not a reply of any turn
            if session.speaker is not None:
                rate = self.engines.synthesizer.sample_rate
                tone = earcons.tone(reply.text, rate, self.cfg.audio.earcon_volume)
                await asyncio.to_thread(session.speaker.play, [tone], rate)
            return
        self._emit(EventType.REPLY_STARTED, reply.turn, session, {"text": reply.text, "language": reply.language, "kind": reply.kind})
        session.speaking, session.cut = True, False
        self._set_state(session)
        state.last_reply, state.last_reply_language = reply.text, reply.language
        kept: list[np.ndarray] = []
        reason = ""
        voices = [self.engines.synthesizer]
        if reply.kind == "error":  # why a turn failed is never left unsaid: the local voice as a last resort
            voices.append(self._local_voice)
        try:
            for n, voice in enumerate(voices):
                synthesizer = voice if n == 0 else voice()
                if synthesizer is None or self._stopping:
                    break
                kept.clear()
                try:
                    await asyncio.to_thread(self._synthesize, session, reply, kept, synthesizer)
                    reason = ""
                    break
                except AssistantError as exc:
                    log.warning("could not speak a reply: %s", exc)
                    reason = str(exc)
                except Exception as exc:
                    log.exception("could not speak a reply")
                    reason = f"{type(exc).__name__}: {exc}"
        finally:
            session.speaking = False
            state.last_reply_at = self.clock()
        if reason:
            if reply.turn is not None:
                self.ledger.fail(reply.turn, f"reply not spoken: {reason}")
            if reply.kind != "error" and not self._stopping:  # say why (the fallback voice may take over)
                self._say(session, Reply(message("turn_failed", reply.language), reply.language, reply.turn, "error"))
        elif session.cut:
            reason = "barge-in"
        self._emit(EventType.REPLY_FINISHED, reply.turn, session, {"text": reply.text, "spoken": not reason, **({"reason": reason} if reason else {})})
        if kept and session is self.local and self.output_dir is not None:
            self._save_reply(np.concatenate(kept), self.engines.synthesizer.sample_rate)
        self.ledger.reply_done(reply.turn, item.immediate)
        self._set_state(session)

    def _local_voice(self) -> Any:
        """The offline voice, for an explanation the configured one could not say (None when it is
        the configured one, or not installed)."""
        if getattr(self, "_local_tts", None) is None:
            from .tts.local import LocalSynthesizer

            active = getattr(self.engines.synthesizer, "_active", self.engines.synthesizer)
            self._local_tts = False if isinstance(active, LocalSynthesizer) else LocalSynthesizer(self.cfg.tts)
        return self._local_tts or None

    def _synthesize(self, session: Session, reply: Reply, kept: list[np.ndarray], synthesizer: Any = None) -> None:
        """Blocking (a worker thread): synthesize, emit each chunk as reply.audio, play it."""
        synthesizer = synthesizer or self.engines.synthesizer
        state = session.state

        def chunks():
            if reply.kind == "alarm":  # a timer or alarm: audible before the words
                yield earcons.tone("alarm", synthesizer.sample_rate)
            for chunk in synthesizer.synthesize(reply.text, voice=state.voice, speed=state.speed, language=reply.language):
                if session.cut:
                    return
                chunk = np.asarray(chunk, dtype=np.int16)
                data = {"audio": chunk, "sample_rate": synthesizer.sample_rate, "samples": len(chunk)}
                self._loop.call_soon_threadsafe(self._emit, EventType.REPLY_AUDIO, reply.turn, session, data, self.clock())
                kept.append(chunk)
                yield chunk

        if session.speaker is not None:  # "louder" / "quieter": the session's volume
            session.speaker.play((volume.apply(c, state.volume) for c in chunks()), synthesizer.sample_rate)
        else:
            for _chunk in chunks():
                pass

    def _save_reply(self, samples: np.ndarray, rate: int) -> None:
        """Keep a copy as reply-NNN.wav; a failing write is reported, never fatal."""
        import soundfile as sf

        from .paths import PRIVATE, atomic_path

        self._reply_numbers += 1
        target = self.output_dir / f"reply-{self._reply_numbers:03d}.wav"
        try:
            with atomic_path(target, overwrite=False, mode=PRIVATE) as tmp:  # replies are private
                sf.write(tmp, samples, rate, format="WAV", subtype="PCM_16")
        except Exception as exc:  # disk full, read-only, removed directory: keep answering
            if not self._reply_copies_failing:  # one line per episode, not one per reply
                log.warning("could not keep the reply copy %s: %s (said once until a copy is written again)", target, exc)
                self._reply_copies_failing = True
            self._write_failed(exc)
        else:
            if self._reply_copies_failing:
                log.info("reply copies are written again (%s)", target)
            self._reply_copies_failing = False

    def _barge_in(self, session: Session) -> None:
        """Cut the reply being spoken and drop the session's queued replies."""
        session.cut = True
        if session.speaker is not None:
            session.speaker.stop()
        while not session.replies.empty():
            item = session.replies.get_nowait()
            if item is None:
                session.replies.put_nowait(None)
                break
            self._emit(EventType.REPLY_FINISHED, item.reply.turn, session, {"text": item.reply.text, "spoken": False, "reason": "barge-in"})
            self.ledger.reply_done(item.reply.turn, item.immediate)
        session.idle.set()
        self._set_state(session)

    # ---------------------------------------------------------- everyday skills
    def _ring(self, timer: "timers.Timer") -> None:
        """A timer or alarm is due: the local session speaks without an utterance (tone + words)."""
        if not self._stopping:
            self._say(self.local, Reply(timers.announcement(timer), timer.language, None, "alarm"))

    def _earcon(self, session: Session, name: str) -> None:
        """A short tone (audio.earcons: "heard" = wake word, "done" = a turn is over)."""
        if name in self.cfg.audio.earcons and session.speaker is not None and not self._stopping and self._started is not None:
            self._say(session, Reply(name, "en", None, "earcon"))

    def _session_of(self, turn: int | None) -> Session:
        return self.sessions.get(self.ledger.session_of(turn) or "local", self.local)

    def _can(self, what: str) -> bool:
        """Which abilities this configuration has ("what can you do")."""
        from .secrets import api_key, server_url

        if what == "images":
            return self.cfg.images.backend != "local" and bool(api_key() or server_url(self.cfg.images.base_url))
        return what == "chat" and self.conversation.available()

    def _remember(self, event: TurnEvent) -> None:
        """Every finished turn (commands too) and what it drew goes into the chat memory; a live
        turn that was answered ends with the "done" earcon."""
        if event.type is not EventType.TURN_FINISHED:
            return
        record = event.data.get("record") or {}
        if record.get("result") in ("done", "failed") and record.get("text"):
            self.conversation.memory.add(record["text"], " ".join(record.get("replies") or ()), _note(record))
        if event.turn in self._heard_turns:
            self._heard_turns.discard(event.turn)
            if record.get("replies") and not self.turn_based and record.get("result") in ("done", "failed"):
                self._earcon(self.local, "done")

    # ---------------------------------------------------------------- notices
    def notice(self, key: str, log_line: str = "") -> None:
        """Say ``key`` (a message) once per run on the local session, outside any turn."""
        if key in self._said_once or self._stopping:
            return
        self._said_once.add(key)
        state = self.local.state
        language = state.reply_language_for(state.last_reply_language)
        text = message(key, language)
        self._emit(EventType.NOTICE, None, self.local, {"key": key, "text": text, "log": log_line or text})
        if self._started is not None:
            self._say(self.local, Reply(text, language, None, "announce"))

    def fallback_notice(self, what: str) -> None:
        """An engine switched to its local stand-in (API unreachable): said once per run, whichever
        engine switched first. Called from worker threads."""
        self._fallbacks_said.add(what)
        loop = getattr(self, "_loop", None)
        if loop is not None:
            loop.call_soon_threadsafe(self.notice, "api_unreachable_local_fallback", f"{what}: API unreachable, using the local engine")

    def _say_key_rejected(self, session: Session, language: str, turn: int | None) -> None:
        if "api_key_rejected" not in self._said_once:
            self._said_once.add("api_key_rejected")
            self._say(session, Reply(message("api_key_rejected", language), language, turn, "announce"))

    def _write_failed(self, exc: BaseException) -> None:
        """A history, turns.jsonl or reply-copy write failed: said once; the loop keeps answering."""
        self.notice("disk_full", f"cannot write to disk ({getattr(exc, 'strerror', None) or exc}); answering on")

    # ----------------------------------------------------------------- events
    def _emit(self, type_: EventType, turn: int | None, session: Session, data: dict[str, Any], when: float | None = None) -> None:
        event = TurnEvent(type_, turn, self.clock() if when is None else when, data, session.name)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener must not raise; if one does, the loop goes on
                log.exception("turn-event listener %r failed", listener)

    def _emit_for_turn(self, type_: EventType, turn: int, data: dict[str, Any]) -> None:
        name = self.ledger.session_of(turn) or "local"
        self._emit(type_, turn, self.sessions.get(name, self.local), data)

    def _turn_finished(self, turn: Turn, session: str, record: dict[str, Any]) -> None:
        self._emit(EventType.TURN_FINISHED, turn.id, self.sessions.get(session, self.local),
                   {"result": str(turn.result), "reason": turn.reason, "record": record})

    def _set_state(self, session: Session) -> None:
        replying = session.speaking or not session.idle.is_set()
        state = ("thinking" if session.thinking else "speaking" if replying
                 else "hearing" if session.hearing else "listening")
        if state != session.shown:
            session.shown = state
            self._emit(EventType.STATE, None, session, {"state": state})

    def _healthy(self) -> bool:
        task = getattr(self, "_turn_task", None)
        return task is not None and not task.done()


_DONE_NOTES = {"draw": "I drew", "edit": "I edited the picture", "variation": "I drew another version"}


def _quietly(future: asyncio.Future) -> None:
    """Listening ahead only saves time: a failure there is logged, the utterance is heard anyway."""
    if not future.cancelled() and future.exception() is not None:
        log.debug("listening ahead failed: %s", future.exception())


def _note(record: dict[str, Any]) -> str:
    """What a finished image turn made, for the chat model's memory."""
    if record.get("intent") not in _DONE_NOTES or record.get("result") != "done" or not record.get("files"):
        return ""
    names = ", ".join(Path(f).name for f in record["files"])
    return f"{_DONE_NOTES[record['intent']]}: {(record.get('slots') or {}).get('prompt', '')} ({names})"


def _edges(utterance: Utterance) -> dict[str, float]:
    return {"start": round(utterance.start, 3), "end": round(utterance.end, 3), "duration": round(utterance.duration, 3)}


def _energy(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    return float(np.mean(samples * samples)) if len(samples) else 0.0


def _db(mean_square: float) -> float:
    """Mean square of int16 samples -> dBFS (-100 for silence)."""
    return round(10 * np.log10(mean_square / 32768.0 ** 2), 1) if mean_square > 0 else -100.0


__all__ = ["Assistant", "Session", "SourceLost", "ApiError", "TurnTicket", "MAX_TURNS_KEPT", "Result"]
