"""Short tones ("earcons"): heard = a wake word was heard; done = a turn ended; alarm = a timer
or alarm rings (played before its announcement). Pure: int16 mono samples at any rate."""
from __future__ import annotations

import numpy as np

# name -> notes (frequency Hz, seconds); each note has a 10 ms fade in/out, 20 ms gap between
EARCONS: dict[str, tuple[tuple[float, float], ...]] = {
    "heard": ((880.0, 0.07), (1320.0, 0.09)),        # rising: I'm listening
    "done": ((1320.0, 0.07), (880.0, 0.09)),         # falling: finished
    "alarm": ((988.0, 0.15), (1319.0, 0.15), (988.0, 0.15), (1319.0, 0.3)),
}
NAMES = tuple(EARCONS)


def tone(name: str, rate: int, volume: float = 0.3) -> np.ndarray:
    """The earcon ``name`` as int16 samples at ``rate`` (``volume``: 0..1 of full scale)."""
    parts = []
    gap = np.zeros(int(0.02 * rate), np.float32)
    for freq, seconds in EARCONS[name]:
        t = np.arange(int(seconds * rate), dtype=np.float32) / rate
        note = np.sin(2 * np.pi * freq * t).astype(np.float32)
        fade = min(len(note) // 2, int(0.01 * rate))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            note[:fade] *= ramp
            note[-fade:] *= ramp[::-1]
        parts += [note, gap]
    samples = np.concatenate(parts[:-1]) * max(0.0, min(1.0, volume))
    return (samples * 32767).astype(np.int16)
