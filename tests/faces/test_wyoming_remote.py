"""Remote engines: [stt]/[tts] backend = "wyoming" against wyoming-faster-whisper and
wyoming-piper from PyPI (local models, 127.0.0.1), and the fallback to local when the server
cannot be reached (said once)."""
from __future__ import annotations

import pytest

from assistant.audio.playback import NullSpeaker
from assistant.audio.resample import resample
from assistant.config import load_config, with_overrides
from assistant.engines import build_engines
from assistant.errors import UserError
from assistant.tts.base import Speech
from tests import corpus
from tests.faces.wyoming_peers import faster_whisper_args, free_port, have, piper_args, running


def remote_config(stt_uri: str, tts_uri: str, **service):
    return with_overrides(load_config(), stt={"backend": "wyoming", "uri": stt_uri, "timeout": 60.0},
                          tts={"backend": "wyoming", "uri": tts_uri, "timeout": 60.0},
                          service=service or None)


def test_backend_needs_a_uri():
    cfg = with_overrides(load_config(), stt={"backend": "wyoming"})
    from assistant.stt.factory import make_transcriber

    with pytest.raises(UserError, match="stt.uri"):
        make_transcriber(cfg)


@pytest.mark.slow
def test_unreachable_server_falls_back_to_local_once():
    corpus.need_corpus()
    port = free_port()  # nothing listens there
    notices = []
    cfg = remote_config(f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{port}", fallback_local=True)
    engines = build_engines(cfg, speaker=NullSpeaker(), on_fallback=notices.append)
    (clip,) = [c for c in corpus.select(language="en") if c.name == "cheetah_platforms"]
    for _ in range(2):
        assert "platforms" in engines.transcriber.transcribe(clip.pcm(), language="en").text.lower()
    speech = Speech.from_chunks(engines.synthesizer.synthesize("Fine.", voice="alloy"), engines.synthesizer.sample_rate)
    assert speech.duration > 0.2
    assert notices == ["speech recognition", "speech"]


@pytest.mark.slow
@pytest.mark.skipif(not (have("wyoming_piper") and have("wyoming_faster_whisper")),
                    reason="wyoming-piper / wyoming-faster-whisper are not installed (pip install '.[test]')")
def test_wyoming_piper_and_faster_whisper_serve_as_remote_engines(tmp_path):
    corpus.need_corpus()
    tts_port, stt_port = free_port(), free_port()
    with running(piper_args(tts_port), tts_port, "wyoming-piper") as tts_uri, \
            running(faster_whisper_args(stt_port, tmp_path / "fw"), stt_port, "wyoming-faster-whisper") as stt_uri:
        cfg = remote_config(stt_uri, tts_uri, fallback_local=False)
        engines = build_engines(cfg, speaker=NullSpeaker())
        (clip,) = [c for c in corpus.select(language="en") if c.name == "cheetah_platforms"]
        heard = engines.transcriber.transcribe(clip.pcm())
        assert "platforms" in heard.text.lower()
        synth = engines.synthesizer
        speech = Speech.from_chunks(synth.synthesize("Draw a red fox.", voice="alloy"), synth.sample_rate)
        assert 0.5 < speech.duration < 5
        again = engines.transcriber.transcribe(resample(speech.samples, synth.sample_rate, 16000), language="en")
        assert "fox" in again.text.lower()
