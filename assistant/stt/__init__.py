"""Speech to text: one Transcriber interface, an openai and a local (faster-whisper) backend."""
from ..memory import defer_import
from .base import FORMATS, Segment, Transcriber, Transcript

__all__ = ["FORMATS", "Segment", "Transcriber", "Transcript"]

defer_import("av")  # before faster_whisper is imported anywhere below (assistant/memory.py)
