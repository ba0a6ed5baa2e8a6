"""One OpenAI stand-in per test module of the fault harness (each test resets it)."""
from __future__ import annotations

import pytest

from tests.standin import StandIn


@pytest.fixture(scope="module")
def srv():
    with StandIn() as server:
        yield server
