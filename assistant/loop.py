"""The assistant loop: source -> segmenter -> transcriber -> router -> skills -> speaker.

Three asyncio tasks exchange frozen events through queues:
- audio: frames from the source into the segmenter (pure, cheap) -> utterances;
- turns: each utterance is transcribed (in a thread), routed (pure) and handled by a skill;
- replies: each reply is synthesized and played (in a thread), one at a time, in order.
Image jobs run beside them (see skills/images.py). Blocking work never runs on the event loop,
so listening goes on while the assistant speaks or draws.

Half-duplex: while a reply plays, utterances are only checked for a stop word (barge-in).
``turn_based`` (file input faster than real time) instead waits for the replies of one turn to
finish before the next utterance is handled, like a person waiting for the answer.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
import difflib
import itertools
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Protocol

import numpy as np

from .config import Config
from .errors import ApiError, AssistantError
from .events import Reply, SpeechStarted, Utterance
from .history import HistoryWriter, Turn
from .router.route import is_filler, is_stop, route
from . import sentences
from .audio import earcons
from .chat.conversation import Conversation
from .chat.refer import refers_to_last_answer
from .skills import timers, volume
from .skills.dispatch import Skills, image_options, language_of
from .skills.images import ImageJobs
from .skills.messages import message
from .skills.state import SessionState
from .vad.segmenter import Segmenter

log = logging.getLogger(__name__)

# Intents that still act as commands while translate mode is on.
_COMMANDS_IN_TRANSLATE_MODE = {"translate_off", "translate_on", "stop"}
_ECHO_SIMILARITY = 0.8
MAX_TURNS_KEPT = 2000
_FILE_BACKLOG = 4  # utterances cut ahead of the turn being handled (file input)
_ECHO_MIN_COVER = 0.6  # an echo repeats most of the reply
_HEARD_GAP_FRAMES = 50  # 1.5 s of 30 ms frames between two "heard" earcons


class FrameSource(Protocol):
    def frames(self) -> AsyncIterator[bytes]: ...


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


class Assistant:
    def __init__(
        self,
        cfg: Config,
        engines: Any,
        *,
        output_dir: Path | None = None,
        history: HistoryWriter | None = None,
        notifier: Notifier | None = None,
        turn_based: bool = False,
        wake_gate: Any = None,
        console: Callable[[str], None] = lambda _line: None,
        clock: Callable[[], float] = time.monotonic,
        warm_up: bool = False,
    ):
        self.cfg = cfg
        self.engines = engines
        self.output_dir = output_dir
        self.history = history
        self.notifier = notifier or _NoNotifier()
        self.turn_based = turn_based
        self.wake_gate = wake_gate
        self.console = console
        self.clock = clock
        self.warm_up = warm_up
        # Reopening a lost microphone: first wait and cap (doubling in between). The cap keeps
        # "listening again within 5 s of the device coming back".
        self.reopen_backoff = (0.5, 4.0)
        self.state = SessionState(voice=cfg.tts.voice, speed=cfg.tts.speed, reply_language=cfg.router.reply_language)
        self.turns: deque[Turn] = deque(maxlen=MAX_TURNS_KEPT)  # bounded: the daemon runs for months
        self._turn_ids = itertools.count(1)
        self._reply_numbers = itertools.count(1)
        self._pending: dict[int, int] = {}
        self._stopping = False
        self._speaking = False
        self._cut = False  # set by barge-in: the reply being played is abandoned
        self._last_accepted_end = float("-inf")
        self._fallbacks_said: set[str] = set()
        self.conversation = Conversation(cfg.chat)
        self._chats: set[asyncio.Task] = set()  # answers being streamed from the chat model

    # ----------------------------------------------------------------- running
    async def run(self, source_factory: Callable[[], FrameSource]) -> list[Turn]:
        """Listen until the source ends (or ``stop()``), then finish pending jobs and replies."""
        self._utterances: asyncio.Queue[tuple[Utterance, float] | None] = asyncio.Queue(
            maxsize=_FILE_BACKLOG if self.turn_based else 0)
        self._replies: asyncio.Queue[Reply | None] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self.jobs = ImageJobs(
            self.engines.image_service,
            max_jobs=self.cfg.images.max_jobs,
            announce=self._enqueue,
            finished=self._job_finished,
            status=self.notifier.status,
            options_for=image_options,
            key_rejected=self._say_key_rejected,
            progress=self.console,
        )
        self.timer_book = timers.TimerBook(timers.default_path())
        self.skills = Skills(self.state, self.jobs, self._validate_voice, cfg=self.cfg, timer_book=self.timer_book,
                             can=self._can)
        self._loop = asyncio.get_running_loop()
        ringer = asyncio.create_task(timers.ring(self.timer_book, self._ring), name="timers")
        if self.warm_up:
            from .engines import warm_up

            self.notifier.status("loading models")
            await asyncio.to_thread(warm_up, self.engines, self.state.voice)
        turns_task = asyncio.create_task(self._turn_worker(), name="turns")
        replies_task = asyncio.create_task(self._reply_worker(), name="replies")
        self._audio_task = asyncio.create_task(self._audio(source_factory), name="audio")
        try:
            await self._audio_task
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        await self._utterances.put(None)
        await turns_task
        if not self._stopping:
            await self.jobs.drain()
            while self._chats:
                await asyncio.gather(*list(self._chats), return_exceptions=True)
        ringer.cancel()
        await self._replies.put(None)
        await replies_task
        return list(self.turns)

    def _ring(self, timer: "timers.Timer") -> None:
        """A timer or alarm is due: a turn without an utterance, an alert tone and the announcement."""
        self._enqueue(Reply(timers.announcement(timer), timer.language, None, "alarm"))

    def _can(self, what: str) -> bool:
        if what == "images":
            from .secrets import api_key, server_url

            return self.cfg.images.backend != "local" and bool(api_key() or server_url(self.cfg.images.base_url))
        return False

    def stop(self) -> None:
        """Stop listening and speaking now (SIGTERM/SIGINT); pending work is recorded as failed."""
        if self._stopping:
            return
        self._stopping = True
        self.notifier.stopping()
        self._barge_in()
        self.jobs.cancel_all()
        for task in list(self._chats):
            task.cancel()
        if not self._audio_task.done():
            self._audio_task.cancel()
        while not self._utterances.empty():
            item = self._utterances.get_nowait()
            if item is not None:
                turn = self._new_turn(*item)
                self._finish(turn, "failed", "shut down before it was handled")

    def reload(self, cfg: Config, engines: Any | None = None) -> list[str]:
        """Apply a new config (SIGHUP): returns the sections that changed."""
        changed = [f.name for f in dataclasses.fields(cfg) if f.name != "source" and getattr(cfg, f.name) != getattr(self.cfg, f.name)]
        self.cfg = cfg
        if engines is not None:
            self.engines = engines
        if "tts" in changed:
            self.state.voice, self.state.speed = cfg.tts.voice, cfg.tts.speed
        if "chat" in changed:
            self.conversation.reconfigure(cfg.chat)
        if "router" in changed:
            self.state.reply_language = cfg.router.reply_language
        if "vad" in changed:
            self._new_segmenter = True
        return changed

    # ------------------------------------------------------------------- audio
    async def _audio(self, source_factory: Callable[[], FrameSource]) -> None:
        backoff = self.reopen_backoff[0]
        while not self._stopping:
            segmenter = Segmenter(self.cfg.vad)
            self._new_segmenter = False
            try:
                source = source_factory()
                self.notifier.status("listening")
                self.notifier.ready()
                if hasattr(source, "events"):  # a source that is already cut (tests, replays)
                    async for event in source.events():
                        await self._on_event(event)
                    return
                n, heard_at = 0, -_HEARD_GAP_FRAMES - 1
                async for frame in source.frames():
                    self.notifier.watchdog()
                    backoff = self.reopen_backoff[0]
                    if self.wake_gate is not None:
                        if self.wake_gate.feed(frame) and n - heard_at > _HEARD_GAP_FRAMES:
                            heard_at = n  # one tone per wake word (a detector fires on several frames)
                            self._earcon("heard")
                    for event in segmenter.process(frame):
                        await self._on_event(event)
                    if self._new_segmenter and not segmenter.in_speech:
                        segmenter = Segmenter(self.cfg.vad)
                        self._new_segmenter = False
                    n += 1
                    if n % 32 == 0:
                        await asyncio.sleep(0)  # let the other tasks run during fast file input
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
            # file input waits here when turns lag behind (backpressure); a live queue never fills
            await self._utterances.put((event, self.clock()))
        elif isinstance(event, SpeechStarted):
            log.debug("speech started at %.2f s", event.start)

    # ------------------------------------------------------------------- turns
    async def _turn_worker(self) -> None:
        while True:
            item = await self._utterances.get()
            if item is None:
                return
            if self.turn_based:
                await self._idle.wait()
                # the turn starts when the previous answer is over, as it would live
                item = (item[0], max(item[1], self.clock()))
            turn = self._new_turn(*item)
            try:
                await self._handle(item[0], turn)
            except AssistantError as exc:
                log.warning("turn %d failed: %s", turn.id, exc)
                if isinstance(exc, ApiError) and exc.status == 401:
                    self._say_key_rejected(self.state.reply_language_for(turn.language or "en"), None)
                self._finish(turn, "failed", str(exc))
            except Exception as exc:  # never let one utterance kill the loop
                log.exception("turn %d failed", turn.id)
                self._finish(turn, "failed", f"{type(exc).__name__}: {exc}")

    def _new_turn(self, utterance: Utterance, emitted: float) -> Turn:
        turn = Turn(next(self._turn_ids), utterance.start, utterance.end, self.cfg.vad.hangover_ms / 1000)
        turn.mark("emitted", emitted)
        self.turns.append(turn)
        self._pending[turn.id] = 0
        return turn

    async def _handle(self, utterance: Utterance, turn: Turn) -> None:
        speaking = self._speaking and not self.turn_based
        if self.wake_gate is not None and not self._wake_accepts(utterance):
            self._finish(turn, "ignored", "no wake word")
            return
        transcript = await self._transcribe(utterance.audio, turn)
        text = transcript.text.strip()
        turn.text, turn.language = text, transcript.language or ""
        if not text:
            self._finish(turn, "ignored", "no speech")
            return
        self.console(f"you: {text}")
        if speaking:
            if is_stop(text):
                self._barge_in()
                turn.intent = "stop"
                self._finish(turn, "done", "barge-in: playback stopped")
            else:
                self._finish(turn, "ignored", "assistant was speaking")
            return
        if self._is_echo(text):
            self._finish(turn, "ignored", "echo of the assistant's own reply")
            return
        if is_filler(text):
            self._finish(turn, "ignored", "only a hesitation")
            return
        intent = route(text, transcript.language or None)
        turn.mark("routed", self.clock())
        turn.intent, turn.slots = intent.kind, intent.slots()
        self._last_accepted_end = utterance.end
        language = self.state.reply_language_for(intent.language)
        own = None if self.state.translate else sentences.match(self.cfg.sentences, text)
        if own is not None:  # the user's own sentences come before the built-in intents
            replies = await self._own_sentence(own, turn, language)
        elif self.state.translate and intent.kind not in _COMMANDS_IN_TRANSLATE_MODE:
            turn.intent = "translation"
            replies = await self._translate(utterance, transcript, turn)
        elif intent.kind == "unknown" and self.conversation.available():
            replies = self._chat(text, turn, language)
        else:
            if intent.kind == "draw" and refers_to_last_answer(intent.prompt) and self.conversation.memory.last_answer():
                intent = dataclasses.replace(intent, prompt=self.conversation.memory.last_answer())
                turn.slots = intent.slots()  # "draw what you just described": the previous answer
            replies, job = self.skills.handle(intent, turn, language)
            if job:
                self._pending[turn.id] += 1  # the job; _job_finished() releases it
        for reply in replies:
            self._enqueue(reply)
        if self._pending[turn.id] == 0:
            self._finish(turn, turn.result if turn.result != "pending" else "done")

    def _chat(self, text: str, turn: Turn, language: str) -> list[Reply]:
        """Not a command: the chat model answers in the background, each sentence spoken as it
        arrives; the turn stays open (a pending job) until the stream ends."""
        turn.intent = "chat"
        self._pending[turn.id] += 1
        self._idle.clear()

        def emit(sentence: str) -> None:  # worker thread -> the event loop
            reply = Reply(sentence, language_of(sentence, language), turn.id)
            self._loop.call_soon_threadsafe(self._enqueue, reply)

        async def job() -> None:
            try:
                answer = await asyncio.to_thread(self.conversation.answer, text, language, emit)
                if not answer:
                    turn.result, turn.reason = "failed", "the chat model answered nothing"
                    self._enqueue(Reply(message("unknown", language), language, turn.id))
            except asyncio.CancelledError:
                turn.result, turn.reason = "failed", "cancelled"
                raise
            except AssistantError as exc:
                turn.result, turn.reason = "failed", str(exc)
                if isinstance(exc, ApiError) and exc.status == 401:
                    self._say_key_rejected(language, turn.id)
                else:
                    self._enqueue(Reply(message("chat_failed", language), language, turn.id))
            except Exception as exc:  # a bug in one answer must not kill the loop
                log.exception("chat answer failed")
                turn.result, turn.reason = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                self._chats.discard(task)
                if not self._chats and self._replies.empty() and not self._speaking:
                    self._idle.set()
                self._job_finished(turn)

        task = asyncio.create_task(job(), name=f"chat-{turn.id}")
        self._chats.add(task)
        return []

    async def _own_sentence(self, hit: "sentences.Match", turn: Turn, language: str) -> list[Reply]:
        """A ``[[sentences]]`` entry: run its command / HTTP request (in a thread), record the status."""
        turn.intent, turn.slots = "sentence", {"sentence": hit.index, **hit.slots}
        done = await asyncio.to_thread(sentences.perform, hit)
        if done.kind != "reply":
            turn.slots[done.kind] = done.status  # exit status or HTTP status (None: did not run)
        if not done.ok:
            turn.result, turn.reason = "failed", done.error
            return [Reply(message("sentence_failed", language, reason=done.error), language, turn.id)]
        text = sentences.reply_text(hit, done) or message("sentence_done", language)
        return [Reply(text, sentences.language_of(text, language), turn.id)]

    async def _transcribe(self, audio: np.ndarray, turn: Turn, **kwargs: Any) -> Any:
        language = self.cfg.stt.language or None
        kwargs.setdefault("language", language)
        result = await asyncio.to_thread(self.engines.transcriber.transcribe, audio, **kwargs)
        turn.mark("transcribed", self.clock())
        return result

    async def _translate(self, utterance: Utterance, transcript: Any, turn: Turn) -> list[Reply]:
        if (transcript.language or "en") == "en":
            english = transcript.text.strip()
        else:
            translated = await self._transcribe(utterance.audio, turn, task="translate", language=transcript.language)
            english = translated.text.strip()
        turn.slots = {"translation": english, "from": transcript.language}
        if not english:
            turn.result, turn.reason = "failed", "empty translation"
            return []
        return [Reply(english, "en", turn.id, "translation")]

    def _validate_voice(self, voice: str, speed: float) -> None:
        validate = getattr(self.engines.synthesizer, "validate", None)  # engines change on reload
        if callable(validate):
            validate(voice, speed, None)

    def _say_key_rejected(self, language: str, turn_id: int | None) -> None:
        if not self.state.key_rejected_said:
            self.state.key_rejected_said = True
            self._enqueue(Reply(message("api_key_rejected", language), language, turn_id, "announce"))

    def fallback_notice(self, what: str) -> None:
        """An engine switched to its local stand-in (API unreachable): say so, once per engine.
        Called from worker threads."""
        if what in self._fallbacks_said or not hasattr(self, "_loop"):
            return
        self._fallbacks_said.add(what)
        language = self.state.reply_language_for(self.state.last_reply_language)
        reply = Reply(message("api_unreachable_local_fallback", language), language, None, "announce")
        self._loop.call_soon_threadsafe(self._enqueue, reply)

    def _wake_accepts(self, utterance: Utterance) -> bool:
        if self.wake_gate.heard_between(utterance.audio_start - 0.5, utterance.end):
            return True
        return utterance.start - self._last_accepted_end <= self.cfg.router.follow_up_s

    def _is_echo(self, text: str) -> bool:
        if not self.state.last_reply or self.clock() - self.state.last_reply_at > self.cfg.router.echo_window_s:
            return False
        a, b = _normalize(text), _normalize(self.state.last_reply)
        if not a or len(a) < _ECHO_MIN_COVER * len(b):
            return False  # a short command that merely appears inside the reply is not an echo
        return a in b or difflib.SequenceMatcher(None, a, b).ratio() >= _ECHO_SIMILARITY

    # ----------------------------------------------------------------- replies
    def _enqueue(self, reply: Reply) -> None:
        if reply.turn is not None and reply.turn in self._pending:
            self._pending[reply.turn] += 1
            turn = self._turn(reply.turn)
            if turn is not None:
                turn.replies.append(reply.text)
        self._idle.clear()
        self._replies.put_nowait(reply)

    async def _reply_worker(self) -> None:
        while True:
            reply = await self._replies.get()
            if reply is None:
                return
            if reply.kind != "earcon":
                self.console(f"assistant: {reply.text}")
            self._speaking, self._cut = True, False
            try:
                await asyncio.to_thread(self._speak, reply)
            except AssistantError as exc:
                log.warning("could not speak a reply: %s", exc)
                self._reply_failed(reply, str(exc))
            except Exception as exc:
                log.exception("could not speak a reply")
                self._reply_failed(reply, f"{type(exc).__name__}: {exc}")
            finally:
                self._speaking = False
                self._reply_done(reply)
                if self._replies.empty() and not self._chats:
                    self._idle.set()

    def _speak(self, reply: Reply) -> None:
        """Blocking: synthesize and play one reply; keeps a copy as reply-NNN.wav if asked."""
        synthesizer, speaker = self.engines.synthesizer, self.engines.speaker
        if reply.kind == "earcon":  # a short tone, no words
            rate = synthesizer.sample_rate
            speaker.play([earcons.tone(reply.text, rate, self.cfg.audio.earcon_volume)], rate)
            return
        turn = self._turn(reply.turn) if reply.turn is not None else None
        kept: list[np.ndarray] = []
        self.state.last_reply, self.state.last_reply_language = reply.text, reply.language
        self.state.last_reply_at = self.clock()

        def chunks():
            if reply.kind == "alarm":  # audible before the words
                yield earcons.tone("alarm", synthesizer.sample_rate)
            for chunk in synthesizer.synthesize(reply.text, voice=self.state.voice, speed=self.state.speed, language=reply.language):
                if self._cut:
                    return
                if turn is not None:
                    turn.mark("first_audio", self.clock())
                kept.append(chunk)
                yield chunk

        speaker.play((volume.apply(c, self.state.volume) for c in chunks()), synthesizer.sample_rate)
        self.state.last_reply_at = self.clock()
        if self.output_dir is not None and kept:
            self._save_reply(np.concatenate(kept), synthesizer.sample_rate)

    def _save_reply(self, samples: np.ndarray, rate: int) -> None:
        import soundfile as sf

        from .paths import atomic_path

        target = self.output_dir / f"reply-{next(self._reply_numbers):03d}.wav"
        with atomic_path(target, overwrite=False) as tmp:
            sf.write(tmp, samples, rate, format="WAV", subtype="PCM_16")

    def _barge_in(self) -> None:
        self._cut = True
        stop = getattr(self.engines.speaker, "stop", None)
        if callable(stop):
            stop()
        if not hasattr(self, "_replies"):
            return
        while not self._replies.empty():
            reply = self._replies.get_nowait()
            if reply is None:
                self._replies.put_nowait(None)
                break
            self._reply_done(reply)
        self._idle.set()

    def _reply_failed(self, reply: Reply, reason: str) -> None:
        turn = self._turn(reply.turn) if reply.turn is not None else None
        if turn is not None and turn.result == "pending":
            turn.result, turn.reason = "failed", f"reply not spoken: {reason}"

    def _reply_done(self, reply: Reply) -> None:
        if reply.turn is None or reply.turn not in self._pending:
            return
        self._pending[reply.turn] -= 1
        self._maybe_finish(reply.turn)

    def _job_finished(self, turn: Turn) -> None:
        if turn.id in self._pending:
            self._pending[turn.id] -= 1
            self._maybe_finish(turn.id)

    def _maybe_finish(self, turn_id: int) -> None:
        if self._pending.get(turn_id) == 0:
            turn = self._turn(turn_id)
            if turn is not None:
                self._finish(turn, turn.result if turn.result != "pending" else "done")

    def _earcon(self, name: str) -> None:
        """Queue a short tone (audio.earcons: "heard" = wake word, "done" = turn over)."""
        if name in self.cfg.audio.earcons and hasattr(self, "_replies") and not self._stopping:
            self._enqueue(Reply(name, "en", None, "earcon"))

    def _remember(self, turn: Turn) -> None:
        """Every answered turn (commands too) and what it drew goes into the chat memory."""
        if turn.result in ("done", "failed") and turn.text:
            self.conversation.memory.add(turn.text, " ".join(turn.replies), _note(turn))

    def _turn(self, turn_id: int) -> Turn | None:
        for turn in reversed(self.turns):
            if turn.id == turn_id:
                return turn
        return None

    def _finish(self, turn: Turn, result: str, reason: str = "") -> None:
        """Write the turn's history line once all its replies and jobs are done."""
        if self._pending.pop(turn.id, None) is None:
            return
        turn.result = result
        turn.reason = reason or turn.reason
        self._remember(turn)
        if turn.replies and not self.turn_based and result in ("done", "failed"):
            self._earcon("done")  # the turn is over: the user may speak again
        if self.history is not None:
            self.history.write(turn.record(time.time()))


_DONE_NOTES = {"draw": "I drew", "edit": "I edited the picture", "variation": "I drew another version"}


def _note(turn: Turn) -> str:
    """What a finished image turn made, for the chat model's memory."""
    if turn.intent not in _DONE_NOTES or turn.result != "done" or not turn.files:
        return ""
    names = ", ".join(Path(f).name for f in turn.files)
    return f"{_DONE_NOTES[turn.intent]}: {turn.slots.get('prompt', '')} ({names})"


def _normalize(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).strip()


__all__ = ["Assistant", "SourceLost", "ApiError"]
