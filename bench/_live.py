"""Real speech at microphone pace, for bench/loop.py: our loop live, Home Assistant's local stack
on the same audio, cold start to READY and idle RSS.

- ``live``: the corpus clips of one language, joined by silence, fed to a live ``Assistant`` at
  microphone pace (frame n arrives at t0 + (n + 1) x 30 ms, as from a sound card); per turn, end of
  speech (the wall time the utterance's end edge arrived) -> its first reply audio. The hangover,
  queueing, transcription, routing and synthesis are all inside.
- ``ha_stack``: what Home Assistant's assist pipeline with its local add-ons takes for the same
  clip: its default end-of-speech silence (0.7 s), wyoming-faster-whisper's Transcript after
  AudioStop (the audio already streamed, as HA does), then wyoming-piper's first AudioChunk for the
  same reply text. HA's intent step and its network hops are not counted (in HA's favour).
- ``cold_start``: ``assistant run`` as a subprocess until its "listening" state event (every model
  loaded and warmed), then its RSS while idle.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from _common import end_daemon

from assistant.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from assistant.events import EventType
from assistant.memory import status
from tests import daemon

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
HA_SILENCE_S = 0.7  # homeassistant.components.assist_pipeline.vad: VadSensitivity.DEFAULT silence_seconds
GAP_S = 1.5  # silence between clips: each reply is over before the next clip ends


class PacedSource:
    """One stream at microphone pace; ``t0`` is the wall (monotonic) time of stream time 0."""

    def __init__(self, pcm: np.ndarray):
        self.pcm = np.asarray(pcm, np.int16)
        self.t0 = 0.0

    async def frames(self):
        n_frames = len(self.pcm) // FRAME_SAMPLES
        self.t0 = time.monotonic()
        for n in range(n_frames):
            delay = self.t0 + (n + 1) * FRAME_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            yield self.pcm[n * FRAME_SAMPLES:(n + 1) * FRAME_SAMPLES].tobytes()


@dataclass
class LiveTurn:
    start: float
    end: float
    text: str = ""
    language: str = ""
    reply: str = ""
    first_audio: float | None = None  # monotonic
    latency: float | None = None  # end of speech -> first reply audio, s
    clip: int = -1  # index of the clip it came from
    handled: float | None = None  # monotonic: the turn worker took it (its "heard" event)
    routed: float | None = None  # monotonic
    intent: str = ""


@dataclass
class LiveRun:
    turns: list[LiveTurn] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)  # each clip's stream span
    speculated: tuple[int, int] = (0, 0)  # speculative transcriptions kept, dropped
    t0: float = 0.0  # monotonic time of stream time 0
    ended_early: int = 0  # utterances cut before the hangover's end (a complete command heard)

    def latencies(self) -> list[float]:
        return [t.latency for t in self.turns if t.latency is not None]

    def first_per_clip(self) -> dict[int, LiveTurn]:
        out: dict[int, LiveTurn] = {}
        for t in self.turns:
            if t.clip >= 0 and t.clip not in out:
                out[t.clip] = t
        return out


def stream_of(pcms: list[np.ndarray], gap_s: float = GAP_S) -> tuple[np.ndarray, list[tuple[float, float]]]:
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.int16)
    parts, spans, t = [gap[: SAMPLE_RATE // 2]], [], 0.5
    for pcm in pcms:
        spans.append((t, t + len(pcm) / SAMPLE_RATE))
        parts += [pcm, gap]
        t += (len(pcm) + len(gap)) / SAMPLE_RATE
    return np.concatenate(parts), spans


def live(cfg, engines, pcms: list[np.ndarray]) -> LiveRun:
    """Run the loop live over the clips; latencies per turn."""
    from assistant.loop import Assistant

    stream, spans = stream_of(pcms)
    run = LiveRun(spans=spans)
    source = PacedSource(stream)
    by_turn: dict[int, LiveTurn] = {}

    def listen(event) -> None:
        if event.turn is None:
            return
        if event.type is EventType.HEARD:
            turn = by_turn[event.turn] = LiveTurn(event.data["start"], event.data["end"], handled=event.time)
            turn.clip = next((i for i, (a, b) in enumerate(spans) if a - 0.3 <= turn.end <= b + 0.3), -1)
            run.turns.append(turn)
        elif event.turn in by_turn:
            turn = by_turn[event.turn]
            if event.type is EventType.TRANSCRIBED:
                turn.text, turn.language = event.data["text"], event.data["language"]
            elif event.type is EventType.ROUTED:
                turn.routed, turn.intent = event.time, event.data["intent"]
            elif event.type is EventType.REPLY_STARTED and not turn.reply:
                turn.reply = event.data["text"]
            elif event.type is EventType.REPLY_AUDIO and turn.first_audio is None:
                turn.first_audio = event.time
                turn.latency = event.time - (source.t0 + turn.end)

    assistant = Assistant(cfg, engines, turn_based=False, hears_itself=False)
    assistant.subscribe(listen)
    asyncio.run(assistant.run(lambda: source))
    run.speculated = tuple(assistant.speculated)
    run.t0 = source.t0
    run.ended_early = assistant.ended_early
    return run


# ----------------------------------------------------------------------- Home Assistant's stack
def ha_stack(runs: dict[str, tuple[list, LiveRun]], synthesizer) -> dict[str, list[float]]:
    """Per language: 0.7 s + wyoming-faster-whisper + wyoming-piper (first chunk) on each clip that
    our loop answered, with our reply text. Korean has no piper voice: its first chunk is our
    espeak-ng synthesis (the same in both columns)."""
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    from tests.faces.wyoming_peers import free_port, have, piper_args, running

    if not (have("wyoming_piper") and have("wyoming_faster_whisper")):
        print("Home Assistant's stack skipped: pip install wyoming-piper wyoming-faster-whisper")
        return {}
    from assistant.stt.local import base_dir, tiny_en_dir

    out: dict[str, list[float]] = {}
    tts_port = free_port()
    with tempfile.TemporaryDirectory() as tmp, running(piper_args(tts_port), tts_port, "wyoming-piper"):
        for language, (pcms, run) in runs.items():
            model = tiny_en_dir() if language == "en" else base_dir()  # HA: one language per pipeline
            stt_port = free_port()
            args = [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{stt_port}",
                    "--data-dir", tmp, "--model", str(model), "--stt-library", "faster-whisper", "--local-files-only",
                    "--cpu-threads", "2", "--beam-size", "1", "--compute-type", "int8", "--language", language]
            with running(args, stt_port, "wyoming-faster-whisper"):
                asyncio.run(_stt(stt_port, pcms[0], language))  # warm-up
                asyncio.run(_tts(tts_port, "Ready."))
                values = []
                for i, turn in sorted(run.first_per_clip().items()):
                    if turn.latency is None or not turn.reply:
                        continue
                    audio = np.concatenate([pcms[i], np.zeros(int(HA_SILENCE_S * SAMPLE_RATE), np.int16)])
                    stt_s = asyncio.run(_stt(stt_port, audio, language))
                    if language == "en":
                        tts_s = asyncio.run(_tts(tts_port, turn.reply))
                    else:
                        t0 = time.perf_counter()
                        next(iter(synthesizer.synthesize(turn.reply, voice="alloy", language=language)))
                        tts_s = time.perf_counter() - t0
                    values.append(HA_SILENCE_S + stt_s + tts_s)
                out[language] = values
    return out


async def _stt(port: int, pcm: np.ndarray, language: str) -> float:
    """Seconds from AudioStop to the Transcript (the audio streamed before, as HA does)."""
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient

    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        step = 1024
        for i in range(0, len(pcm), step):
            await client.write_event(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1,
                                                audio=pcm[i:i + step].tobytes()).event())
        t0 = time.perf_counter()
        await client.write_event(AudioStop().event())
        while True:
            event = await client.read_event()
            if event is None or Transcript.is_type(event.type):
                return time.perf_counter() - t0


async def _tts(port: int, text: str) -> float:
    from wyoming.audio import AudioChunk, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize

    t0 = time.perf_counter()
    first = None
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text).event())
        while True:  # read to the end: a connection closed mid-reply can stall wyoming-piper
            event = await client.read_event()
            if event is not None and AudioChunk.is_type(event.type) and first is None:
                first = time.perf_counter() - t0
            if event is None or AudioStop.is_type(event.type):
                return first if first is not None else time.perf_counter() - t0


# ----------------------------------------------------------------------- cold start, idle RSS
def cold_start(settle_s: float = 10.0, extra: str = "") -> tuple[float, float]:
    """(seconds to the "listening" state, idle RSS in MB settle_s later) of ``assistant run``
    (local engines, stdin input, every model warmed before READY; settle_s leaves time for the
    fixed replies prepared in the background)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = daemon.start_local(tmp, realtime=False, extra_config=extra)
        try:
            ready = float("nan")
            for event in daemon.events(proc):
                if event.get("type") == "state" and (event.get("data") or {}).get("state") == "listening":
                    ready = time.perf_counter() - t0
                    break
            proc.stdin.write(b"\0" * 32000)  # one second of silence: the source is reading
            proc.stdin.flush()
            time.sleep(settle_s)
            rss = status(proc.pid).get("VmRSS", float("nan"))
        finally:
            end_daemon(proc, 15)
    return ready, rss



# ----------------------------------------------------------------------- the first sentence streamed
def streaming(synthesizer, replies: list[tuple[str, str]], voice: str) -> tuple[list[float], list[float]]:
    """Seconds to the first chunk (sentence 1, played while the rest is made) and to the whole
    reply, per (language, text), with a synthesizer that has nothing prepared."""
    firsts, wholes = [], []
    for language, text in replies:
        t0 = time.perf_counter()
        chunks = iter(synthesizer.synthesize(text, voice=voice, language=language))
        next(chunks)
        firsts.append(time.perf_counter() - t0)
        for _chunk in chunks:
            pass
        wholes.append(time.perf_counter() - t0)
    return firsts, wholes
