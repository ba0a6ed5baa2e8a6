"""Wyoming: satellites speaking at once, the server's overhead, and our asr/tts beside the PyPI peers.

1. Rooms: 1, 2 and 4 emulated satellites (Wyoming servers that behave like wyoming-satellite's
   always-streaming mode: RunPipeline from wake, microphone audio paced in real time) speak real
   recordings from ../shared/corpus at once to `SatelliteLink`s of one assistant (local engines).
   Per count: end of speech (the clip's last sample sent) -> first reply AudioChunk back at the
   satellite, p50/p95. The segmenter's hangover (vad.hangover_ms) is inside these figures.
2. Overhead: the server with zero-latency engines, asr (Transcribe + audio of a recording ->
   Transcript) and tts (Synthesize -> first AudioChunk) over TCP on 127.0.0.1, against the same
   calls in-process; p50/p95 of the difference (goal: p95 <= 20 ms).
3. Peers: this server's asr/tts (local engines) next to wyoming-faster-whisper / wyoming-piper
   (same local models) on the same recordings and sentences: latency p50/p95, words right.

Usage: python bench/wyoming.py [--turns N] [--counts 1,2,4] [--skip-peers]
Absolute times depend on the machine's load; compare the columns of one run.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import ROOT, p50_p95, row  # noqa: F401  (sets sys.path)

# This file is named like the `wyoming` package: take bench/ off the path before importing it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Attribution, Info, Satellite
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.tts import Synthesize

from assistant.audio.playback import NullSpeaker
from assistant.config import load_config, with_overrides
from assistant.engines import Engines, build_engines
from assistant.faces.wyoming.audio import audio_chunks
from assistant.faces.wyoming.satellite import SatelliteLink
from assistant.faces.wyoming.server import WyomingServer
from assistant.stt.base import Transcript as OurTranscript
from tests import corpus

CLIPS = ("rhasspy_what_time_is_it", "rhasspy_turn_on_living_room_lamp", "cheetah_platforms", "cmu_arctic_us_axb_a0005")
SENTENCES = ("Here is your picture of a red fox.", "The weather is fine today.", "Speaking slower now.")
CHUNK_S = 1024 / 16000
W5 = (38, 6, 10, 10, 8)


def clips() -> list:
    by_name = {c.name: c for c in corpus.clips()}
    return [by_name[n] for n in CLIPS if n in by_name]


# ---------------------------------------------------------------------------- 1. rooms
class EmulatedSatellite(AsyncEventHandler):
    """wyoming-satellite's always-streaming mode, with a stopwatch."""

    def __init__(self, room: str, recordings: list[np.ndarray], turns: int, results: list, done: asyncio.Event, *args):
        super().__init__(*args)
        self.room, self.recordings, self.turns = room, recordings, turns
        self.results, self.done = results, done
        self.first_audio = asyncio.Event()
        self.finished = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def handle_event(self, event: Event) -> bool:
        if event.type == "describe":
            sat = Satellite(name=self.room, area=self.room, description=self.room,
                            attribution=Attribution(name="", url=""), installed=True, version="1")
            await self.write_event(Info(satellite=sat).event())
        elif RunSatellite.is_type(event.type) and self.task is None:
            await self.write_event(RunPipeline(start_stage=PipelineStage.WAKE, end_stage=PipelineStage.TTS).event())
            self.task = asyncio.create_task(self.speak())
        elif AudioChunk.is_type(event.type):
            self.first_audio.set()
        elif AudioStop.is_type(event.type):
            self.finished.set()
        return True

    async def stream(self, pcm: np.ndarray) -> float:
        start = time.monotonic()
        sent = 0
        for chunk in audio_chunks(pcm, 16000):
            await self.write_event(chunk.event())
            sent += 1
            delay = start + sent * CHUNK_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        return time.monotonic()

    async def speak(self) -> None:
        silence = np.zeros(1024, np.int16)
        await self.stream(np.zeros(8000, np.int16))
        for i in range(self.turns):
            pcm = self.recordings[i % len(self.recordings)]
            self.first_audio.clear()
            self.finished.clear()
            end_of_speech = await self.stream(pcm)
            while not self.first_audio.is_set():  # the room's microphone goes on (silence)
                await self.stream(silence)
                if time.monotonic() - end_of_speech > 60:
                    break
            self.results.append(time.monotonic() - end_of_speech)
            while not self.finished.is_set():
                await self.stream(silence)
            await self.stream(np.zeros(8000, np.int16))
        self.done.set()


