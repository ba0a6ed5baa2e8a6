"""Shared bits of the CLI: the lazily loaded config and small option helpers."""
from __future__ import annotations

import os
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


class OutFile(click.Path):
    """``--out FILE``: a file name. "x.wav/" names a directory; Path() would drop the slash and
    write a file called x.wav, so it is refused here."""

    def __init__(self, **kwargs):
        super().__init__(dir_okay=False, **kwargs)

    def convert(self, value, param, ctx):
        text = os.fspath(value) if isinstance(value, os.PathLike) else value
        if isinstance(text, str) and text != "-" and text.endswith(("/", os.sep)):
            self.fail(f"'{text}' ends in '/', so it names a directory; name a file", param, ctx)
        return super().convert(value, param, ctx)
