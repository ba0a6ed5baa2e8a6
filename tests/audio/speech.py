"""Helpers shared by the audio/vad/CLI tests: fixture manifest and synthetic signals."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import soundfile as sf

SPEECH = Path(__file__).resolve().parent.parent / "fixtures" / "speech"
RATE = 16_000
TOLERANCE_S = 0.09


def manifest() -> list[dict]:
    return json.loads((SPEECH / "manifest.json").read_text("utf-8"))


def entry(name: str) -> dict:
    return next(e for e in manifest() if e["file"] == name)


def voice(seconds: float, f0: float = 130.0, amp: float = 3000.0, rate: int = RATE) -> np.ndarray:
    """A crude voiced sound: harmonic complex with a 4 Hz syllable envelope."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 20))
    return amp * x * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate))


def white(seconds: float, amp: float, seed: int = 0, rate: int = RATE) -> np.ndarray:
    return amp * np.random.default_rng(seed).standard_normal(int(seconds * rate))


def tone(seconds: float, freq: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def wav_bytes(data: np.ndarray, rate: int, fmt: str = "WAV", subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, data, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def peak_hz(pcm: np.ndarray, rate: int = RATE) -> float:
    x = pcm.astype(np.float64) * np.hanning(len(pcm))
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spec)])
