"""Realistic degradations of the committed speech fixtures, written to a directory at test time.

Real microphones add what our synthetic fixtures lack: room reverberation, babble, door slams and
keyboard clicks, low SNR, quiet or clipped talkers, DC offset, telephone band, lossy codecs, a
drifting noise level, AGC pumping. Each case keeps the fixture's true (dry) speech edges.

    .venv/bin/python -m tests.vad.degrade [DIR]    # writes the cases and prints the measured table
"""
from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from assistant.audio.sources import FileSource
from tests.audio.speech import RATE, SPEECH, entry
from tests.fixtures.make_speech import noise

Edges = list[tuple[float, float]]
Signal = np.ndarray  # float64, int16 scale, 16 kHz mono


@dataclass(frozen=True)
class Case:
    name: str
    fixture: str
    make: Callable[[Signal, Edges, np.random.Generator], Signal]
    fmt: str = "WAV"  # container written: WAV, OGG, MP3, ULAW8K (8 kHz mu-law telephone)
    edges: Callable[[Edges], Edges] | None = None  # truth after the transform (default: unchanged)


# ------------------------------------------------------------------ helpers
def load(fixture: str) -> tuple[Signal, Edges]:
    pcm = np.frombuffer(b"".join(FileSource(SPEECH / fixture).iter_frames()), np.int16).astype(np.float64)
    return pcm, [(s["start"], s["end"]) for s in entry(fixture)["sentences"]]


def speech_mask(n: int, edges: Edges) -> np.ndarray:
    mask = np.zeros(n, bool)
    for a, b in edges:
        mask[int(a * RATE) : int(b * RATE)] = True
    return mask


def speech_rms(x: Signal, edges: Edges) -> float:
    return float(np.sqrt(np.mean(x[speech_mask(len(x), edges)] ** 2)))


def at_snr(x: Signal, edges: Edges, n: Signal, snr_db: float) -> Signal:
    """x plus noise ``n`` scaled to ``snr_db`` below the speech power."""
    n = n / np.sqrt(np.mean(n**2))
    return x + n * speech_rms(x, edges) / 10 ** (snr_db / 20)


def convolve(x: Signal, h: Signal) -> Signal:
    size = 1 << int(np.ceil(np.log2(len(x) + len(h))))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]


def band(x: Signal, lo: float, hi: float) -> Signal:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / RATE)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, len(x))


# ------------------------------------------------------------------ degradations
def reverb(rt60: float, drr_db: float = 0.0):
    """Exponential-decay noise RIR (-60 dB after ``rt60``) after a direct path; speech level kept."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        t = np.arange(int(rt60 * RATE)) / RATE
        tail = rng.standard_normal(len(t)) * 10 ** (-3 * t / rt60)
        tail[: int(0.003 * RATE)] = 0  # first reflections arrive a few ms after the direct sound
        tail *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(tail**2))
        tail[0] = 1.0
        y = convolve(x, tail)
        return y * speech_rms(x, edges) / speech_rms(y, edges)
    return make


def extra_noise(kind: str, snr_db: float):
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        return at_snr(x, edges, noise(kind, len(x), RATE, rng), snr_db)
    return make


def babble(snr_db: float, talkers: int = 4):
    """Other fixtures' speech, shifted and mixed (a cafe / TV in the next room)."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        pool = np.concatenate([load(f)[0] for f in ("en_five_noisy.wav", "ko_two_noisy.wav", "en_48k.wav")])
        mix = np.zeros(len(x))
        for _ in range(talkers):
            start = int(rng.integers(0, len(pool) - len(x)))
            mix += rng.uniform(0.6, 1.0) * pool[start : start + len(x)]
        return at_snr(x, edges, mix, snr_db)
    return make


def _burst(rng: np.random.Generator, seconds: float, decay_s: float, lowpass: bool) -> Signal:
    n = int(seconds * RATE)
    b = rng.standard_normal(n)
    if lowpass:
        b = np.convolve(b, np.ones(16) / 16, mode="same")  # a door thuds, a key clicks
    return b * np.exp(-np.arange(n) / (decay_s * RATE))


