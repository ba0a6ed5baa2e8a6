"""Where a live turn's time goes (bench/loop.py --breakdown): stamps around the loop's steps and
the Whisper stages, per turn, on the wall clock of the live run.

Per turn, from the end of speech (the utterance's end edge as it arrived at microphone pace):
- ``paused``: the speculative transcription started (SpeechPaused; empty when none ran or it was
  not the one kept);
- ``cut``: the hangover ended, the utterance was cut;
- ``stt_start`` / ``stt_done``: the transcription that gave the turn its text (speculative or not);
  inside it, each Whisper stage in order: ``mel`` (features), ``evidence`` (base, short window
  encode + language probabilities), ``encode`` / ``decode`` per model;
- ``handled``: the turn worker took it (queueing before that); ``routed``; ``first_audio``.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

_current: list = []  # the transcription call in progress (its stages may run in a second thread)


@dataclass
class Call:
    """One transcription call: its wall span and its stages (name, seconds)."""
    start: float
    end: float = 0.0
    stages: list[tuple[str, float]] = field(default_factory=list)
    speculative: bool = False


@dataclass
class Stamps:
    calls: list[Call] = field(default_factory=list)
    cuts: list[tuple[float, float, float]] = field(default_factory=list)  # (wall, start, end) of each cut
    pauses: list[tuple[float, float, float]] = field(default_factory=list)  # (wall, start, end) speculation started


def _model_name(model) -> str:
    return "base" if model.model.is_multilingual else "tiny.en"


@contextmanager
def instrumented():
    """Patch the loop and the Whisper steps to stamp a ``Stamps`` (yielded) for one live run."""
    from assistant import loop
    from assistant.stt import whisper

    stamps = Stamps()
    saved = {name: getattr(whisper, name) for name in ("features", "encode", "language_probs", "decode")}
    saved_loop = {name: getattr(loop.Assistant, name) for name in ("_transcribe", "_speculate", "_submit")}

    def stage(label):
        call = _current[-1] if _current else None

        @contextmanager
        def timing():
            t0 = time.perf_counter()
            try:
                yield
            finally:
                if call is not None:
                    call.stages.append((label, time.perf_counter() - t0))
        return timing()

    def features(model, samples):
        with stage("mel"):
            return saved["features"](model, samples)

    def encode(model, feats, frames=whisper.WINDOW_FRAMES):
        label = f"{_model_name(model)} encode" if frames >= whisper.WINDOW_FRAMES else f"{_model_name(model)} evidence"
        with stage(label):
            return saved["encode"](model, feats, frames)

    def language_probs(model, encoded):
        with stage("language probs"):
            return saved["language_probs"](model, encoded)

    def decode(model, feats, encoded, **kw):
        with stage(f"{_model_name(model)} decode"):
            return saved["decode"](model, feats, encoded, **kw)

    def transcribe(self, audio, session, *args, **kw):
        call = Call(time.monotonic())
        _current.append(call)
        try:
            return saved_loop["_transcribe"](self, audio, session, *args, **kw)
        finally:
            _current.remove(call)
            call.end = time.monotonic()
            stamps.calls.append(call)

    def speculate(self, utterance):
        before = self._speculating
        saved_loop["_speculate"](self, utterance)
        if self._speculating is not before:
            stamps.pauses.append((time.monotonic(), utterance.start, utterance.end))

    async def submit(self, utterance, session, **kw):
        stamps.cuts.append((time.monotonic(), utterance.start, utterance.end))
        return await saved_loop["_submit"](self, utterance, session, **kw)

    for name, fn in (("features", features), ("encode", encode), ("language_probs", language_probs), ("decode", decode)):
        setattr(whisper, name, fn)
    loop.Assistant._transcribe, loop.Assistant._speculate, loop.Assistant._submit = transcribe, speculate, submit
    try:
        yield stamps
    finally:
        for name, fn in saved.items():
            setattr(whisper, name, fn)
        for name, fn in saved_loop.items():
            setattr(loop.Assistant, name, fn)


def per_turn(run, stamps: Stamps, t0: float) -> list[dict]:
    """Seconds after the end of speech of each step, per answered turn of a ``_live.LiveRun``."""
    rows = []
    for turn in run.turns:
        if turn.latency is None:
            continue
        eos = t0 + turn.end
        cut = next((w for w, a, b in stamps.cuts if abs(b - turn.end) < 1e-6 and abs(a - turn.start) < 1e-6), None)
        paused = next((w for w, a, b in stamps.pauses if abs(b - turn.end) < 1e-6 and abs(a - turn.start) < 1e-6), None)
        # the call that produced its text: the last one that started before the text arrived and
        # on its audio (the speculative one, else the one after the cut)
        starts = [w for w in (paused, cut) if w is not None]
        call = next((c for c in stamps.calls if any(abs(c.start - w) < 0.05 for w in starts) and c.end >= c.start), None)
        if call is None:
            call = next((c for c in stamps.calls if cut is not None and c.start >= cut - 0.01), None)
        row = {"clip": turn.clip, "text": turn.text, "language": turn.language, "latency": turn.latency,
               "paused": None if paused is None else paused - eos, "cut": None if cut is None else cut - eos,
               "stt_start": None if call is None else call.start - eos,
               "stt_done": None if call is None else call.end - eos,
               "stages": [] if call is None else call.stages,
               "handled": None if turn.handled is None else turn.handled - eos,
               "routed": None if turn.routed is None else turn.routed - eos,
               "intent": turn.intent}
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> list[tuple[str, float, float]]:
    """(step, p50, p95) in seconds over the rows: the times after the end of speech and each
    stage's own duration."""
    from _common import p50_p95

    out = []
    for key in ("paused", "cut", "stt_start", "stt_done", "handled", "routed", "latency"):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            out.append((f"at {key}" if key != "latency" else "at first audio", *p50_p95(values)))
    names = dict.fromkeys(name for r in rows for name, _ in r["stages"])
    for name in names:
        values = [sum(s for n, s in r["stages"] if n == name) for r in rows if any(n == name for n, _ in r["stages"])]
        out.append((f"  {name} (own)", *p50_p95(values)))
    values = [r["stt_done"] - r["stt_start"] for r in rows if r["stt_done"] is not None]
    if values:
        out.append(("  transcription call (own)", *p50_p95(values)))
    values = [r["latency"] - r["routed"] for r in rows if r["routed"] is not None]
    if values:
        out.append(("  routed -> first audio (own)", *p50_p95(values)))
    return out
