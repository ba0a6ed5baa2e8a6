"""Transcript <-> the API's five response formats (json, text, srt, vtt, verbose_json).

Pure functions: ``render`` writes a format, ``parse`` reads one back (from the API or a file).
"""
from __future__ import annotations

import json
import re
from typing import Any

from .base import FORMATS, Segment, Transcript
from .languages import to_code, to_name


def render(t: Transcript, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"text": t.text}, ensure_ascii=False) + "\n"
    if fmt == "text":
        return t.text + "\n"
    if fmt == "srt":
        return "".join(f"{i}\n{_ts(s.start, ',')} --> {_ts(s.end, ',')}\n{s.text.strip()}\n\n"
                       for i, s in enumerate(_cues(t), 1))
    if fmt == "vtt":
        return "WEBVTT\n\n" + "".join(f"{_ts(s.start, '.')} --> {_ts(s.end, '.')}\n{s.text.strip()}\n\n"
                                      for s in _cues(t))
    if fmt == "verbose_json":
        return json.dumps(verbose_dict(t), ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def verbose_dict(t: Transcript) -> dict[str, Any]:
    return {
        "task": t.task,
        "language": to_name(t.language),
        "duration": round(t.duration or (t.segments[-1].end if t.segments else 0.0), 3),
        "text": t.text,
        "segments": [
            {"id": i, "seek": 0, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text,
             "tokens": [], "temperature": 0.0,
             "avg_logprob": s.avg_logprob if s.avg_logprob is not None else 0.0,
             "compression_ratio": 0.0,
             "no_speech_prob": s.no_speech_prob if s.no_speech_prob is not None else 0.0}
            for i, s in enumerate(t.segments)
        ],
    }


def _cues(t: Transcript) -> list[Segment]:
    """Non-empty segments; a transcript without segments becomes one cue over its duration."""
    cues = [s for s in t.segments if s.text.strip()]
    if not cues and t.text.strip():
        cues = [Segment(0.0, t.duration or 0.0, t.text)]
    return cues


def _ts(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


# ------------------------------------------------------------------ parsing
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})"
_CUE_RE = re.compile(rf"^{_TIME}\s*-->\s*{_TIME}")


def parse(body: str | bytes | dict[str, Any], fmt: str, *, task: str = "transcribe",
          duration: float | None = None) -> Transcript:
    """An API answer (or a rendered file) in ``fmt`` -> Transcript. Raises ValueError if malformed."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if fmt == "text":
        return Transcript(str(body).strip(), duration=duration, task=task)  # type: ignore[arg-type]
    if fmt in ("json", "verbose_json", "diarized_json"):
        data = json.loads(body) if isinstance(body, str) else body
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise ValueError(f"{fmt} answer has no 'text'")
        return _from_dict(data, task, duration)
    if fmt in ("srt", "vtt"):
        segs = _parse_cues(str(body), fmt)
        text = " ".join(s.text for s in segs)
        return Transcript(text, duration=duration if duration is not None else (segs[-1].end if segs else 0.0),
                          segments=tuple(segs), task=task)  # type: ignore[arg-type]
    raise ValueError(f"unknown format {fmt!r}")


def _from_dict(data: dict[str, Any], task: str, duration: float | None) -> Transcript:
    segs = tuple(
        Segment(float(s["start"]), float(s["end"]), str(s.get("text", "")).strip(),
                _opt_float(s.get("avg_logprob")), _opt_float(s.get("no_speech_prob")))
        for s in data.get("segments") or ()
    )
    language = to_code(data.get("language"))
    if language is None and data.get("languages"):  # gpt-transcribe: [{"code": "en"}]
        language = to_code(data["languages"][0].get("code"))
    if data.get("duration") is not None:
        duration = float(data["duration"])
    return Transcript(data["text"].strip(), language, _opt_float(data.get("language_probability")),
                      duration, segs, data.get("task", task))  # type: ignore[arg-type]


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _seconds(g: tuple[str | None, ...]) -> float:
    h, m, s, ms = g
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000  # type: ignore[arg-type]


def _parse_cues(body: str, fmt: str) -> list[Segment]:
    lines = body.replace("\r\n", "\n").strip("\ufeff").split("\n")
    if fmt == "vtt" and not lines[0].startswith("WEBVTT"):
        raise ValueError("vtt answer does not start with WEBVTT")
    segs: list[Segment] = []
    i = 0
    while i < len(lines):
        m = _CUE_RE.match(lines[i].strip())
        i += 1
        if not m:
            continue
        start, end = _seconds(m.groups()[:4]), _seconds(m.groups()[4:])
        if end < start:
            raise ValueError(f"{fmt} cue ends before it starts: {lines[i - 1]!r}")
        text = []
        while i < len(lines) and lines[i].strip():
            text.append(lines[i].strip())
            i += 1
        segs.append(Segment(start, end, " ".join(text)))
    if not segs and body.strip() not in ("", "WEBVTT"):
        raise ValueError(f"no {fmt} cues found")
    return segs
