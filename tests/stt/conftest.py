"""Shared fixtures for the STT tests: the stand-in server and configs pointing at it."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Config, with_overrides

from tests.standin import Reply, StandIn  # the shared strict stand-in (validates with the spec)

TEXT = "Turn on the kitchen lights. Draw a red fox."
CHAT = "Hello, nice weather today."


@pytest.fixture
def srv():
    with StandIn() as server:
        server.transcript_text = TEXT
        server.chat_text = CHAT
        yield server


def cfg_for(srv, **stt) -> Config:
    return with_overrides(Config(), stt={"base_url": srv.base_url, "max_retries": 0, "timeout": 10.0,
                                         "backend": "openai", **stt})


def write_config(tmp_path, srv, **stt) -> str:
    lines = ["[stt]", f'base_url = "{srv.base_url}"', "max_retries = 0", "timeout = 10.0", 'backend = "openai"']
    for k, v in stt.items():
        lines.append(f"{k} = {v!r}".replace("'", '"'))
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def tone(seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
