"""assistant-serve.service: the `serve` unit is hardened like the others, has no devices, and
`service install --serve` writes it (staged with --unit-dir)."""
from __future__ import annotations

from click.testing import CliRunner

from assistant.cli import main
from assistant.service.units import DEFAULT_EXEC, UnitSpec, render_unit
from tests.service.test_units import EXE, REPO, _directives, _verify, needs_analyze


def test_serve_unit_is_hardened_like_the_run_unit():
    serve = dict(_directives(render_unit(UnitSpec("user", "/opt/a/bin/assistant", command="serve"))))
    run = dict(_directives(render_unit(UnitSpec("user", "/opt/a/bin/assistant"))))
    assert serve["ExecStart"] == "/opt/a/bin/assistant serve" and serve["PrivateDevices"] == "yes"
    same = {k for k in run if k not in ("Description", "After", "ExecStart", "PrivateDevices")}
    assert {k: serve.get(k) for k in same} == {k: run[k] for k in same}
    system = dict(_directives(render_unit(UnitSpec("system", "/opt/a/bin/assistant", command="serve"))))
    assert system["PrivateDevices"] == "yes" and "DeviceAllow" not in system and "SupplementaryGroups" not in system


@needs_analyze
def test_serve_unit_verifies_clean(tmp_path):
    text = (REPO / "systemd" / "assistant-serve.service").read_text().replace(
        f"ExecStart={DEFAULT_EXEC['user']} ", f"ExecStart={EXE} ")
    unit = tmp_path / "assistant-serve.service"
    unit.write_text(text)
    result = _verify(unit, "user", tmp_path)
    assert result.returncode == 0 and (result.stdout + result.stderr).strip() == "", result.stdout + result.stderr


def test_service_install_serve_writes_the_server_unit(tmp_path):
    exe = tmp_path / "assistant"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    result = CliRunner().invoke(main, ["service", "install", "--serve", "--unit-dir", str(tmp_path / "units"),
                                       "--executable", str(exe), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "assistant-serve.service" in result.output and f"ExecStart={exe} serve" in result.output
