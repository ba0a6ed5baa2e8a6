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
        self._special = dict(special)  # the added tokens: "<|en|>" -> id
        self._fixed = dict(encoded)  # the strings faster-whisper encodes itself, encoded at the build
        self._prompts: dict[str, tuple[int, ...]] = {}  # other encodings, the newest KEPT_PROMPTS
        self._lookups: dict[str, int | None] = {}  # other token_to_id answers, as many
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
        encoded = {text: tuple(real.encode(text, add_special_tokens=False).ids) for text in known}
        return cls(tokenizer_file, bytes(pieces), offsets, special, encoded)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        blob, off, n = self._blob, self._offsets, len(self._offsets) - 1
        return b"".join(blob[off[i]:off[i + 1]] for i in ids if 0 <= i < n).decode("utf-8", errors="replace")

    def token_to_id(self, token: str) -> int | None:
        """The id of a vocabulary entry (faster-whisper asks only for special tokens; any other
        is looked up in the real tokenizer and kept, bounded)."""
        if token in self._special:
            return self._special[token]
        found = self._lookups.get(token, -1)  # (kept answers are ids or None, never -1)
        if found == -1:
            found = self._real().token_to_id(token)
            self._keep(self._lookups, token, found)
        return found

    def encode(self, text: str, add_special_tokens: bool = False) -> Encoding:
        found = self._fixed.get(text, self._prompts.get(text))
        if found is None:  # a prompt: the real tokenizer, loaded for this call only (~0.1 s)
            found = tuple(self._real().encode(text, add_special_tokens=False).ids)
            self._keep(self._prompts, text, found)
        return Encoding(list(found))

    def _real(self) -> Any:
        import tokenizers

        return tokenizers.Tokenizer.from_file(str(self._file))

    def _keep(self, kept: dict, key: Any, value: Any) -> None:
        """Add to a cache of a daemon's prompts or lookups that keeps only the newest KEPT_PROMPTS."""
        with self._lock:
            kept[key] = value
            while len(kept) > KEPT_PROMPTS:
                del kept[next(iter(kept))]


def fixed_strings(model: Any) -> list[str]:
    """Every string faster-whisper encodes on its own in a decode: the symbols it suppresses
    (``Tokenizer.non_speech_tokens``). Found by running its code against a recorder."""
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
    return list(dict.fromkeys(recorder.seen))


def slim(model: Any, tokenizer_file: Path) -> None:
    """Swap a loaded faster-whisper model's tokenizer for a ``LeanVocabulary`` (same answers)."""
    real = getattr(model, "hf_tokenizer", None)
    if real is None or isinstance(real, LeanVocabulary) or not Path(tokenizer_file).is_file():
        return
    model.hf_tokenizer = LeanVocabulary.build(tokenizer_file, real, fixed_strings(model))
