"""The systemd units: in sync with the templates, verified and scored by systemd-analyze."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import UserError
from assistant.service.units import (
    DEFAULT_EXEC, UnitSpec, extra_write_paths, quote_arg, render_unit, repo_files,
)

REPO = Path(__file__).resolve().parents[2]
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
EXE = str(Path(sys.executable).with_name("assistant"))


def _directives(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in text.splitlines() if line and not line.startswith(("#", "["))]


def _values(text: str, key: str) -> list[str]:
    return [v for k, v in _directives(text) if k == key]


def test_repo_copies_match_the_templates():
    for name, text in repo_files().items():
        assert (REPO / "systemd" / name).read_text() == text, f"systemd/{name} is stale: python -m assistant.service.units systemd"


@pytest.mark.parametrize("scope", ["user", "system"])
def test_required_settings(scope):
    text = render_unit(UnitSpec(scope, "/opt/assistant/bin/assistant"))
    one = {k: v for k, v in _directives(text)}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert one["WatchdogSec"] == "30" and one["Restart"] == "on-failure" and one["RestartSec"] == "3"
    assert one["TimeoutStopSec"] == "5" and one["UMask"] == "0077"
    assert one["ExecStart"] == "/opt/assistant/bin/assistant run"
    for key in ("NoNewPrivileges", "PrivateTmp", "LockPersonality", "RestrictRealtime", "RestrictSUIDSGID",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectClock",
                "ProtectHostname", "RestrictNamespaces"):
        assert one[key] == "yes", key
    assert one["ProtectSystem"] == "strict" and one["CapabilityBoundingSet"] == ""
    assert one["MemoryDenyWriteExecute"] == "no"  # measured: CTranslate2 JIT and cffi callbacks need W+X
    assert one["RestrictAddressFamilies"] == "AF_UNIX AF_INET AF_INET6"
    assert "@system-service" in _values(text, "SystemCallFilter")
    assert one["SystemCallArchitectures"] == "native"
    # every setting is explained by a comment somewhere above it in its block
    assert text.count("\n#") > 30


def test_user_unit_specifics():
    text = render_unit(UnitSpec("user", DEFAULT_EXEC["user"]))
    one = dict(_directives(text))
    assert one["ProtectHome"] == "read-only" and one["PrivateUsers"] == "yes"
    assert _values(text, "ReadWritePaths") == ["-%h/.local/share/assistant", "-%h/.local/state/assistant", "-%h/.cache/assistant"]
    assert one["LoadCredential"] == "openai_api_key:%E/assistant/openai_api_key"
    assert one["SetCredential"] == "openai_api_key:\\n"  # fallback that makes a missing key file non-fatal
    assert one["WantedBy"] == "default.target"
    assert "User" not in one


def test_system_unit_specifics():
    text = render_unit(UnitSpec("system", DEFAULT_EXEC["system"]))
    one = dict(_directives(text))
    assert one["User"] == "assistant" and one["SupplementaryGroups"] == "audio"
    assert one["ProtectHome"] == "yes" and one["PrivateDevices"] == "no"
    assert one["DevicePolicy"] == "closed" and one["DeviceAllow"] == "char-alsa rw"
    assert one["LoadCredential"] == "openai_api_key"  # credstore search, missing is not fatal
    assert one["StateDirectoryMode"] == "0700" and one["WantedBy"] == "multi-user.target"


def test_config_path_and_extra_paths_rendered():
    text = render_unit(UnitSpec("user", "/opt/my tools/assistant", "/home/u/my cfg/a%b.toml", ("/home/u/Pictures/ai",)))
    assert 'ExecStart="/opt/my tools/assistant" run' in text
    assert 'Environment="ASSISTANT_CONFIG=/home/u/my cfg/a%%b.toml"' in text
    assert "ReadWritePaths=-/home/u/Pictures/ai" in text


def test_quote_arg():
    assert quote_arg("/usr/bin/assistant") == "/usr/bin/assistant"
    assert quote_arg("/a b/c") == '"/a b/c"'
    assert quote_arg("/x/$HOME%d") == '"/x/$$HOME%%d"'
    with pytest.raises(UserError):
        quote_arg("/x\ny")


def test_extra_write_paths():
    assert extra_write_paths(["", "/home/u/.local/share/assistant/images", "/srv/pics", "/srv/pics"], "user", "/home/u") == ("/srv/pics",)
    assert extra_write_paths(["/var/lib/assistant/img"], "system", "/") == ()
    with pytest.raises(UserError):
        extra_write_paths(["relative/dir"], "user", "/home/u")


def _verify(path: Path, scope: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    args = [ANALYZE]
    if scope == "user":
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
        args.append("--user")
    return subprocess.run([*args, "verify", "--man=no", str(path)], capture_output=True, text=True, env=env, timeout=60, cwd=path.parent)


@needs_analyze
@pytest.mark.parametrize("scope", ["user", "system"])
def test_systemd_analyze_verify_is_clean(tmp_path, scope):
    # the committed file, with ExecStart pointed at an executable that exists here
    text = (REPO / "systemd" / repo_files_name(scope)).read_text().replace(f"ExecStart={DEFAULT_EXEC[scope]} ", f"ExecStart={EXE} ")
    unit = tmp_path / "assistant.service"
    unit.write_text(text)
    result = _verify(unit, scope, tmp_path)
    assert result.returncode == 0 and (result.stdout + result.stderr).strip() == "", result.stdout + result.stderr


@needs_analyze
def test_verify_catches_a_broken_unit(tmp_path):
    """Guards the test above: a bad setting does show up (systemd only warns, exit 0)."""
    unit = tmp_path / "assistant.service"
    unit.write_text(render_unit(UnitSpec("system", EXE)).replace("SetCredential", "X") + "SetCredential=broken:\n")
    result = _verify(unit, "system", tmp_path)
    assert "SetCredential" in result.stdout + result.stderr


def repo_files_name(scope: str) -> str:
    return "assistant.service" if scope == "user" else "assistant-system.service"


@needs_analyze
def test_exposure_score_of_the_system_unit(tmp_path):
    unit = tmp_path / "assistant.service"
    unit.write_text(render_unit(UnitSpec("system", EXE)))
    result = subprocess.run([ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout + result.stderr)
    assert m, result.stdout + result.stderr
    assert float(m.group(1)) <= 2.5
