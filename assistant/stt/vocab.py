"""A Whisper vocabulary that costs ~1 MB instead of the 8-13 MB of a loaded ``tokenizers.Tokenizer``.

faster-whisper keeps a Hugging Face tokenizer per model (tiny.en 8 MB, base 12.5 MB of idle RSS,
measured) but a turn needs little of it: token ids -> text (decoding), the ids of the special
tokens, and the encodings of a fixed set of strings (the symbols it suppresses). ``LeanVocabulary``
answers those from one byte table and a few dicts. Any other ``encode`` (a prompt) loads the real
tokenizer for that call and caches the ids; nothing is approximated.

Decoding is exactly ``tokenizers``' ByteLevel decoding: each token is a string over GPT-2's
byte-to-unicode alphabet, the bytes are joined and read as UTF-8 with invalid sequences replaced
(``String::from_utf8_lossy``; Python's ``errors="replace"`` follows the same rule).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np


KEPT_PROMPTS = 16  # encodings of other strings (prompts) kept besides the fixed ones


@lru_cache(maxsize=1)
def _unicode_to_byte() -> dict[str, int]:
    """GPT-2's reversible byte <-> printable-unicode mapping, reversed."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


@dataclass(frozen=True)
class Encoding:
    """What ``tokenizers.Tokenizer.encode`` returns, as far as faster-whisper reads it."""
    ids: list[int]


class LeanVocabulary:
    """The parts of ``tokenizers.Tokenizer`` faster-whisper's ``Tokenizer`` uses: ``decode``,
    ``token_to_id`` and ``encode(text, add_special_tokens=False)``."""

    def __init__(self, tokenizer_file: Path, blob: bytes, offsets: np.ndarray, special: dict[str, int],
                 encoded: dict[str, tuple[int, ...]]):
        self._file = Path(tokenizer_file)
        self._blob = blob
        self._offsets = offsets  # token id i is blob[offsets[i]:offsets[i + 1]]
        self._special: dict[str, int | None] = dict(special)  # added tokens ("<|en|>" -> id), then lookups
        self._specials = len(special)
        self._encoded = dict(encoded)
        self._fixed: frozenset[str] | None = None
        self._lock = threading.Lock()

    @classmethod
    def build(cls, tokenizer_file: Path, real: Any, known: Iterable[str] = ()) -> "LeanVocabulary":
        """From a loaded ``tokenizers.Tokenizer`` (``real``, dropped by the caller afterwards) and
        its file (for a later ``encode`` of a new string); ``known``: strings to encode now."""
        # one token at a time: the whole vocabulary as Python strings at once (get_vocab) would
        # leave ~16 MB of half-empty object arenas behind in a process that loads models in threads
        special = {str(t.content): int(i) for i, t in real.get_added_tokens_decoder().items()}
        skip = set(special.values())
        size = max(real.get_vocab_size(with_added_tokens=True), max(skip, default=-1) + 1)
        table = {ord(c): b for c, b in _unicode_to_byte().items()}  # a character stands for a byte
        pieces = bytearray()
        offsets = np.zeros(size + 1, dtype=np.int64)
        for i in range(size):
            token = None if i in skip else real.id_to_token(i)
            if token:  # special tokens decode to nothing, as tokenizers skips them by default
                pieces += token.translate(table).encode("latin-1", errors="replace")
            offsets[i + 1] = len(pieces)
        blob = bytes(pieces)
        vocab = cls(tokenizer_file, blob, offsets, special, {})
        vocab._remember(known, real)
        return vocab

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        blob, off, n = self._blob, self._offsets, len(self._offsets) - 1
        return b"".join(blob[off[i]:off[i + 1]] for i in ids if 0 <= i < n).decode("utf-8", errors="replace")

    def token_to_id(self, token: str) -> int | None:
        """The id of a vocabulary entry (faster-whisper asks only for special tokens; any other
        is looked up in the real tokenizer once and cached)."""
        found = self._special.get(token)
        if found is None and token not in self._special:
            found = self._lookup(token)
        return found

    def _lookup(self, token: str) -> int | None:
        import tokenizers

        with self._lock:
            found = tokenizers.Tokenizer.from_file(str(self._file)).token_to_id(token)
            if len(self._special) < self._specials + KEPT_PROMPTS:
                self._special[token] = found  # type: ignore[assignment]  (None: not in the vocabulary)
        return found

    def encode(self, text: str, add_special_tokens: bool = False) -> Encoding:
        found = self._encoded.get(text)
        if found is None:
            self._remember([text])
            found = self._encoded.get(text) or tuple(self._encode_now(text))
        return Encoding(list(found))

    def _encode_now(self, text: str) -> list[int]:
        import tokenizers

        return tokenizers.Tokenizer.from_file(str(self._file)).encode(text, add_special_tokens=False).ids

    def _remember(self, texts: Iterable[str], real: Any = None) -> None:
        """Encode ``texts`` with the real tokenizer; without ``real``, it is loaded for this call
        only (a prompt: ~0.1 s once, then cached)."""
        todo = [t for t in texts if t not in self._encoded]
        if not todo:
            return
        with self._lock:
            if real is None:
                import tokenizers

                real = tokenizers.Tokenizer.from_file(str(self._file))
            for text in todo:
                self._encoded[text] = tuple(real.encode(text, add_special_tokens=False).ids)
            if self._fixed is None:
                self._fixed = frozenset(self._encoded)  # the build's strings stay
            extra = [t for t in self._encoded if t not in self._fixed]
            for text in extra[:max(0, len(extra) - KEPT_PROMPTS)]:  # a daemon's prompts: bounded
                del self._encoded[text]


def fixed_strings(model: Any) -> list[str]:
    """Every string faster-whisper encodes on its own in a decode: the symbols it suppresses
    (``Tokenizer.non_speech_tokens``) and the blank. Found by running its code against a recorder."""
    from faster_whisper.tokenizer import Tokenizer

    class Recorder:
        def __init__(self, real: Any):
            self.real, self.seen = real, []

        def encode(self, text: str, add_special_tokens: bool = False) -> Any:
            self.seen.append(text)
            return self.real.encode(text, add_special_tokens=add_special_tokens)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    recorder = Recorder(model.hf_tokenizer)
    multilingual = bool(model.model.is_multilingual)
    tokenizer = Tokenizer(recorder, multilingual, task="transcribe", language="en" if multilingual else None)
    tokenizer.non_speech_tokens  # noqa: B018  (records its encodes)
    tokenizer.encode(" ")
    return list(dict.fromkeys(recorder.seen))


def slim(model: Any, tokenizer_file: Path) -> None:
    """Swap a loaded faster-whisper model's tokenizer for a ``LeanVocabulary`` (same answers)."""
    real = getattr(model, "hf_tokenizer", None)
    if real is None or isinstance(real, LeanVocabulary) or not Path(tokenizer_file).is_file():
        return
    model.hf_tokenizer = LeanVocabulary.build(tokenizer_file, real, fixed_strings(model))
