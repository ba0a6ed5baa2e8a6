"""Shared fixtures for the TTS tests: the strict stand-in and configs pointing at it."""
from __future__ import annotations

import pytest

from assistant.config import Config, with_overrides
from tests.standin import StandIn


@pytest.fixture
def srv():
    with StandIn() as server:
        yield server


def cfg_for(srv, **tts) -> Config:
    return with_overrides(Config(), tts={"base_url": srv.base_url, "max_retries": 0, "timeout": 10.0,
                                         "backend": "openai", **tts})


def write_config(tmp_path, srv=None, **tts) -> str:
    lines = ["[tts]"]
    if srv is not None:
        lines += [f'base_url = "{srv.base_url}"', "max_retries = 0", "timeout = 10.0", 'backend = "openai"']
    for k, v in tts.items():
        lines.append(f"{k} = {v!r}".replace("'", '"').replace("True", "true").replace("False", "false"))
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)