def transients(click_before_s: float = 0.25):
    """A door slam in the middle of every pause, keyboard clicks through the pauses, and one click
    ``click_before_s`` before the second sentence (its start must not be lost nor moved)."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        y = x.copy()
        peak = np.max(np.abs(x))
        for (_, end), (start, _) in zip(edges, edges[1:]):
            door = _burst(rng, 0.25, 0.05, lowpass=True)
            mid = int((end + start) / 2 * RATE) - len(door) // 2
            y[mid : mid + len(door)] += 1.2 * peak * door / np.max(np.abs(door))
            for t in np.arange(end + 0.12, start - 0.3, 0.13):  # typing
                c = _burst(rng, 0.008, 0.0015, lowpass=False)
                k = int((t + rng.uniform(-0.03, 0.03)) * RATE)
                y[k : k + len(c)] += 0.5 * peak * c / np.max(np.abs(c))
        c = _burst(rng, 0.008, 0.0015, lowpass=False)
        k = int((edges[1][0] - click_before_s) * RATE)
        y[k : k + len(c)] += 0.7 * peak * c / np.max(np.abs(c))
        return y
    return make


def level(dbfs: float, clip: bool = False):
    """Speech RMS set to ``dbfs``; with ``clip`` the result is hard-clipped to int16."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        y = x * 32768 * 10 ** (dbfs / 20) / speech_rms(x, edges)
        return np.clip(y, -32768, 32767) if clip else y
    return make


def dc(offset: float):
    return lambda x, edges, rng: x + offset


