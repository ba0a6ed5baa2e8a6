"""Small helpers shared by the benchmarks: percentiles, a table printer, ending a daemon."""
from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def p50_p95(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    if len(values) == 1:
        return values[0], values[0]
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94]


def row(*cells: object, widths: tuple[int, ...] = (34, 10, 10, 10)) -> str:
    out = []
    for cell, width in zip(cells, widths):
        text = f"{cell:.4f}" if isinstance(cell, float) else str(cell)
        out.append(text.ljust(width) if not out else text.rjust(width))
    return " ".join(out)


def end_daemon(proc: subprocess.Popen, timeout_s: float) -> None:
    """Close the daemon's stdin (its end of input) and wait; kill it if it does not exit."""
    proc.stdin.close()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
