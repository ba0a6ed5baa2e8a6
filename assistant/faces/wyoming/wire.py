"""Reading Wyoming events from a peer we do not trust, within limits.

The ``wyoming`` package's readers trust the peer: a header that is JSON but not an object, a
``data_length`` that is a string or a gigabyte, ``data`` that is a list, a line without end
(the blocking reader) or a payload that never comes each raised a raw exception (a traceback in
our log) or kept memory or the connection forever. Here each of those is a ``BadEvent``: one
clear line, and the caller closes that connection.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, BinaryIO

from wyoming.event import Event

MAX_LINE = 64 * 1024  # a header line (asyncio's own default limit)
MAX_DATA = 1024 * 1024  # the JSON data of one event (a long text to speak fits many times)
MAX_PAYLOAD = 1024 * 1024  # one event's payload (an audio chunk is usually 2 KB)
BODY_TIMEOUT_S = 30.0  # a header's data and payload must follow it within this


class BadEvent(ValueError):
    """The peer sent something that is not a Wyoming event we can take."""


def _header(line: bytes) -> tuple[dict[str, Any], int, int]:
    try:
        header = json.loads(line)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise BadEvent("not a JSON event header") from None
    if not isinstance(header, dict):
        raise BadEvent(f"event header is a JSON {type(header).__name__}, not an object")
    if not isinstance(header.get("type"), str) or not header["type"]:
        raise BadEvent("event header without a type")
    if "data" in header and not isinstance(header["data"], dict):
        raise BadEvent(f"{header['type']}: data is not an object")
    lengths = []
    for key, limit in (("data_length", MAX_DATA), ("payload_length", MAX_PAYLOAD)):
        value = header.get(key) or 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BadEvent(f"{header['type']}: {key} {value!r} is not a byte count")
        if value > limit:
            raise BadEvent(f"{header['type']}: {key} {value} is over the limit of {limit} bytes")
        lengths.append(value)
    return header, lengths[0], lengths[1]


def _event(header: dict[str, Any], data_bytes: bytes, payload: bytes | None) -> Event:
    data = dict(header.get("data") or {})
    if data_bytes:
        try:
            more = json.loads(data_bytes)
        except ValueError:
            raise BadEvent(f"{header['type']}: its data is not JSON") from None
        if not isinstance(more, dict):
            raise BadEvent(f"{header['type']}: its data is a JSON {type(more).__name__}, not an object")
        data.update(more)
    return Event(type=header["type"], data=data, payload=payload or None)


async def read_event(reader: asyncio.StreamReader, *, idle_timeout: float | None = None) -> Event | None:
    """The next event, None at a clean end of stream. ``idle_timeout``: how long to wait for the
    next header (None: for ever). Raises BadEvent; the caller closes the connection.

    Timeouts use ``asyncio.timeout``, not ``wait_for``: on Python 3.11, wait_for swallows a
    cancellation that arrives as the read completes, and a satellite link being stopped read on
    for ever."""
    try:
        async with asyncio.timeout(idle_timeout):
            line = await reader.readline()
    except ValueError:  # asyncio: the line is over the reader's limit
        raise BadEvent(f"event header over {MAX_LINE} bytes") from None
    except TimeoutError:
        raise BadEvent(f"no event for {idle_timeout:g} s in the middle of a request") from None
    except (ConnectionError, asyncio.IncompleteReadError):
        return None
    if not line:
        return None
    if not line.endswith(b"\n"):
        return None  # cut off at the end of the stream: the peer went away
    header, data_length, payload_length = _header(line)
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            data_bytes = await reader.readexactly(data_length) if data_length else b""
            payload = await reader.readexactly(payload_length) if payload_length else None
    except TimeoutError:
        raise BadEvent(f"{header['type']}: its data or payload did not arrive within {BODY_TIMEOUT_S:g} s") from None
    except (ConnectionError, asyncio.IncompleteReadError):
        return None  # the peer went away in the middle of an event
    return _event(header, data_bytes, payload)


def read_event_sync(stream: BinaryIO) -> Event | None:
    """The blocking twin (remote engines in worker threads). OSError (a timeout too) passes."""
    line = stream.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise BadEvent(f"event header over {MAX_LINE} bytes")
    if not line.endswith(b"\n"):
        return None
    header, data_length, payload_length = _header(line)
    data_bytes = _read_exactly(stream, data_length)
    payload = _read_exactly(stream, payload_length)
    if data_bytes is None or payload is None:
        return None
    return _event(header, data_bytes, payload)


def _read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            return None
        parts.append(part)
        got += len(part)
    return b"".join(parts)
