"""Optional wake word gate (pymicro-wakeword models shipped in its pip package)."""
from __future__ import annotations

from collections import deque

from ..audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ..errors import UserError


def available_wake_words() -> list[str]:
    try:
        from pymicro_wakeword import Model
    except ImportError:
        return []
    return [m.value for m in Model]


class WakeGate:
    """Feeds every frame to a microWakeWord model and remembers when the wake word was heard
    (stream seconds), so the loop can accept an utterance that contains or follows it."""

    def __init__(self, name: str):
        try:
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model
        except ImportError:
            raise UserError("wake words need the pymicro-wakeword package (pip install pymicro-wakeword)") from None
        try:
            model = Model(name)
        except ValueError:
            raise UserError(f"unknown wake word {name!r}; choose one of: {', '.join(available_wake_words())}") from None
        self.name = name
        self._detector = MicroWakeWord.from_builtin(model)
        self._features = MicroWakeWordFeatures()
        self._samples = 0
        self.detections: deque[float] = deque(maxlen=32)

    def feed(self, frame: bytes) -> bool:
        self._samples += FRAME_SAMPLES
        heard = False
        for features in self._features.process_streaming(frame):
            if self._detector.process_streaming(features):
                heard = True
        if heard:
            self.detections.append(self._samples / SAMPLE_RATE)
        return heard

    def heard_between(self, start: float, end: float) -> bool:
        return any(start <= t <= end for t in self.detections)
