"""Shared bits of the CLI: the lazily loaded config and small option helpers."""
from __future__ import annotations

from dataclasses import dataclass, field

import click

from ..config import Config, load_config


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
