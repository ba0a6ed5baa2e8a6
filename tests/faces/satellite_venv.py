"""wyoming-satellite from PyPI in its own venv (1.0.0 pins wyoming==1.4.1, which our 1.10 cannot
share). `.ci/run` makes it beforehand; the test session makes it when missing, or skips."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.0.0"


def venv_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_SATELLITE_VENV") or ROOT / ".venv-satellite")


def satellite_python() -> tuple[Path | None, str]:
    """(the venv's python, "") when wyoming-satellite runs there, else (None, why)."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if not _works(python):
        try:
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
            subprocess.run([str(python), "-m", "pip", "install", "-q", f"wyoming-satellite=={VERSION}"],
                           check=True, capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            return None, f"cannot install wyoming-satellite=={VERSION} into {venv}: {exc} {detail.decode(errors='replace')[-300:]}"
    if not _works(python):
        return None, f"wyoming-satellite does not run from {venv}"
    return python, ""


def _works(python: Path) -> bool:
    if not python.exists():
        return False
    result = subprocess.run([str(python), "-c", "import wyoming_satellite"], capture_output=True, timeout=60)
    return result.returncode == 0