async def rooms(cfg, engines: Engines, count: int, turns: int, recordings: list[np.ndarray]) -> list[float]:
    from assistant.loop import Assistant

    assistant = Assistant(cfg, engines)
    serving = asyncio.create_task(assistant.serve())
    results: list[float] = []
    servers, links, dones = [], [], []
    for i in range(count):
        done = asyncio.Event()
        server = AsyncTcpServer("127.0.0.1", 0)
        room = f"room{i + 1}"
        shifted = recordings[i % len(recordings):] + recordings[:i % len(recordings)]
        await server.start(lambda r, w, room=room, rec=shifted, done=done: EmulatedSatellite(room, rec, turns, results, done, r, w))
        port = server._server.sockets[0].getsockname()[1]
        link = SatelliteLink(cfg, "127.0.0.1", port)
        await link.start(assistant)
        servers.append(server)
        links.append(link)
        dones.append(done)
    try:
        await asyncio.wait_for(asyncio.gather(*(d.wait() for d in dones)), 600)
    finally:
        for link in links:
            await link.stop()
        for server in servers:
            await server.stop()
        assistant.stop()
        await asyncio.wait_for(serving, 10)
    return results


# ---------------------------------------------------------------------------- 2. overhead
class InstantTranscriber:
    def transcribe(self, audio, **kwargs):
        return OurTranscript(text="what time is it", language="en")


class InstantSynthesizer:
    sample_rate = 22050

    def validate(self, *args):
        pass

    def synthesize(self, text, **kwargs):
        for _ in range(4):
            yield np.zeros(2205, np.int16)


async def overhead(cfg, pcm: np.ndarray, n: int) -> dict[str, list[float]]:
    engines = Engines(InstantTranscriber(), InstantSynthesizer(), NullSpeaker(), lambda: None)
    server = WyomingServer(cfg, engines, "127.0.0.1", 0)
    await server.start(None)
    out: dict[str, list[float]] = {"asr": [], "tts": []}
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            await asyncio.to_thread(engines.transcriber.transcribe, pcm)
            direct = time.perf_counter() - t0
            t0 = time.perf_counter()
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                await client.write_event(Transcribe(language="en").event())
                await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
                for chunk in audio_chunks(pcm, 16000):
                    await client.write_event(chunk.event())
                await client.write_event(AudioStop().event())
                while not Transcript.is_type((await client.read_event()).type):
                    pass
            out["asr"].append(time.perf_counter() - t0 - direct)

            t0 = time.perf_counter()
            await asyncio.to_thread(lambda: next(iter(engines.synthesizer.synthesize("x"))))
            direct = time.perf_counter() - t0
            t0 = time.perf_counter()
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                await client.write_event(Synthesize(text="What time is it?").event())
                while not AudioChunk.is_type((await client.read_event()).type):
                    pass
                out["tts"].append(time.perf_counter() - t0 - direct)
    finally:
        await server.stop()
    return out


# ---------------------------------------------------------------------------- 3. peers
def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_hits(ref: str, hyp: str) -> float:
    r, h = words(ref), set(words(hyp))
    return sum(w in h for w in r) / max(1, len(r))


async def asr_once(uri_port: int, pcm: np.ndarray) -> tuple[float, str]:
    t0 = time.perf_counter()
    async with AsyncTcpClient("127.0.0.1", uri_port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for chunk in audio_chunks(pcm, 16000):
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        while True:
            event = await client.read_event()
            if Transcript.is_type(event.type):
                return time.perf_counter() - t0, Transcript.from_event(event).text


async def tts_once(port: int, text: str) -> tuple[float, float]:
    """(seconds to the first audio chunk, seconds to the end)."""
    t0 = time.perf_counter()
    first = None
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text).event())
        while True:
            event = await client.read_event()
            if AudioChunk.is_type(event.type) and first is None:
                first = time.perf_counter() - t0
            if AudioStop.is_type(event.type):
                return first or float("nan"), time.perf_counter() - t0


