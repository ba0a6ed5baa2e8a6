"""A blocking Wyoming connection for the remote engines (they run in worker threads)."""
from __future__ import annotations

import socket
from typing import Any, Callable

from wyoming.error import Error
from wyoming.event import Event, write_event

from ...errors import ApiError
from .uri import parse_uri
from .wire import read_event_sync


class Connection:
    """One request/response exchange with a Wyoming server. Unreachable -> ApiError(status=None),
    the same signal the openai engines give, so the local fallback takes over."""

    def __init__(self, uri: str, default_port: int, timeout: float, what: str):
        self.host, self.port = parse_uri(uri, default_port, what=what, default_host=None)
        self.timeout = timeout
        self.what = what
        self._sock: socket.socket | None = None
        self._file: Any = None

    def __enter__(self) -> "Connection":
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ApiError(f"{self.what} tcp://{self.host}:{self.port} unreachable: {exc.strerror or exc}") from None
        self._file = self._sock.makefile("rwb")
        return self

    def __exit__(self, *exc: Any) -> None:
        for closer in (self._file, self._sock):
            try:
                if closer is not None:
                    closer.close()
            except OSError:
                pass

    def send(self, event: Event) -> None:
        try:
            write_event(event, self._file)
        except OSError as exc:
            raise ApiError(f"{self.what} connection lost: {exc}") from None

    def flush(self) -> None:
        try:
            self._file.flush()
        except OSError as exc:
            raise ApiError(f"{self.what} connection lost: {exc}") from None

    def receive(self) -> Event:
        try:
            event = read_event_sync(self._file)
        except (OSError, ValueError) as exc:  # a timeout is an OSError; BadEvent is a ValueError
            raise ApiError(f"{self.what} did not answer: {exc}") from None
        if event is None:
            raise ApiError(f"{self.what} closed the connection")
        if Error.is_type(event.type):
            try:
                error = Error.from_event(event)
            except (KeyError, TypeError, ValueError) as exc:
                raise ApiError(f"{self.what} sent a malformed error: {type(exc).__name__} {exc}") from None
            raise ApiError(f"{self.what}: {error.text}", status=500, code=error.code)
        return event

    def receive_until(self, done: Callable[[Event], bool], on_event: Callable[[Event], None] = lambda e: None) -> Event:
        while True:
            event = self.receive()
            if done(event):
                return event
            on_event(event)
