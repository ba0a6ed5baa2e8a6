"""Reply texts: every key in English and Korean with the same placeholders."""
from __future__ import annotations

import re

import pytest

from assistant.skills.messages import KEYS, LANGUAGES, MESSAGES, message, placeholders

REQUIRED = {
    "drawing_ack": {"subject"}, "drawing_done": {"file"}, "editing_ack": {"subject"}, "editing_done": {"file"},
    "variation_ack": {"subject"}, "job_queued": {"position"}, "job_failed": {"reason"}, "needs_key": set(),
    "no_image_yet": set(), "translate_on": set(), "translate_off": set(), "speed_changed": {"speed"},
    "voice_changed": {"voice"}, "language_changed": set(), "unknown_region": {"regions"}, "stopped": set(),
    "help": set(), "unknown": set(), "api_key_rejected": set(), "policy_refused": set(),
    "api_unreachable_local_fallback": set(),
}
HANGUL = re.compile("[가-힣]")


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_required_keys_with_their_placeholders(key):
    for language in LANGUAGES:
        assert placeholders(MESSAGES[key][language]) == REQUIRED[key], (key, language)


@pytest.mark.parametrize("key", KEYS)
def test_every_key_in_both_languages_same_placeholders(key):
    en, ko = MESSAGES[key]["en"], MESSAGES[key]["ko"]
    assert set(MESSAGES[key]) == set(LANGUAGES)
    assert placeholders(en) == placeholders(ko)
    assert en.strip() and not HANGUL.search(en)
    assert HANGUL.search(ko)
    assert len(en) < 240 and len(ko) < 160  # short enough to speak


def test_message_fills_placeholders_and_falls_back_to_english():
    assert message("drawing_ack", "en", subject="a red fox") == "Drawing a red fox…"
    assert message("drawing_ack", "ko", subject="빨간 여우") == "빨간 여우 그리는 중이에요…"
    assert "img-1.png" in message("drawing_done", "ko", file="img-1.png")
    assert "3" in message("job_queued", "en", position=3) and "queue" in message("job_queued", "en", position=3)
    assert message("stopped", "ja") == MESSAGES["stopped"]["en"]
    assert "OPENAI_API_KEY" in message("needs_key", "en") and "images.base_url" in message("needs_key", "ko")
    assert message("needs_key", "en") == (
        "Drawing needs an OpenAI API key or an image server. Set OPENAI_API_KEY or images.base_url."
    )


def test_missing_values_never_raise():
    text = message("job_failed", "en")
    assert "{" not in text and text.startswith("Sorry")
    with pytest.raises(KeyError):
        message("no_such_key", "en")


def test_short_replies_do_not_contain_what_the_user_says_next():
    # The loop ignores a transcript found inside its last reply (echo suppression), so the
    # fallback reply must not contain a one-word command the user is likely to say next.
    for language, words in (("en", ("help", "stop", "cancel")), ("ko", ("도움말", "그만", "멈춰"))):
        reply = message("unknown", language).lower()
        assert not any(re.search(rf"\b{w}\b", reply) for w in words), reply
