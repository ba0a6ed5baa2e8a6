"""Shared bits of the CLI: the lazily loaded config and small option helpers."""
from __future__ import annotations

from dataclasses import dataclass, field

import click

from ..config import Config, load_config
from ..errors import UserError


@dataclass
class Ctx:
    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


def get_config(ctx: click.Context | None = None) -> Config:
    ctx = ctx or click.get_current_context()
    obj = ctx.find_object(Ctx)
    if obj is None:
        return load_config(None)
    return obj.config


def utf8_text(value: str | None, what: str) -> str | None:
    """Reject text that is not valid UTF-8 (undecodable argv bytes arrive as lone surrogates)."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{what} is not valid UTF-8 text") from None
    return value


def text_option(what: str):
    """A click callback that applies :func:`utf8_text` to an argument or option."""
    return lambda ctx, param, value: utf8_text(value, what)


def read_stdin_text() -> str:
    """All of stdin as UTF-8 text (one-line error when it is not)."""
    import sys

    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("stdin is not valid UTF-8 text") from None
