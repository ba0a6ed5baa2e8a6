"""Raw loopback clients for the hostile tests of the network faces."""
from __future__ import annotations

import asyncio
from typing import Callable


async def send_and_read(port: int, data: bytes, wait: float, done: Callable[[bytes], bool] | None = None
                        ) -> tuple[bytes, bool]:
    """Send ``data`` to 127.0.0.1:``port`` and read until the server closes (True), ``wait``
    passes between reads, or ``done(what came so far)`` (False)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    out, closed = b"", False
    try:
        await writer.drain()
        while True:
            part = await asyncio.wait_for(reader.read(65536), wait)
            if not part:
                closed = True
                break
            out += part
            if done and done(out):
                break
    except asyncio.TimeoutError:
        pass
    except ConnectionError:
        closed = True
    writer.close()
    return out, closed