async def peers(cfg, engines: Engines, recs: list, rounds: int) -> list[tuple[str, str, list[float], float]]:
    from tests.faces.wyoming_peers import faster_whisper_args, free_port, have, piper_args, running

    if not (have("wyoming_piper") and have("wyoming_faster_whisper")):
        print("peers skipped: pip install wyoming-piper wyoming-faster-whisper")
        return []
    ours = WyomingServer(cfg, engines, "127.0.0.1", 0)
    await ours.start(None)
    rows_out = []
    tts_port, stt_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp, running(piper_args(tts_port), tts_port, "wyoming-piper"), \
            running(faster_whisper_args(stt_port, Path(tmp)), stt_port, "wyoming-faster-whisper"):
        for name, port in (("assistant serve (asr)", ours.port), ("wyoming-faster-whisper", stt_port)):
            await asr_once(port, recs[0].pcm())  # warm-up (model load)
            times, hits = [], []
            for _ in range(rounds):
                for clip in recs:
                    dt, text = await asr_once(port, clip.pcm())
                    times.append(dt)
                    hits.append(word_hits(clip.text or "", text))
            rows_out.append(("asr", name, times, float(np.mean(hits))))
        for name, port in (("assistant serve (tts)", ours.port), ("wyoming-piper", tts_port)):
            await tts_once(port, "Ready.")
            firsts = []
            for _ in range(rounds):
                for sentence in SENTENCES:
                    firsts.append((await tts_once(port, sentence))[0])
            rows_out.append(("tts", name, firsts, float("nan")))
    await ours.stop()
    return rows_out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=3, help="commands per satellite and count")
    ap.add_argument("--counts", default="1,2,4")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over the clips for overhead/peers")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    if not corpus.available():
        print("no corpus at ../shared/corpus: nothing to measure")
        return 0
    recs = clips()
    cfg = with_overrides(load_config(), stt={"backend": "local"}, tts={"backend": "local", "deterministic": True},
                         images={"backend": "openai"})
    engines = build_engines(cfg, speaker=NullSpeaker())
    from assistant.engines import warm_up

    warm_up(engines, cfg.tts.voice)
    print(f"recordings: {', '.join(c.name for c in recs)} (real speech, ../shared/corpus)")

    print("\n1. satellites speaking at once (emulated always-streaming satellites, local engines)")
    print(row("satellites", "turns", "p50 s", "p95 s"))
    for count in [int(c) for c in args.counts.split(",")]:
        values = asyncio.run(rooms(cfg, engines, count, args.turns, [c.pcm() for c in recs]))
        p50, p95 = p50_p95(values)
        print(row(f"{count} (end of speech -> first audio)", len(values), p50, p95))

    print("\n2. server overhead against in-process calls (zero-latency engines, 127.0.0.1)")
    print(row("request", "n", "p50 ms", "p95 ms"))
    over = asyncio.run(overhead(cfg, recs[0].pcm(), 20 * args.rounds))
    for what, values in over.items():
        p50, p95 = p50_p95(values)
        print(row(f"{what} (Wyoming - in-process)", len(values), p50 * 1000, p95 * 1000))
    worst = max(p50_p95(v)[1] for v in over.values()) * 1000
    print(f"goal p95 <= 20 ms: {'met' if worst <= 20 else 'MISSED'} ({worst:.1f} ms)")

    if not args.skip_peers:
        print("\n3. this server next to the PyPI peers (same local models, same audio/sentences)")
        print("(our asr: stt.local_model auto = tiny.en for English, base otherwise; the peer: base, int8)")
        print(row("engine", "n", "p50 s", "p95 s", "words", widths=W5))
        for kind, name, values, hits in asyncio.run(peers(cfg, engines, recs, args.rounds)):
            p50, p95 = p50_p95(values)
            label = f"{name} ({'Transcript' if kind == 'asr' else 'first audio'})"
            print(row(label, len(values), p50, p95, "-" if np.isnan(hits) else f"{hits:.0%}", widths=W5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
