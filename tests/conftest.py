"""Shared test setup: no network, no real API key, isolated XDG dirs."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own XDG dirs and no OpenAI key unless it sets one."""
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_CONFIG", "CREDENTIALS_DIRECTORY",
                "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        monkeypatch.delenv(var, raising=False)
