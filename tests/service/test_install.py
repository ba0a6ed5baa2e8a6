"""service install / uninstall / status with a tmp unit dir and a fake systemctl on PATH."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Config, ImagesConfig
from assistant.errors import UserError
from assistant.service.install import find_executable, plan_install, status

EXE = str(Path(sys.executable).with_name("assistant"))


@pytest.fixture
def fake_systemctl(tmp_path, monkeypatch):
    """systemctl/systemd-sysusers stand-ins that log their arguments; returns the log path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name in ("systemctl", "systemd-sysusers"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n'
                          'case "$*" in *status*) echo "● assistant.service - Always-on voice assistant"; '
                          'echo "     Active: active (running)"; exit "${FAKE_STATUS_RC:-0}";; esac\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _run(args, input=None):
    return CliRunner().invoke(main, args, input=input, catch_exceptions=False)


def test_dry_run_prints_plan_and_unit_but_writes_nothing(tmp_path, fake_systemctl):
    units = tmp_path / "units"
    r = _run(["service", "install", "--user", "--dry-run", "--unit-dir", str(units), "--executable", EXE])
    assert r.exit_code == 0, r.output
    assert f"write {units}/assistant.service (new)" in r.output
    assert "run   systemctl --user daemon-reload" in r.output
    assert "run   systemctl --user enable --now assistant.service" in r.output
    assert f"ExecStart={EXE} run" in r.output
    assert "loginctl enable-linger" in r.output
    assert not units.exists() and not fake_systemctl.exists()


def test_install_with_yes_writes_atomically_and_enables(tmp_path, fake_systemctl, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    units = tmp_path / "units"
    r = _run(["service", "install", "--yes", "--unit-dir", str(units), "--executable", EXE])
    assert r.exit_code == 0, r.output
    unit = units / "assistant.service"
    assert f"ExecStart={EXE} run" in unit.read_text()
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert [p.name for p in units.iterdir()] == ["assistant.service"]  # no temp files left
    assert fake_systemctl.read_text().splitlines() == [
        "systemctl --user daemon-reload", "systemctl --user enable --now assistant.service"]
    for sub in (".local/share/assistant", ".local/state/assistant", ".cache/assistant"):
        d = tmp_path / "home" / sub
        assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_confirmation_refused_changes_nothing(tmp_path, fake_systemctl):
    units = tmp_path / "units"
    units.mkdir()
    (units / "assistant.service").write_text("# mine\n")
    r = _run(["service", "install", "--unit-dir", str(units), "--executable", EXE], input="n\n")
    assert r.exit_code == 1
    assert "replaces the existing file" in r.output
    assert (units / "assistant.service").read_text() == "# mine\n"
    assert not fake_systemctl.exists()


def test_confirmation_accepted(tmp_path, fake_systemctl, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    units = tmp_path / "units"
    r = _run(["service", "install", "--unit-dir", str(units), "--executable", EXE], input="y\n")
    assert r.exit_code == 0, r.output
    assert (units / "assistant.service").exists()


def test_system_install_creates_account_file_and_runs_sysusers(tmp_path, fake_systemctl):
    units = tmp_path / "units"
    r = _run(["service", "install", "--system", "--yes", "--unit-dir", str(units), "--executable", "/opt/assistant/bin/assistant"])
    assert r.exit_code == 0, r.output
    assert "User=assistant" in (units / "assistant.service").read_text()
    sysusers = units / "assistant.sysusers.conf"
    assert "m assistant audio" in sysusers.read_text()
    assert fake_systemctl.read_text().splitlines() == [
        f"systemd-sysusers {sysusers}", "systemctl daemon-reload", "systemctl enable --now assistant.service"]


def test_system_unit_refuses_paths_under_home(tmp_path):
    r = CliRunner().invoke(main, ["service", "install", "--system", "--dry-run", "--unit-dir", str(tmp_path),
                                  "--executable", "/home/me/.venv/bin/assistant"])
    assert r.exit_code == 2 and "ProtectHome" in r.output


def test_config_path_is_baked_in_and_must_exist(tmp_path):
    cfg = tmp_path / "my config.toml"
    r = _run(["--config", str(cfg), "service", "install", "--dry-run", "--unit-dir", str(tmp_path), "--executable", EXE])
    assert r.exit_code == 2 and "config file not found" in r.output
    cfg.write_text("[tts]\nvoice = 'nova'\n")
    r = _run(["--config", str(cfg), "service", "install", "--dry-run", "--unit-dir", str(tmp_path), "--executable", EXE])
    assert r.exit_code == 0, r.output
    assert f'Environment="ASSISTANT_CONFIG={cfg}"' in r.output


def test_images_output_dir_becomes_writable(tmp_path):
    cfg = Config(images=ImagesConfig(output_dir="/srv/pictures"))
    plan = plan_install("user", cfg, exec_path=EXE, unit_dir=tmp_path, home=tmp_path / "home")
    assert "ReadWritePaths=-/srv/pictures" in plan.writes[-1].text
    assert Path("/srv/pictures") in plan.dirs
    with pytest.raises(UserError):
        plan_install("system", Config(images=ImagesConfig(output_dir="/home/u/pics")), exec_path=EXE, unit_dir=tmp_path)


def test_bad_config_is_a_one_line_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[tts]\nspeed = 9\n")
    r = CliRunner().invoke(main, ["--config", str(cfg), "service", "install", "--dry-run", "--unit-dir", str(tmp_path)])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "tts.speed" in r.output


def test_uninstall(tmp_path, fake_systemctl):
    units = tmp_path / "units"
    r = CliRunner().invoke(main, ["service", "uninstall", "--yes", "--unit-dir", str(units)])
    assert r.exit_code == 2 and "no unit installed" in r.output
    units.mkdir()
    (units / "assistant.service").write_text("x")
    r = _run(["service", "uninstall", "--yes", "--unit-dir", str(units)])
    assert r.exit_code == 0, r.output
    assert not (units / "assistant.service").exists()
    assert fake_systemctl.read_text().splitlines() == [
        "systemctl --user disable --now assistant.service", "systemctl --user daemon-reload"]


def test_status_shows_systemctl_output(tmp_path, fake_systemctl, monkeypatch):
    r = _run(["service", "status", "--unit-dir", str(tmp_path)])
    assert r.exit_code == 0 and "Active: active (running)" in r.output
    assert "not installed" in r.output
    monkeypatch.setenv("FAKE_STATUS_RC", "3")
    assert _run(["service", "status", "--system", "--unit-dir", str(tmp_path)]).exit_code == 3
    assert "systemctl status --no-pager --lines=10 assistant.service" in fake_systemctl.read_text()


def test_status_without_systemd(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no systemctl at all
    r = _run(["service", "status", "--unit-dir", str(tmp_path)])
    assert r.exit_code == 1 and "systemd is not available on this machine" in r.output


def test_status_when_no_manager_runs(tmp_path, fake_systemctl):
    def run(cmd):
        return subprocess.CompletedProcess(cmd, 1, "", "System has not been booted with systemd as init system (PID 1). Can't operate.\n")

    code, text = status("system", unit_dir=tmp_path, run=run)
    assert code == 1 and "systemd is not running here" in text


def test_apply_without_systemctl_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    r = CliRunner().invoke(main, ["service", "install", "--yes", "--unit-dir", str(tmp_path / "u"), "--executable", EXE])
    assert r.exit_code == 1 and "systemctl not found" in r.output
    assert (tmp_path / "u" / "assistant.service").exists()


def test_find_executable(tmp_path, monkeypatch):
    script = tmp_path / "assistant"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert find_executable(str(script)) == str(script)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_executable("/usr/lib/python3/pytest") == str(script)
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    with pytest.raises(UserError):
        find_executable("python")


@pytest.mark.skipif(not Path(EXE).exists(), reason="console script not installed")
def test_real_command_renders_its_own_path(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    r = subprocess.run([EXE, "service", "install", "--dry-run", "--unit-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"ExecStart={EXE} run" in r.stdout


def test_system_install_gives_created_dirs_to_the_service_user(tmp_path, fake_systemctl):
    """Issue 17 #7: a custom images.output_dir was left to root 0700, unwritable for `assistant`."""
    from assistant.service.install import apply, describe

    pictures = tmp_path / "srv" / "assistant" / "pictures"
    cfg = Config(images=ImagesConfig(output_dir=str(pictures)))
    plan = plan_install("system", cfg, exec_path="/opt/assistant/bin/assistant", unit_dir=tmp_path / "units")
    assert plan.owner == "assistant"
    assert f"create directory {pictures} (0700, owned by assistant)" in describe(plan)
    events = []
    apply(plan, run=lambda cmd: (events.append(("run", cmd[0], cmd[-1])), subprocess.CompletedProcess(cmd, 0, "", ""))[1],
          echo=lambda line: None, chown=lambda p, uid, gid: events.append(("chown", p, uid, gid)),
          lookup=lambda name: {"assistant": (981, 29)}[name])
    chowned = [e[1] for e in events if e[0] == "chown"]
    assert chowned == [tmp_path / "srv", tmp_path / "srv" / "assistant", pictures]  # all it created, no more
    assert all(e[2:] == (981, 29) for e in events if e[0] == "chown")
    order = [e[0] if e[0] == "chown" else e[1] for e in events]
    # after systemd-sysusers made the user, before systemctl starts the service
    assert order.index("systemd-sysusers") < order.index("chown") < order.index("systemctl")
    assert stat.S_IMODE(pictures.stat().st_mode) == 0o700


def test_system_install_leaves_existing_dirs_alone(tmp_path, fake_systemctl):
    from assistant.service.install import apply

    pictures = tmp_path / "pictures"
    pictures.mkdir()
    plan = plan_install("system", Config(images=ImagesConfig(output_dir=str(pictures))),
                        exec_path="/opt/assistant/bin/assistant", unit_dir=tmp_path / "units")
    calls = []
    apply(plan, run=lambda cmd: subprocess.CompletedProcess(cmd, 0, "", ""), echo=lambda line: None,
          chown=lambda *a: calls.append(a), lookup=lambda name: (981, 29))
    assert calls == []


def test_user_install_chowns_nothing(tmp_path, fake_systemctl, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    plan = plan_install("user", Config(), exec_path=EXE, unit_dir=tmp_path / "units", home=tmp_path / "home")
    assert plan.owner == ""
