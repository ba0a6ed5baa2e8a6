"""Errors the CLI turns into one line and an exit code (never a traceback)."""
from __future__ import annotations


class AssistantError(Exception):
    """Base: a message meant for the user, with the exit code the CLI uses."""

    exit_code = 1


class UserError(AssistantError):
    """Bad input, bad option, unsupported combination: exit 2."""

    exit_code = 2


class ConfigError(UserError):
    """Invalid configuration file or value: exit 2."""


class ApiError(AssistantError):
    """The remote service answered with an error: exit 1."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class PolicyError(ApiError):
    """The request was refused by content policy / moderation: exit 3, never retried."""

    exit_code = 3
