"""Speech to text: one Transcriber interface, an openai and a local (faster-whisper) backend."""
from .base import FORMATS, Segment, Transcriber, Transcript

__all__ = ["FORMATS", "Segment", "Transcriber", "Transcript"]
