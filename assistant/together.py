"""Blocking calls run side by side, each in its own thread: the model loads and warm-ups before
READY (ctranslate2 and onnxruntime release the GIL while they read, convert and compute, so on 2
cores one model's single-threaded load overlaps another's warm-up)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable


def together(*calls: Callable[[], Any]) -> None:
    """Run ``calls`` at the same time and return when every one has finished. An exception is
    raised only after all have ended (no load is left running in the background), the first
    call's before the second's. One call runs in the caller's thread."""
    if len(calls) <= 1:
        for call in calls:
            call()
        return
    with ThreadPoolExecutor(len(calls) - 1, thread_name_prefix="warm-up") as pool:
        futures = [pool.submit(call) for call in calls[1:]]
        try:
            calls[0]()
        finally:
            for future in futures:  # every call has ended before anything is raised
                future.exception()
    for future in futures:
        future.result()