def telephone(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
    return band(x, 300, 3400)  # then written as 8 kHz mu-law (fmt ULAW8K)


def drift(kind: str, snr_db: float, swing_db: float):
    """Noise whose level wanders slowly (a fan speeding up, traffic): +-swing/2 around snr_db."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        n = noise(kind, len(x), RATE, rng)
        t = np.arange(len(x)) / RATE
        n *= 10 ** (swing_db / 2 * np.sin(2 * np.pi * t / 7.0 + 1.0) / 20)
        return at_snr(x, edges, n, snr_db)
    return make


def ramp(kind: str, snr_from: float, snr_to: float):
    """Noise rising steadily over the file (the noise floor must follow)."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        n = noise(kind, len(x), RATE, rng)
        n *= np.linspace(10 ** (-snr_from / 20), 10 ** (-snr_to / 20), len(x))
        return x + n * speech_rms(x, edges)
    return make


def agc(max_gain_db: float = 18.0, release_s: float = 1.0):
    """Automatic gain control: gain drops fast on speech and climbs back slowly in the pauses,
    so the noise in every pause swells (pumping)."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        win = int(0.01 * RATE)
        env = np.sqrt(np.convolve(x**2, np.ones(win) / win, mode="same")) + 1.0
        target = 0.25 * 32768
        up = 10 ** (max_gain_db / 20 / (release_s * RATE / win))  # per 10 ms block
        g, gains = 10 ** (max_gain_db / 20), []
        for e in env[::win]:
            want = min(10 ** (max_gain_db / 20), target / e)
            g = want if want < g else min(want, g * up)  # fast attack, slow release
            gains.append(g)
        gain = np.repeat(gains, win)[: len(x)]
        y = x * 0.1 * gain
        return np.clip(y, -32768, 32767)
    return make


def late_start(lead_s: float):
    """The recording starts mid-noise, ``lead_s`` before the first word (no quiet settling time)."""
    def make(x: Signal, edges: Edges, rng: np.random.Generator) -> Signal:
        return x[int((edges[0][0] - lead_s) * RATE) :]
    return make


def _shift(lead_s: float):
    return lambda edges: [(round(a - (edges[0][0] - lead_s), 3), round(b - (edges[0][0] - lead_s), 3)) for a, b in edges]


# ------------------------------------------------------------------ the cases
_FILES = ("en_five_noisy.wav", "ko_two_noisy.wav")


def cases() -> list[Case]:
    out: list[Case] = []
    for f in _FILES:
        tag = {"en_five_noisy.wav": "en5", "ko_two_noisy.wav": "ko2"}[f]
        out += [Case(f"{tag}-reverb{int(rt * 100)}", f, reverb(rt)) for rt in (0.3, 0.45, 0.6)]
        out += [Case(f"{tag}-{k}{snr}", f, extra_noise(k, snr)) for k in ("pink", "brown", "hiss") for snr in (20, 15, 10)]
        out += [Case(f"{tag}-babble{snr}", f, babble(snr)) for snr in (20, 15, 10)]
        out += [
            Case(f"{tag}-transients", f, transients()),
            Case(f"{tag}-quiet35", f, level(-35)),
            Case(f"{tag}-loud-clipped", f, level(-6, clip=True)),
            Case(f"{tag}-dc", f, dc(3000)),
            Case(f"{tag}-quiet-dc300", f, lambda x, e, r: dc(300)(level(-35)(x, e, r), e, r)),
            Case(f"{tag}-quiet-dc1000", f, lambda x, e, r: dc(1000)(level(-35)(x, e, r), e, r)),
            Case(f"{tag}-telephone", f, telephone, fmt="ULAW8K"),
            Case(f"{tag}-ogg", f, level(-20), fmt="OGG"),
            Case(f"{tag}-mp3", f, level(-20), fmt="MP3"),
            Case(f"{tag}-drift", f, drift("pink", 15, 12)),
            Case(f"{tag}-ramp", f, ramp("brown", 25, 12)),
            Case(f"{tag}-agc", f, agc()),
            Case(f"{tag}-late-start", f, late_start(0.15), edges=_shift(0.15)),
        ]
    out.append(Case("short-pauses-reverb45", "en_short_pauses.wav", reverb(0.45)))
    out.append(Case("short-pauses-pink15", "en_short_pauses.wav", extra_noise("pink", 15)))
    return out


def write(case: Case, directory: Path, seed: int = 7) -> tuple[Path, Edges]:
    """Write one case (deterministic) and return its path and true edges."""
    x, edges = load(case.fixture)
    y = case.make(x, edges, np.random.default_rng(seed)) / 32768
    y = np.clip(y, -1.0, 32767 / 32768)
    truth = case.edges(edges) if case.edges else edges
    if case.fmt == "ULAW8K":
        import soxr

        path = directory / f"{case.name}.wav"
        sf.write(path, soxr.resample(y, RATE, 8000, quality="HQ"), 8000, subtype="ULAW")
    elif case.fmt == "OGG":
        path = directory / f"{case.name}.ogg"
        sf.write(path, y, RATE, format="OGG", subtype="VORBIS", compression_level=0.9)
    elif case.fmt == "MP3":
        path = directory / f"{case.name}.mp3"
        sf.write(path, y, RATE, format="MP3", subtype="MPEG_LAYER_III", compression_level=0.9)
    else:
        path = directory / f"{case.name}.wav"
        sf.write(path, y, RATE, subtype="PCM_16")
    return path, truth


def measure(path: Path, truth: Edges, cfg=None) -> tuple[Edges, str]:
    """Segment a written case; return the found edges and '' when it holds, else why not."""
    from assistant.config import VadConfig
    from assistant.events import Utterance
    from assistant.vad.segmenter import Segmenter

    seg = Segmenter(cfg or VadConfig())
    found: Edges = []
    for frame in FileSource(path).iter_frames():
        found += [(u.start, u.end) for u in seg.process(frame) if isinstance(u, Utterance)]
    found += [(u.start, u.end) for u in seg.flush() if isinstance(u, Utterance)]
    if len(found) != len(truth):
        return found, f"count {len(found)} != {len(truth)}"
    bad = [f"#{i + 1} {'start' if abs(a - ta) > 0.09 else 'end'} {(a - ta if abs(a - ta) > 0.09 else b - tb):+.2f}s"
           for i, ((a, b), (ta, tb)) in enumerate(zip(found, truth)) if abs(a - ta) > 0.09 or abs(b - tb) > 0.09]
    return found, ", ".join(bad)


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="vad-cases-"))
    directory.mkdir(parents=True, exist_ok=True)
    held = 0
    for case in cases():
        path, truth = write(case, directory)
        found, why = measure(path, truth)
        held += not why
        print(f"{case.name:24s} {'ok' if not why else why:40s} {[(round(a, 2), round(b, 2)) for a, b in found]}")
    print(f"{held}/{len(cases())} hold  ({directory})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
