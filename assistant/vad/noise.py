"""Noise-floor tracking: a frame only counts as speech when it stands above the room's floor.

webrtcvad alone calls steady noise (fan, hiss, hum, a cheap mic's floor) speech and so merges
sentences; the floor lets the segmenter see the pauses. Two bands are tracked: the full band
(hiss is weak there relative to speech) and a pre-emphasised one, x[n] - x[n-1] (mains hum and
brown/rumble noise are weak there). Pure and per frame: a few numpy and float operations.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

_EPS = 1e-3  # energy of digital silence (avoids log(0))


_I16 = np.dtype("<i2")


class LevelMeter:
    """(full-band, pre-emphasised) mean energy of an int16 frame in dB (0 dB = 1 LSB²).

    Runs on every frame, so it is lean (numpy's call overhead, not its arithmetic, is the cost):
    the bytes are copied into an int16 buffer (a memoryview copy, no numpy call), converted in
    one call into two float rows, the frame and the frame one sample on, and one matrix-vector
    product gives both the energy and the lag-1 autocorrelation, from which the pre-emphasised
    energy sum((x[n] - x[n-1])²) follows. The sums are of exact integers below 2^53: exact in
    float64, in any order. Keep one meter per stream; ``levels`` is the call (a bound method is
    called faster than an instance).
    """

    def __init__(self, samples: int = 480):
        self._raw = np.zeros(samples + 1, _I16)  # the frame, then a zero
        self._bytes = memoryview(self._raw[:samples]).cast("B")
        self._pair = as_strided(self._raw, shape=(2, samples), strides=(2, 2), writeable=False)
        self._rows = np.empty((3, samples))  # x[n], x[n+1] (0 past the end), and ones
        self._rows[2] = 1.0
        self._two = self._rows[:2]
        self._x = self._rows[0]
        self._n = samples

    def levels(self, frame: bytes) -> tuple[float, float]:
        self._bytes[:] = frame
        np.copyto(self._two, self._pair)
        e0, lag = self._two.dot(self._x).tolist()
        hp = 2.0 * (e0 - lag)  # edge samples ignored: < 0.5 % of the frame
        n = self._n
        return (10.0 * math.log10(e0 / n + _EPS),
                10.0 * math.log10((hp if hp > 0.0 else 0.0) / n + _EPS))

    __call__ = levels

    def centred(self, frame: bytes) -> tuple[float, float]:
        """Like ``levels``, with the frame's mean (a DC offset) left out; a little dearer, so
        for inputs that have an offset (see ``has_dc``)."""
        self._bytes[:] = frame
        np.copyto(self._two, self._pair)
        e0, lag, total = self._rows.dot(self._x).tolist()
        n = self._n
        first, last = float(self._raw[0]), float(self._raw[n - 1])
        # the edge terms, ignored above, are ~2 mean^2 here: exact
        hp = 2.0 * (e0 - lag) - first * first - last * last
        e0 -= total * total / n  # n mean^2
        return (10.0 * math.log10((e0 if e0 > 0.0 else 0.0) / n + _EPS),
                10.0 * math.log10((hp if hp > 0.0 else 0.0) / n + _EPS))


    def sums(self, pcm: bytes) -> tuple:
        """What ``from_sums`` takes the levels of every frame of ``pcm`` from, in two numpy
        products for all of them (batched matmul: the cheapest call here): the energies and the
        lag-1 autocorrelations, exact integers in float64 (so the same in any order), and the
        frames themselves (for the centred levels)."""
        x = np.frombuffer(pcm, _I16).reshape(-1, self._n).astype(np.float64)
        row = x[:, None, :]
        return (np.matmul(row, x[:, :, None]).ravel().tolist(),
                np.matmul(row[:, :, :-1], x[:, 1:, None]).ravel().tolist(), x)

    def from_sums(self, sums: tuple, centred: bool, start: int = 0) -> list[tuple[float, float]]:
        """(full, pre-emphasised) levels of frames ``start``.. from ``sums``: bit for bit those of
        ``levels`` (or ``centred``) frame by frame (the same float operations, math.log10)."""
        n, log10 = self._n, math.log10
        energies, lags, x = sums[0][start:], sums[1][start:], sums[2][start:]
        if not centred:
            return [(10.0 * log10(e0 / n + _EPS), 10.0 * log10((hp if hp > 0.0 else 0.0) / n + _EPS))
                    for e0, hp in zip(energies, [2.0 * (e0 - lag) for e0, lag in zip(energies, lags)])]
        out = []
        for e0, lag, total, first, last in zip(energies, lags, x.sum(axis=1).tolist(), x[:, 0].tolist(),
                                               x[:, -1].tolist()):
            hp = 2.0 * (e0 - lag) - first * first - last * last
            e0 -= total * total / n
            out.append((10.0 * log10((e0 if e0 > 0.0 else 0.0) / n + _EPS),
                        10.0 * log10((hp if hp > 0.0 else 0.0) / n + _EPS)))
        return out


def has_dc(pcm: np.ndarray, frame: int = 480) -> bool:
    """True when ``pcm`` (room noise) has a DC offset (a cheap mic's) worth leaving out of the
    levels: over 10 % of its power, and steady, i.e. every frame's mean on the same side (rumble
    and brown noise also have frame means, but they swing both ways over a few frames)."""
    x = pcm.astype(np.float64)
    mean = x.sum() / len(x)  # x.mean() and x.var() bit for bit, without their wrappers' cost
    d = x - mean
    if mean * mean <= 0.1 * ((d * d).sum() / len(x)):
        return False
    block = frame if len(x) >= 4 * frame else frame // 8  # one frame: its 3.75 ms blocks
    means = x[: len(x) // block * block].reshape(-1, block).mean(axis=1)
    return bool(np.all(means * mean > 0.0))


def frame_levels(frame: bytes) -> tuple[float, float]:
    """One-off LevelMeter call for a frame of any length."""
    return LevelMeter(len(frame) // 2)(frame)


def is_transient(pcm: np.ndarray, frame: int = 480, block: int = 32, decay_db: float = 1.5) -> bool:
    """A slam or a click rather than speech: ``pcm`` (a frame of lead-in, then the candidate)
    jumps from quiet to within 10 dB of its peak in <= 2 blocks of 2 ms, peaks within three frames,
    and then only decays (``decay_db`` per frame, 3 dB of slack). Speech rises over tens of ms,
    or, after a plosive burst, its vowel holds its level."""
    if len(pcm) < 2 * frame:  # no lead-in frame (pre_roll_ms = 0 after a cut): nothing to compare
        return False
    x = pcm[: len(pcm) // frame * frame].astype(np.float64)
    x -= x.mean()
    level = 10.0 * np.log10((x.reshape(-1, frame) ** 2).mean(axis=1) + _EPS)
    peak = int(np.argmax(level[1:])) + 1
    after = np.arange(1, len(level) - peak)
    if peak > 3 or np.any(level[peak + 1 :] > level[peak] - decay_db * after + 3.0):
        return False
    db = 10.0 * np.log10((x.reshape(-1, block) ** 2).mean(axis=1) + _EPS)
    top = db.max()
    near = int(np.argmax(db >= top - 10.0))  # first block near the peak
    quiet = np.flatnonzero(db[:near] < max(_median(db[: frame // block]) + 6.0, top - 20.0))
    if near - (int(quiet[-1]) if len(quiet) else 0) > 2:
        return False
    # a vowel has a pitch somewhere in its first frames (a breathy one not at its very peak)
    return max((periodicity(x[k * frame : (k + 2) * frame]) for k in range(peak, min(peak + 4, len(level) - 1))), default=0.0) < 0.5


def _median(x) -> float:
    """np.median(x) of a short 1-D array or list, bit for bit, at a tenth of its cost (and without
    the numpy.ma import its first call makes)."""
    s = np.sort(x) if isinstance(x, np.ndarray) else sorted(x)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2.0


def is_clicks(pcm: np.ndarray, block: int = 80, top: float = 0.1, share: float = 0.6) -> bool:
    """Clicks rather than a word: over ``share`` of the energy of ``pcm`` lies in its loudest tenth
    of 5 ms blocks (a few bursts; a word's vowels spread it: ~0.25-0.45)."""
    x = pcm[: len(pcm) // block * block].astype(np.float64)
    if len(x) < 10 * block:
        return False
    energy = np.sort((x.reshape(-1, block) ** 2).sum(axis=1))[::-1]
    total = energy.sum()
    return bool(total > 0.0 and energy[: max(1, int(len(energy) * top))].sum() > share * total)


def periodicity(x: np.ndarray, rate: int = 16000, band: tuple[float, float] | None = None) -> float:
    """Highest normalised autocorrelation at a pitch lag (50-500 Hz): ~0.7-1 on a vowel, low on
    noise bursts. ``band`` (lo, hi) Hz: only what lies below counts, fading out from lo to hi (a
    voice's harmonics are there; a hiss above, e.g. violet noise after pre-emphasis, would bury
    them; a smooth fade, not a brick wall, which would make a narrow-band noise ring)."""
    lo, hi = rate // 500, min(rate // 50, len(x) - 1)
    size = _fft_size(len(x) + hi)
    # zero-padded: no wrap-around up to hi; sum / len is x.mean() bit for bit, without its wrapper's cost
    spec = np.fft.rfft(x - x.sum() / len(x), size)
    power = spec.real**2 + spec.imag**2
    if band is not None:
        power *= _fade(size, rate, *band)
    r = np.fft.irfft(power)[: len(x)]
    return float(r[lo:hi].max() / r[0]) if r[0] > 0.0 else 0.0


def pitched(x: np.ndarray, at: float, band: tuple[float, float], band_at: float, rate: int = 16000) -> bool:
    """``periodicity(x) >= at`` or, that failing, ``periodicity(x, band=band) >= band_at``, from one
    transform (the second inverse one only when needed)."""
    lo, hi = rate // 500, min(rate // 50, len(x) - 1)
    size = _fft_size(len(x) + hi)
    spec = np.fft.rfft(x - x.sum() / len(x), size)
    power = spec.real**2 + spec.imag**2
    r = np.fft.irfft(power)[: len(x)]
    if r[0] <= 0.0 or r[lo:hi].max() >= at * r[0]:
        return r[0] > 0.0
    r = np.fft.irfft(power * _fade(size, rate, *band))[: len(x)]
    return bool(r[0] > 0.0 and r[lo:hi].max() >= band_at * r[0])


def pitched_rows(x: np.ndarray, at: float, band: tuple[float, float], band_at: float, rate: int = 16000) -> int:
    """How many rows of ``x`` are ``pitched``: bit for bit the same decisions, from one transform
    of all the rows (numpy's per-call cost, not the transform, is most of a frame's)."""
    n = x.shape[1]
    lo, hi = rate // 500, min(rate // 50, n - 1)
    size = _fft_size(n + hi)
    spec = np.fft.rfft(x - (x.sum(axis=1) / n)[:, None], size)
    power = spec.real**2 + spec.imag**2
    r = np.fft.irfft(power)[:, :n]
    zero = r[:, 0]
    sure = r[:, lo:hi].max(axis=1) >= at * zero
    found = int(np.count_nonzero(sure & (zero > 0.0)))
    rest = ~sure & (zero > 0.0)
    if rest.any():
        r = np.fft.irfft(power[rest] * _fade(size, rate, *band))[:, :n]
        found += int(np.count_nonzero((r[:, 0] > 0.0) & (r[:, lo:hi].max(axis=1) >= band_at * r[:, 0])))
    return found


@lru_cache(maxsize=16)
def _fade(size: int, rate: int, lo: float, hi: float) -> np.ndarray:
    """Weights of an rfft of ``size``: 1 below ``lo`` Hz, 0 above ``hi``, a raised cosine between."""
    f = np.arange(size // 2 + 1) * (rate / size)
    if hi <= lo:
        return (f < lo).astype(np.float64)
    w = np.clip((hi - f) / (hi - lo), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * w)


@lru_cache(maxsize=16)
def _fft_size(n: int) -> int:
    """The smallest 2^a * 5^b >= n: a length with a large prime factor (a frame's 479-sample
    difference, doubled: 2 x 479) makes the FFT ~5x slower."""
    best, five = 1 << (n - 1).bit_length(), 1
    while five < n:
        best = min(best, five << max(0, (-(-n // five) - 1).bit_length()))
        five *= 5
    return best


def frame_db(frame: bytes) -> float:
    """Full-band mean energy in dB."""
    return frame_levels(frame)[0]


SILENT_DB = 12.0  # a frame quieter than this (rms < 4 LSB) is digital silence or dither: no room in it
_SPREAD_CAP = 4.0  # dB: the noise's own fluctuation is bounded (brown noise ~3, hiss ~1)
_MEAN_CAP = 8.0  # dB: the noise mean stays within this of the floor
_STALE_DB = 3.0  # dB: a floor this far under a steady noise is stale (less: its normal rise will do)
_GONE_S = 0.5  # digital silence this long: the room is gone (see NoiseFloor.silent_run)
_STEADY_DB = 9.0  # frame levels within this range for a whole window: steady noise, not speech
_BLOCK = 4  # frames per block of the steady-noise window
_BLOCKS = 4  # blocks in the window (~0.5 s at 30 ms; checked at every block's end)
_SURE_BLOCKS = 8  # steady this long (~1 s), it is the room whatever its pitch (a hum, a gain change)
STEADY_FRAMES = _BLOCK * _BLOCKS  # frames in the steady-noise window


class NoiseFloor:
    """Background level in dB: falls fast to quieter frames, rises slowly otherwise.

    ``rise_db_s``: how fast the floor climbs outside speech (a fan turned on); during speech it
    climbs only ``speech_rise_db_s`` so a long sentence does not lift it to its own level.
    ``mean``/``spread`` track how much the noise fluctuates (rumble and brown noise much more than
    hiss), so the speech threshold can stand clear of its peaks.

    Bounded, so that no input leaves it in a state it never leaves: frames below ``SILENT_DB``
    (digital silence, dither) only let the floor sink slowly (``rise_db_s``) towards that level
    and never touch the noise statistics (the room around the next word is still the room; after
    ``_GONE_S`` of them the floor is ``unknown`` again: the room that comes back is learnt afresh); the
    mean stays within ``_MEAN_CAP`` of the floor and the spread under ``_SPREAD_CAP``; and a floor
    that is stale (the last ~0.5 s of frames all lie within ``_STEADY_DB`` of each other and above
    it: a fan switched on, the gain turned up, a gate that opened) jumps to that steady level, in
    speech or not (speech is never that steady; if a held vowel were, the floor falls back fast
    at the next quieter frame). Steady for ~1 s (``sure``), it re-converges whatever its pitch;
    when one band jumps the other ``follow``s (a gain change moves both), and a floor lifted
    during speech ``relearn``s the noise's statistics from the steady window.
    """

    def __init__(self, frame_s: float = 0.03, *, fall: float = 0.3, rise_db_s: float = 4.0,
                 speech_rise_db_s: float = 0.5, warmup_frames: int = 10):
        self.level: float | None = None
        self.mean: float | None = None
        self.spread = 0.5
        self._fall = fall
        self._rise = rise_db_s * frame_s
        self._speech_rise = speech_rise_db_s * frame_s
        self._warmup = max(1, warmup_frames)  # the first frame above silence sets the floor
        self._block_n = 0  # levels in this block so far
        self._block_lo = self._block_hi = 0.0  # ... its lowest and highest
        self._los: list[float] = []  # the last blocks' minimum levels
        self._his: list[float] = []  # ... and maximum levels
        self.candidate: float | None = None  # a steady level above the floor, seen this frame
        self.top = 0.0  # ... and the loudest frame of the window it was seen in
        self.sure = False  # ... and steady for ~1 s (``_SURE_BLOCKS``): no held vowel is that long
        self.unknown = False  # the floor is only "silence so far": one steady block is the room
        self.silent_run = 0  # frames of digital silence in a row; after ``_GONE_S`` of them the room
        self._gone = max(1, round(_GONE_S / frame_s))  # is gone (a gate, a muted mic): unknown again

    def update(self, db: float, speech: bool) -> float | None:
        """Feed one frame level (outside speech its noise statistics too, see ``excess``);
        returns the floor (dB; None until a frame above silence)."""
        self.excess(db, speech, 0.0)
        return self.level

    def lift(self) -> None:
        """Take the steady level seen this frame (``candidate``) as the floor: the caller has
        checked that it is not speech (a held vowel can be as steady; its pitch tells them apart)."""
        if self.candidate is not None:
            self.level, self.candidate = self.candidate, None
            self.unknown = False

    def follow(self, rise: float) -> None:
        """The other band's floor was just lifted by ``rise`` dB (a gain change moves both bands;
        a fan, less so here): rise as much, but not above the lowest level of the last blocks."""
        if self.level is not None and self._los:
            target = min(self.level + rise, min(self._los[-_BLOCKS:]))
            if target > self.level:  # the noise moved as a whole: its mean keeps its place above the floor
                if self.mean is not None:
                    self.mean = min(self.mean + target - self.level, target + _MEAN_CAP)
                self.level = target

    def threshold(self, margin_db: float, k: float = 3.0) -> float:
        """The level (dB) a frame must exceed to be louder than the noise (see ``excess``)."""
        noisy = (self.mean if self.mean is not None else self.level) + k * self.spread - self.level
        return self.level + (margin_db if margin_db > noisy else noisy)

    def relearn(self, levels: list[float]) -> None:
        """The floor was just lifted: ``levels`` (the steady window's frames) were that noise;
        its statistics start from them (they were not learnt while it passed for speech)."""
        levels = [x for x in levels if x >= SILENT_DB]
        if self.level is None or not levels:
            return
        mean = sum(levels) / len(levels)
        mean = self.mean = min(max(mean, self.level), self.level + _MEAN_CAP)
        self.spread = min(_SPREAD_CAP, sum(abs(x - mean) for x in levels) / len(levels))

    def window(self) -> tuple[float, float] | None:
        """(lowest, loudest) frame level of the last ~0.5 s of complete blocks (None before)."""
        if len(self._los) < _BLOCKS:
            return None
        return min(self._los[-_BLOCKS:]), max(self._his[-_BLOCKS:])

    def _block_end(self, lo: float, hi: float, level: float) -> float | None:
        """A block is complete (its lowest and highest level): the window's minimum when the floor
        is stale, else None."""
        los, his = self._los, self._his
        los.append(lo)
        his.append(hi)
        if len(los) > _SURE_BLOCKS:
            del los[0], his[0]
        need = 1 if self.unknown else _BLOCKS
        self.sure = False
        if len(los) < need or lo <= level + _STALE_DB:  # (the window's minimum is at most this block's)
            return None
        lo = min(los[-need:])
        self.top = max(his[-need:])
        if lo > level + _STALE_DB and self.top - lo <= _STEADY_DB:
            if len(los) == _SURE_BLOCKS:
                low = min(los)
                self.sure = low > level + _STALE_DB and max(his) - low <= _STEADY_DB
            return lo
        return None

    def _silent(self, db: float, margin_db: float) -> float:
        """``excess`` of a frame of digital silence: the room is at most this loud; nothing learnt."""
        level = self.level
        self.silent_run += 1
        if self.silent_run == self._gone:  # what comes after it is a room to learn afresh
            self.unknown = True
        if level is None:  # the room so far is silence: what comes next (a word?) stands out
            self.level = SILENT_DB
            self.unknown = True
        elif level > SILENT_DB:
            self.level = max(SILENT_DB, level - self._rise)
        self.candidate = None
        return db - SILENT_DB - margin_db

    def _settle(self, db: float, speech: bool) -> float:
        """The floor after one of the first frames above silence: settle on the room (not on a
        loud voice)."""
        level = self.level
        if level is None:
            level = db
        elif db < level:
            level += self._fall * (db - level)
        elif db - level < 10.0:
            level += 0.3 * (db - level)
        else:
            level += min(db - level, self._speech_rise if speech else self._rise)
        self._warmup -= 1
        if self.mean is None:
            self.mean = level
        return level

    def excess(self, db: float, speech: bool, margin_db: float, relax: float = 1.0, k: float = 3.0) -> float:
        """Feed one frame level; returns how far (dB) it stands above the speech threshold:
        ``relax * max(margin_db, noise mean + k * spread - level)`` over the floor (negative: not
        louder than the noise). Quiet frames outside speech update the noise statistics.

        The segmenter runs this inlined for its two bands (``Segmenter._run``, the per-frame cost;
        its rare paths are the methods here): a change here goes there too
        (tests/vad/test_segmenter.py checks that the two agree frame by frame)."""
        level = self.level
        if db < SILENT_DB:
            return self._silent(db, margin_db)
        self.silent_run = 0
        # the floor: falls fast to quieter frames, rises slowly otherwise
        if self._warmup:
            level = self._settle(db, speech)
        elif db < level:
            level += self._fall * (db - level)
        else:
            step = self._speech_rise if speech else self._rise
            level += db - level if db - level < step else step
        self.level = level
        # the steady-noise window: this block's levels
        n = self._block_n
        if n:
            if db < self._block_lo:
                self._block_lo = db
            elif db > self._block_hi:
                self._block_hi = db
        else:
            self._block_lo = self._block_hi = db
        if n + 1 < _BLOCK:
            self._block_n = n + 1
            self.candidate = None
        else:
            self._block_n = 0
            self.candidate = self._block_end(self._block_lo, self._block_hi, level)
        # the threshold over the floor, and the noise statistics
        mean = self.mean
        if mean < level:
            mean = self.mean = level
        elif mean > level + _MEAN_CAP:
            mean = self.mean = level + _MEAN_CAP
        spread = self.spread
        noisy = mean + k * spread - level
        over = db - level - relax * (margin_db if margin_db > noisy else noisy)
        if not speech and over <= 0.0:  # how the noise itself fluctuates (speech excluded)
            self.mean = mean = mean + 0.05 * (db - mean)
            dev = abs(db - mean)
            spread += 0.05 * ((dev if dev < 2 * _SPREAD_CAP else 2 * _SPREAD_CAP) - spread)
            self.spread = spread if spread < _SPREAD_CAP else _SPREAD_CAP
        return over
