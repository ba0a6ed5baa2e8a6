"""The five formats: rendered like the API, parsed back, golden SRT/VTT."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.stt.base import Segment, Transcript
from assistant.stt.formats import parse, render

GOLDEN = Path(__file__).parent / "golden"
T = Transcript(
    "Turn on the kitchen lights. 빨간 여우를 그려줘.", "ko", 0.93, 3723.5,
    (Segment(0.0, 1.5, "Turn on the kitchen lights.", -0.2, 0.01),
     Segment(3600.25, 3723.456, "빨간 여우를 그려줘.", -0.4, 0.02)),
)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_golden(fmt):
    assert T.to(fmt) == (GOLDEN / f"sample.{fmt}").read_text("utf-8")


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_every_format_parses_back(fmt):
    back = parse(T.to(fmt), fmt)
    assert back.text == T.text
    if fmt in ("srt", "vtt", "verbose_json"):
        assert [(s.start, s.end, s.text) for s in back.segments] == [(s.start, s.end, s.text) for s in T.segments]
    if fmt == "verbose_json":
        assert back.language == "ko" and back.duration == 3723.5
        assert back.segments[1].avg_logprob == -0.4


def test_verbose_json_has_the_api_shape():
    data = json.loads(T.to("verbose_json"))
    assert data["language"] == "korean" and data["task"] == "transcribe"
    seg = data["segments"][0]
    for key in ("id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                "compression_ratio", "no_speech_prob"):
        assert key in seg


def test_api_verbose_json_language_names_become_codes():
    body = {"task": "transcribe", "language": "english", "duration": 2.0, "text": " Hi.",
            "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 2.0, "text": " Hi.", "tokens": [],
                          "temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.1}]}
    t = parse(json.dumps(body), "verbose_json")
    assert (t.text, t.language, t.duration, t.segments[0].text) == ("Hi.", "en", 2.0, "Hi.")


def test_transcript_without_segments_renders_one_cue():
    t = Transcript("Hello there.", "en", None, 2.0)
    assert t.to("srt") == "1\n00:00:00,000 --> 00:00:02,000\nHello there.\n\n"
    assert t.to("vtt") == "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello there.\n\n"
    assert Transcript("", "en", None, 1.0).to("srt") == ""


def test_vtt_with_hours_omitted_and_settings_parses():
    body = "WEBVTT\n\n00:01.000 --> 00:02.500 align:start\nHello\nworld\n\n"
    (seg,) = parse(body, "vtt").segments
    assert (seg.start, seg.end, seg.text) == (1.0, 2.5, "Hello world")


@pytest.mark.parametrize("fmt,body", [("json", "{}"), ("verbose_json", "[1]"), ("vtt", "1\n00:00:00,000 --> x"),
                                      ("srt", "nonsense"), ("srt", "1\n00:00:02,000 --> 00:00:01,000\nx\n")])
def test_malformed_answers_raise(fmt, body):
    with pytest.raises(ValueError):
        parse(body, fmt)


def test_repr_shows_text_and_language():
    assert repr(T).startswith("Transcript('Turn on the kitchen lights. 빨간 여우를 그려줘.', language='ko' (0.93)")


def test_unknown_format():
    with pytest.raises(ValueError):
        render(T, "docx")
