"""Streams built from the real corpus (``../shared/corpus``): sentences joined by pauses of every
kind a real input gives, with the true speech edges of each sentence.

Truth edges. Each clip's speech edges are found once, on the clean clip, by an energy threshold
(``speech_edges``): 10 ms frames louder than both the clip's own room tone + 12 dB and its loudest
frame - 45 dB; the first and last such frame, ignoring isolated runs shorter than 40 ms. A clip is
used only when that gives one span that the segmenter also finds alone as one utterance, within
100 ms (``pool``), so a clip with long inner pauses (several turns) never enters a sequence. The
clips so picked are kept as a fixed list (``POOL``), so every change is measured on the same draws.

Pause kinds (``PAUSES``): digital silence, +-1..4 LSB dither, the recording's own room tone,
white / pink / brown noise and mains hum 10-30 dB below the speech, a fan switching on (noise +20
dB from one pause on, under the speech too), a +-12 dB gain change mid-stream; every sequence may
start with 0-2 s of zeros and has pauses of 0.4-3 s (gap between true edges). The room tone, the
gain change and the added noises (``ADDED``) happen in one recording setup: its own room tone
fills the pauses (under the added noise), as it does the clips' heads and tails (before, the
additive kinds' pauses were silence plus the noise, and each clip's own room began as a step 0.1 s
before its word).

Backgrounds (``BACKGROUNDS``, the kinds the segmenter was not tuned on at first): the recording's
own room tone in the pauses and, under everything (the leading zeros too), a sound ``snr_db``
below the speech: the corpus's real noises (doing the dishes, an exercise bike, Koala's noise
sample), violet noise (differentiated white: all hiss), a music-like chord (four partials, each
swelling at 0.5 Hz), babble (four other talkers of the corpus at once) and clicks (six 5 ms bursts
a second).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from tests import corpus
from tests.fixtures.make_speech import noise as synth_noise

RATE = 16000
Edges = list[tuple[float, float]]
PAUSES = ("zeros", "dither", "room", "white", "pink", "brown", "hum", "fan", "gain")
BACKGROUNDS = ("dishes", "bike", "koala", "violet", "music", "babble", "clicks")
ONE_ROOM = ("room", "gain")  # kinds drawn from one recording setup, its own room tone in the pauses
ADDED = ("white", "pink", "brown", "hum", "fan")  # noise added over one room (see one_room)
_NOISE_FILES = {"dishes": "speech_commands_doing_the_dishes_20s", "bike": "speech_commands_exercise_bike_20s",
                "koala": "koala_noise"}
_HOP = 160  # 10 ms
_LEVEL = 32768 * 10 ** (-26 / 20)  # speech rms of every sentence


def _levels(x: np.ndarray) -> np.ndarray:
    n = len(x) // _HOP
    f = x[: n * _HOP].astype(np.float64).reshape(n, _HOP)
    return 10.0 * np.log10((f**2).mean(axis=1) + 1e-3)


def speech_edges(pcm: np.ndarray) -> tuple[float, float] | None:
    """(start, end) seconds of the speech in a clean clip by an energy threshold (see above)."""
    db = _levels(pcm)
    if len(db) < 10:
        return None
    room = np.percentile(db, 10)
    loud = db > max(room + 12.0, db.max() - 45.0)
    runs, k = [], 0
    while k < len(loud):  # drop runs shorter than 40 ms (clicks, breaths)
        if loud[k]:
            j = k
            while j < len(loud) and loud[j]:
                j += 1
            if j - k >= 4:
                runs.append((k, j))
            k = j
        else:
            k += 1
    if not runs:
        return None
    return runs[0][0] * _HOP / RATE, runs[-1][1] * _HOP / RATE


def longest_gap(pcm: np.ndarray, a: float, b: float) -> float:
    """The longest stretch (s) inside the speech edges within 6 dB of the room (a real pause)."""
    db = _levels(pcm)
    loud = db > np.percentile(db, 10) + 6.0
    inner = loud[int(a * RATE) // _HOP : int(b * RATE) // _HOP]
    gap = best = 0
    for v in inner:
        gap = 0 if v else gap + 1
        best = max(best, gap)
    return best * _HOP / RATE


@dataclass(frozen=True)
class Sentence:
    name: str
    language: str
    pcm: np.ndarray = field(repr=False)  # float64, int16 scale, trimmed to [start - head, end + tail]
    start: float  # speech edges inside ``pcm``
    end: float
    room: np.ndarray = field(repr=False)  # the clip's own room tone (outside the speech), float64

    @property
    def rms(self) -> float:
        a, b = int(self.start * RATE), int(self.end * RATE)
        return float(np.sqrt(np.mean(self.pcm[a:b] ** 2)))


def group(name: str) -> str:
    """Clips recorded in one setup (speaker, room, microphone): a "room" sequence stays in one."""
    if name.startswith("cmu_arctic_us_"):
        return name[: len("cmu_arctic_us_aew")]
    if name.startswith("speech_commands_"):
        return "speech_commands_" + name.split("_")[3]
    if name.startswith(("picovoice_leopard_sentence", "rhino_smart", "rhino_out", "picovoice_wake_koppulso")):
        return "ko_picovoice"
    return name


def segment_pcm(pcm: np.ndarray) -> Edges:
    """The utterances the live segmenter (default ``[vad]``) finds in ``pcm``: (start, end) in seconds."""
    from assistant.config import VadConfig
    from assistant.events import Utterance
    from assistant.vad.segmenter import Segmenter

    seg = Segmenter(VadConfig())
    b = np.clip(pcm, -32768, 32767).astype("<i2")
    b = b[: len(b) // 480 * 480].tobytes()
    out = []
    for i in range(0, len(b), 960):
        out += [(u.start, u.end) for u in seg.process(b[i : i + 960]) if isinstance(u, Utterance)]
    return out + [(u.start, u.end) for u in seg.flush() if isinstance(u, Utterance)]


# The clips ``select`` picked with the segmenter of 2026-12-01 (main cfcc361), kept fixed so that a
# change to the segmenter is measured on the same sequences (re-selecting with the changed segmenter
# would change the draws: ``pool(names=None)`` does that, by hand).
POOL = (
    "cmu_arctic_us_aew_a0001", "cmu_arctic_us_aew_a0002", "cmu_arctic_us_axb_a0004", "cmu_arctic_a0010",
    "cmu_pysptk_arctic_a0007", "rhasspy_what_time_is_it", "speech_commands_no_37e8db82_nohash_1",
    "speech_commands_go_2f813234_nohash_1", "speech_commands_go_37e8db82_nohash_1",
    "speech_commands_down_439c84f4_nohash_1", "speech_commands_down_48bfde8e_nohash_3",
    "speech_commands_right_1eddce1d_nohash_3", "speech_commands_on_2f813234_nohash_1",
    "speech_commands_on_439c84f4_nohash_1", "speech_commands_off_37e8db82_nohash_1", "picovoice_leopard_sentence",
    "rhino_smart_lighting_blue", "rhino_out_of_context", "picovoice_wake_koppulso_lights_blue",
)


@lru_cache(maxsize=2)
def pool(names: tuple[str, ...] | None = POOL) -> tuple[Sentence, ...]:
    """Corpus sentences and commands (English and Korean) usable as one-utterance pieces: those in
    ``names`` (in corpus order), or with ``names=None`` every clip the selection rule above picks."""
    out = []
    for clip in corpus.clips():
        if clip.kind not in ("sentence", "command") or clip.language not in ("en", "ko"):
            continue
        if names is not None and clip.name not in names:
            continue
        pcm = clip.pcm().astype(np.float64)
        edges = speech_edges(clip.pcm())
        if edges is None or edges[1] - edges[0] < 0.25 or edges[1] - edges[0] > 12.0:
            continue
        a, b = edges
        if longest_gap(clip.pcm(), a, b) > 0.2:  # a pause inside: two utterances may be right
            continue
        # the clip alone: one utterance whose edges match the energy truth
        if names is None:
            found = segment_pcm(pcm)
            if len(found) != 1 or abs(found[0][0] - a) > 0.1 or abs(found[0][1] - b) > 0.1:
                continue
        head, tail = min(a, 0.1), min(len(pcm) / RATE - b, 0.1)
        lo, hi = int((a - head) * RATE), int((b + tail) * RATE)
        room = _room(pcm, a, b)
        # one talker level (speech at -26 dBFS rms), as at one microphone; the gain case changes it
        scale = _LEVEL / np.sqrt(np.mean(pcm[int(a * RATE) : int(b * RATE)] ** 2))
        out.append(Sentence(clip.name, clip.language, pcm[lo:hi] * scale, head, head + b - a, room * scale))
    return tuple(out)


def _room(pcm: np.ndarray, a: float, b: float) -> np.ndarray:
    """The clip's room tone: its longest stretch outside the speech (+-50 ms) without a 10 ms
    chunk louder than its quietest tenth + 6 dB (breaths and lip clicks left out)."""
    db = _levels(pcm)
    t = np.arange(len(db)) * _HOP / RATE
    quiet = ((t < a - 0.05) | (t > b + 0.05)) & (db <= np.percentile(db, 10) + 6.0)
    best, k = (0, 0), 0
    while k < len(quiet):
        if quiet[k]:
            j = k
            while j < len(quiet) and quiet[j]:
                j += 1
            best = max(best, (j - k, k))
            k = j
        else:
            k += 1
    n, k = best
    return pcm[k * _HOP : (k + n) * _HOP]


def _tile(seg: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of room tone from ``seg``, mirrored back and forth (no clicks at the joins)."""
    if len(seg) < 160:
        return rng.standard_normal(n) * 2.0
    both = np.concatenate([seg, seg[::-1]])
    reps = n // len(both) + 2
    start = int(rng.integers(0, len(both)))
    return np.tile(both, reps)[start : start + n]


