"""Speech to text: one Transcriber interface, an openai and a local (faster-whisper) backend."""
from ..memory import defer_import, unpacked_gemm
from .base import FORMATS, Segment, Transcriber, Transcript

__all__ = ["FORMATS", "Segment", "Transcriber", "Transcript"]

defer_import("av")  # before faster_whisper is imported anywhere below (assistant/memory.py)
unpacked_gemm()  # before ctranslate2 is: no packed MKL copy of the weights on Intel CPUs
