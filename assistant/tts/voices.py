"""The tutorial's six OpenAI voices -> settings of the local engines (so --voice nova works offline).

piper (joe, one male speaker): ``pitch`` shifts the voice by resampling (duration compensated),
``length`` slows/speeds it, ``noise``/``noise_w`` vary expressiveness. espeak-ng: a voice variant
(``+f3`` ...) and a base pitch (0-100). The other OpenAI voices borrow the nearest of the six.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError
from .models import ALL_VOICES


@dataclass(frozen=True)
class LocalVoice:
    name: str
    pitch: float  # piper: pitch factor (1.0 = joe's own voice)
    length: float  # piper: length_scale multiplier (>1 slower)
    noise: float  # piper: noise_scale
    noise_w: float  # piper: noise_w
    espeak_variant: str  # espeak-ng variant appended as voice+variant ("" = default)
    espeak_pitch: int  # espeak-ng base pitch 0..100 (50 = default)


SIX: dict[str, LocalVoice] = {v.name: v for v in (
    LocalVoice("alloy", 1.00, 1.00, 0.667, 0.8, "m3", 50),  # neutral: joe as trained
    LocalVoice("echo", 0.93, 1.00, 0.600, 0.7, "m1", 42),  # a little deeper, steadier
    LocalVoice("fable", 1.04, 1.05, 0.800, 1.0, "m2", 55),  # storyteller: more variation, slower
    LocalVoice("nova", 1.15, 0.97, 0.667, 0.8, "f3", 62),  # brighter, female-like
    LocalVoice("onyx", 0.86, 1.05, 0.550, 0.7, "m7", 32),  # deep
    LocalVoice("shimmer", 1.22, 1.00, 0.700, 0.9, "f2", 68),  # highest, airy
)}

# Voices beyond the six borrow the nearest local voice.
ALIASES = {"ash": "echo", "ballad": "fable", "coral": "nova", "sage": "alloy", "verse": "fable",
           "marin": "shimmer", "cedar": "onyx"}


def local_voice(voice: str) -> LocalVoice:
    name = ALIASES.get(voice, voice)
    if name not in SIX:
        raise UserError(f"unknown voice {voice!r}; valid voices: {', '.join(ALL_VOICES)}")
    return SIX[name]
