"""Every engine implements all of its protocol, so callers never probe with hasattr."""
from __future__ import annotations

import pytest

from assistant.audio.playback import NullSpeaker, Speaker as DeviceSpeaker
from assistant.audio.speaker import Speaker
from assistant.engines import FallbackSynthesizer, FallbackTranscriber
from assistant.images.base import ImageService
from assistant.images.service import ImageService as OpenAIImages
from assistant.stt.base import Transcriber
from assistant.stt.files import FileInput
from assistant.stt.local import WhisperTranscriber
from assistant.stt.openai import OpenAITranscriber
from assistant.stt.pieces import SpeechPieces
from assistant.stt.wyoming import WyomingTranscriber
from assistant.tts.base import Synthesizer
from assistant.tts.local import LocalSynthesizer
from assistant.tts.openai import OpenAISynthesizer
from assistant.tts.wyoming import WyomingSynthesizer


def members(protocol: type) -> set[str]:
    names = {n for n in vars(protocol) if not n.startswith("_")}
    return names | set(getattr(protocol, "__annotations__", {}))


@pytest.mark.parametrize("protocol,engines", [
    (Transcriber, [FileInput, SpeechPieces, WhisperTranscriber, OpenAITranscriber, WyomingTranscriber,
                   FallbackTranscriber]),
    (Synthesizer, [LocalSynthesizer, OpenAISynthesizer, WyomingSynthesizer, FallbackSynthesizer]),
    (Speaker, [DeviceSpeaker, NullSpeaker]),
    (ImageService, [OpenAIImages]),
])
def test_every_engine_has_every_member(protocol, engines):
    for engine in engines:
        missing = sorted(n for n in members(protocol) if not hasattr(engine, n))
        assert not missing, f"{engine.__name__} lacks {missing}"