@dataclass
class Stream:
    audio: np.ndarray  # int16
    truth: Edges
    names: list[str]
    kind: str
    audible: Edges | None = None  # under added noise: the edges of the speech 6 dB above it
    params: dict = field(default_factory=dict)  # build()'s arguments (to reproduce a failure)

    def frames(self) -> list[bytes]:
        b = self.audio[: len(self.audio) // 480 * 480 + 480]
        b = np.concatenate([b, np.zeros(-len(b) % 480, np.int16)]).astype("<i2").tobytes()
        return [b[i : i + 960] for i in range(0, len(b), 960)]


def one_room(sentences: list[Sentence], picks: list[int]) -> list[Sentence]:
    """The sentences of a kind in ``ADDED``: the first one's, then from its recording setup
    (``group``) the ones at the same draws (``picks``: the indexes that chose ``sentences``), so
    that the noise is added over one room (its tone in the pauses, as in the clips' own heads and
    tails: from a pause of silence into a clip's head, its room was a step 0.1 s before each word)
    and a sequence takes as many random draws as before."""
    same = [s for s in pool() if group(s.name) == group(sentences[0].name)]
    return sentences[:1] + [same[k % len(same)] for k in picks[1:]]


def build(sentences: list[Sentence], pauses: list[float], kind: str, *, lead_zeros: float = 0.0,
          snr_db: float = 20.0, lsb: int = 1, gain_db: float = 12.0, fan_from: int = 1,
          tail: float = 1.0, seed: int = 0) -> Stream:
    """Join ``sentences`` with ``pauses`` (seconds between true edges) of ``kind`` (see PAUSES).

    ``snr_db``: noise level below the speech (white/pink/brown/hum; the fan's level after it
    switches on: it is 20 dB quieter before); ``lsb``: dither amplitude; ``gain_db``: the gain
    change; ``fan_from``: the pause in which the fan switches on (0.3 s in; that pause lasts at
    least 1.2 s), or, for "gain", the sentence in which or in the pause before which the gain
    changes (the pause after it lasts at least 1 s): the floor re-learns the room within ~0.6 s.
    """
    rng = np.random.default_rng(seed)
    pauses = list(pauses)
    if kind == "fan" and len(pauses) >= fan_from:  # the floor needs ~0.6 s to take the fan as the room
        pauses[fan_from - 1] = max(pauses[fan_from - 1], 1.2)
    if kind == "gain" and len(pauses) >= fan_from:  # ... or the new gain: the pause after the change
        pauses[fan_from - 1] = max(pauses[fan_from - 1], 1.0)
    speech_rms = float(np.sqrt(np.mean([s.rms**2 for s in sentences])))
    parts: list[np.ndarray] = []
    speech_mask: list[np.ndarray] = []
    truth: Edges = []
    pos = 0

    def add(x: np.ndarray, is_speech: bool) -> None:
        nonlocal pos
        parts.append(x)
        speech_mask.append(np.full(len(x), is_speech))
        pos += len(x)

    gated = kind in ("zeros", "dither")  # a noise gate / suppressor: the room around the speech goes too

    def pause(n: int, s: Sentence) -> np.ndarray:
        if kind == "zeros":
            return np.zeros(n)
        if kind == "dither":
            return rng.integers(-lsb, lsb + 1, n).astype(np.float64)
        return _tile(s.room, n, rng)  # the room tone of the sentence after the pause (see above)

    lead = int(lead_zeros * RATE)
    add(np.zeros(lead), False)
    for i, s in enumerate(sentences):
        gap = pauses[i - 1] if i else 0.3
        prev_tail = (len(sentences[i - 1].pcm) / RATE - sentences[i - 1].end) if i else 0.0
        fill = max(0, int(round((gap - prev_tail - s.start) * RATE)))
        if kind in ("zeros", "dither") and i == 0:
            fill = 0  # the stream begins with the leading zeros (and the clip's own lead)
        add(pause(fill, s), False)
        truth.append(((pos / RATE) + s.start, (pos / RATE) + s.end))
        x = s.pcm.copy()
        if gated:  # the gate opens at the speech (10 ms fade) and closes after it
            a, b = int(s.start * RATE), int(s.end * RATE)
            fade = np.minimum(1.0, np.minimum(np.arange(len(x)) - a + 160, b + 160 - np.arange(len(x))) / 160)
            x = x * np.clip(fade, 0.0, 1.0) + pause(len(x), s) * (fade <= 0.0)
        add(x, True)
        if i == max(0, fan_from - 1):  # the gain changes in this sentence or the pause before it
            gain_at = (pos / RATE - len(x) / RATE - (fill / RATE if i else 0.0), pos / RATE - len(x) / RATE + s.end)
    add(pause(int(tail * RATE), sentences[-1]), False)
    x = np.concatenate(parts)
    if kind in ("white", "pink", "brown", "hum"):
        name = {"hum": "hum50" if rng.random() < 0.5 else "hum60"}.get(kind, kind)
        n = synth_noise(name, len(x) - lead, RATE, rng) if kind != "white" else rng.standard_normal(len(x) - lead)
        x[lead:] += n / np.sqrt(np.mean(n**2)) * speech_rms / 10 ** (snr_db / 20)
    elif kind == "fan":
        # a fan from 0.3 s into pause ``fan_from`` on, its noise 20 dB over the room before it
        on = int((truth[fan_from - 1][1] + 0.3) * RATE) if len(truth) > fan_from else len(x) // 2
        level = speech_rms / 10 ** (snr_db / 20)
        base = rng.standard_normal(len(x) - lead)
        x[lead:] += base * level / 10.0  # the room before: 20 dB under the fan
        fan = synth_noise("pink", len(x) - on, RATE, rng) + 0.5 * synth_noise("hum50", len(x) - on, RATE, rng)
        ramp = np.minimum(1.0, np.arange(len(fan)) / (0.1 * RATE))  # spins up in 0.1 s
        x[on:] += fan / np.sqrt(np.mean(fan**2)) * level * ramp
    elif kind == "gain":  # (its pauses, as the room kind's: one room laid under all of them stepped up or
        # down 0.1 s before each word, where the clip's own room, at that clip's level, begins)
        at = int(rng.uniform(gain_at[0], gain_at[1]) * RATE)
        x[at:] *= 10 ** (gain_db / 20)
    elif kind in BACKGROUNDS:  # under everything, the leading zeros too
        n = background(kind, len(x), rng, exclude=[s.name for s in sentences])
        x += n / np.sqrt(np.mean(n**2)) * speech_rms / 10 ** (snr_db / 20)
    audible = None
    if kind in ADDED + BACKGROUNDS:
        clean = np.concatenate(parts)
        sp, nz = _levels(clean), _levels(x - clean)
        audible = []
        for a, b in truth:
            k = np.arange(int(a * RATE) // _HOP, int(b * RATE) // _HOP)
            k = k[sp[k] > nz[k] + 6.0]
            audible.append((k[0] * _HOP / RATE, (k[-1] + 1) * _HOP / RATE) if len(k) else (a, b))
    audio = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    params = dict(pauses=[round(p, 3) for p in pauses], kind=kind, lead_zeros=lead_zeros, snr_db=snr_db, lsb=lsb,
                  gain_db=gain_db, fan_from=fan_from, seed=seed)
    return Stream(audio, [(round(a, 3), round(b, 3)) for a, b in truth], [s.name for s in sentences], kind, audible,
                  params)


def background(kind: str, n: int, rng: np.random.Generator, exclude: list[str] = ()) -> np.ndarray:
    """``n`` samples of a background sound (see ``BACKGROUNDS``), unscaled."""
    if kind in _NOISE_FILES:
        src = _noise_clip(_NOISE_FILES[kind])
        start = int(rng.integers(len(src)))
        return np.tile(src, n // len(src) + 2)[start : start + n]
    if kind == "violet":
        return np.diff(rng.standard_normal(n + 1))
    if kind == "music":
        t = np.arange(n) / RATE
        root = 110.0 * 2 ** (int(rng.integers(0, 24)) / 12)
        steps = (0, 4, 7, 12) if rng.random() < 0.5 else (0, 3, 7, 12)  # a major or minor chord
        return sum(np.sin(2 * np.pi * root * 2 ** (k / 12) * t + rng.uniform(0, 6.3))
                   * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t + j)) for j, k in enumerate(steps))
    if kind == "babble":
        talkers = [c for c in _babble_clips() if c[0] not in exclude]
        out = np.zeros(n)
        for k in rng.choice(len(talkers), 4, replace=False):
            x = talkers[int(k)][1]
            start = int(rng.integers(len(x)))
            out += np.tile(x, n // len(x) + 2)[start : start + n]
        return out
    if kind == "clicks":
        out = np.zeros(n)
        for at in rng.integers(0, max(1, n - 80), max(1, int(n / RATE * 6))):
            out[at : at + 80] += rng.standard_normal(80)
        return out
    raise ValueError(f"unknown background {kind!r}")


@lru_cache(maxsize=4)
def _noise_clip(name: str) -> np.ndarray:
    clip = next(c for c in corpus.clips() if c.name == name)
    return clip.pcm().astype(np.float64)


@lru_cache(maxsize=1)
def _babble_clips() -> tuple[tuple[str, np.ndarray], ...]:
    """Every corpus sentence, each at one level (a crowd of equally loud talkers)."""
    out = []
    for clip in corpus.clips():
        if clip.kind == "sentence":
            x = clip.pcm().astype(np.float64)
            out.append((clip.name, x / (np.sqrt(np.mean(x**2)) + 1e-9)))
    return tuple(out)


def segment(stream: Stream, cfg=None) -> Edges:
    """The segmenter's utterance edges on ``stream``."""
    from assistant.config import VadConfig
    from assistant.events import Utterance
    from assistant.vad.segmenter import Segmenter

    seg = Segmenter(cfg or VadConfig())
    found: Edges = []
    for f in stream.frames():
        found += [(u.start, u.end) for u in seg.process(f) if isinstance(u, Utterance)]
    return found + [(u.start, u.end) for u in seg.flush() if isinstance(u, Utterance)]


def check(found: Edges, truth: Edges, tolerance: float = 0.1, audible: Edges | None = None) -> str:
    """'' when ``found`` is one utterance per sentence with edges within ``tolerance`` of the
    truth (or, under added noise, of the ``audible`` edges: what lies under the noise cannot be
    heard), else why."""
    if len(found) != len(truth):
        return f"count {len(found)} != {len(truth)}"
    audible = audible or truth
    bad = [f"#{i + 1} start {a - ta:+.2f}s end {b - tb:+.2f}s" for i, ((a, b), (ta, tb), (aa, ab))
           in enumerate(zip(found, truth, audible))
           if min(abs(a - ta), abs(a - aa)) > tolerance or min(abs(b - tb), abs(b - ab)) > tolerance]
    return ", ".join(bad)


def edge_errors(found: Edges, truth: Edges, audible: Edges | None = None) -> list[float]:
    """Per edge, |found - truth| (the nearer of truth and audible truth), when counts match."""
    if len(found) != len(truth):
        return []
    audible = audible or truth
    out = []
    for (a, b), (ta, tb), (aa, ab) in zip(found, truth, audible):
        out += [min(abs(a - ta), abs(a - aa)), min(abs(b - tb), abs(b - ab))]
    return out


def matched_edge_errors(found: Edges, truth: Edges, audible: Edges | None = None) -> list[float]:
    """``edge_errors`` over the sentences counted right (see ``counted_right``) only, paired by
    overlap: for a long stream, where one split and one miss leave the count exact."""
    audible = audible or truth
    out = []
    for t, aud in zip(truth, audible):
        mine = [f for f in found if f[0] < t[1] and f[1] > t[0]]
        if len(mine) == 1 and sum(mine[0][0] < u[1] and mine[0][1] > u[0] for u in truth) == 1:
            (a, b), (ta, tb), (aa, ab) = mine[0], t, aud
            out += [min(abs(a - ta), abs(a - aa)), min(abs(b - tb), abs(b - ab))]
    return out


def counted_right(found: Edges, truth: Edges, lo: float, hi: float) -> tuple[int, int]:
    """(right, all) over the sentences starting in [lo, hi): right when exactly one utterance
    overlaps the sentence and that utterance overlaps no other sentence (not glued, not split,
    not missed)."""
    def overlaps(x, y):
        return x[0] < y[1] and x[1] > y[0]
    right = total = 0
    for t in truth:
        if not lo <= t[0] < hi:
            continue
        total += 1
        mine = [f for f in found if overlaps(f, t)]
        right += len(mine) == 1 and sum(overlaps(mine[0], u) for u in truth) == 1
    return right, total
