import pytest

from assistant.router.route import is_filler


@pytest.mark.parametrize("text", ["Uh.", "Um...", "Hmm.", "Mm-hmm.", "Uh-huh.", "Uh, um.", "음.", "어...", "흠"])
def test_hesitations_are_fillers(text):
    assert is_filler(text)


@pytest.mark.parametrize("text", ["Help.", "Okay.", "Stop.", "hmm draw a fox", "음 그려줘", "그만", "Oh my god"])
def test_requests_are_not_fillers(text):
    assert not is_filler(text)
