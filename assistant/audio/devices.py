"""Listing audio devices (sounddevice imported lazily; a clear error when PortAudio is missing)."""
from __future__ import annotations

from dataclasses import dataclass

from .sources import MicrophoneError, _first_line, _import_sounddevice


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    default_input: bool = False
    default_output: bool = False


def list_devices() -> list[Device]:
    """All PortAudio devices; MicrophoneError when PortAudio or every device is missing."""
    sd = _import_sounddevice()
    try:
        raw = list(sd.query_devices())
        pair = sd.default.device  # an _InputOutputPair: indexable, but not sliceable
        default_in, default_out = (pair[0], pair[1]) if pair is not None else (-1, -1)
    except Exception as exc:
        raise MicrophoneError(f"cannot list audio devices ({_first_line(exc)})") from None
    devices = [Device(i, str(d.get("name", "?")), int(d.get("max_input_channels", 0)),
                      int(d.get("max_output_channels", 0)), float(d.get("default_samplerate", 0)),
                      i == default_in, i == default_out) for i, d in enumerate(raw)]
    if not devices:
        raise MicrophoneError("no audio devices found (PortAudio sees no sound card)")
    return devices


def format_devices(devices: list[Device]) -> list[str]:
    """Human lines, inputs then outputs; '*' marks the defaults."""
    lines = []
    for title, attr, flag in (("input", "inputs", "default_input"), ("output", "outputs", "default_output")):
        chosen = [d for d in devices if getattr(d, attr) > 0]
        lines.append(f"{title} devices:" if chosen else f"{title} devices: none")
        for d in chosen:
            mark = "*" if getattr(d, flag) else " "
            lines.append(f" {mark}{d.index:3d}  {d.name}  ({getattr(d, attr)} ch, {d.default_rate:.0f} Hz)")
    return lines
