"""One OpenAI stand-in per test module of the fault harness (each test resets it)."""
from __future__ import annotations

import pytest

from tests.standin import StandIn


@pytest.fixture(scope="module")
def srv():
    with StandIn() as server:
        yield server


@pytest.fixture
def clean(srv, monkeypatch):
    """A test key, the stand-in reset before the test and no spec violation after it (modules use it
    with ``pytestmark = pytest.mark.usefixtures("clean")``)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    srv.reset()
    yield
    assert srv.violations == []
