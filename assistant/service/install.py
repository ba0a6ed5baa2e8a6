"""`assistant service install|uninstall|status`: plan first (pure), then apply (files, systemctl).

The plan is shown to the user before anything happens; ``--dry-run`` stops there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..config import Config
from ..errors import AssistantError, UserError
from ..paths import atomic_path, ensure_private_dir, missing_dirs
from .units import SERVICE_USER, SYSUSERS, USER_WRITABLE, Scope, UnitSpec, extra_write_paths, render_unit, unit_name

# The system unit sees none of these (ProtectHome=yes).
_HIDDEN_FROM_SYSTEM = ("/home/", "/root/", "/run/user/")


@dataclass(frozen=True)
class FileWrite:
    path: Path
    text: str
    mode: int = 0o644

    def state(self) -> str:
        if not self.path.exists():
            return "new"
        try:
            same = self.path.read_text("utf-8") == self.text
        except OSError:
            same = False
        return "unchanged" if same else "replaces the existing file"


@dataclass(frozen=True)
class Plan:
    scope: Scope
    unit_path: Path
    writes: tuple[FileWrite, ...] = ()
    removes: tuple[Path, ...] = ()
    dirs: tuple[Path, ...] = ()  # created 0700
    owner: str = ""  # the service user the created dirs are given to (system unit), "" = us
    commands: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = field(default=())


def systemctl(scope: Scope, *args: str) -> tuple[str, ...]:
    return ("systemctl", "--user", *args) if scope == "user" else ("systemctl", *args)


def default_unit_dir(scope: Scope) -> Path:
    env = os.environ.get("ASSISTANT_UNIT_DIR")
    if env:
        return Path(env)
    if scope == "system":
        return Path("/etc/systemd/system")
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"


def find_executable(argv0: str | None = None) -> str:
    """Absolute path of the installed `assistant` command (the one running, else the one on PATH)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    candidate = Path(argv0)
    if candidate.name == "assistant" and candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate.absolute())
    found = shutil.which("assistant")
    if found:
        return str(Path(found).absolute())
    raise UserError("cannot find the `assistant` command; install the package (pip/pipx) so it is on PATH")


def _hidden_from_system(path: str) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p) for p in _HIDDEN_FROM_SYSTEM)


def plan_install(
    scope: Scope,
    cfg: Config,
    *,
    exec_path: str,
    unit_dir: Path | None = None,
    config_path: str | None = None,
    home: Path | None = None,
    command: str = "run",
) -> Plan:
    """Everything `service install` would do, without doing any of it."""
    home = home or Path.home()
    if not Path(exec_path).is_absolute():
        raise UserError(f"the assistant executable must be an absolute path: {exec_path}")
    if config_path:
        config_path = str(Path(config_path).expanduser().absolute())
        if not Path(config_path).is_file():
            raise UserError(f"config file not found: {config_path}")
    wanted = [os.path.expanduser(cfg.images.output_dir)] if cfg.images.output_dir else []
    if cfg.service.history:
        wanted.append(str(Path(os.path.expanduser(cfg.service.history)).parent))
    if scope == "system":
        for what, path in (("executable", exec_path), ("config file", config_path or ""), *(("directory", w) for w in wanted)):
            if path and _hidden_from_system(path):
                raise UserError(
                    f"the system unit cannot see the {what} {path} (ProtectHome=yes); install the package "
                    "system-wide (e.g. a venv in /opt/assistant) and keep config in /etc/assistant, or use --user")
    extra = extra_write_paths(wanted, scope, str(home))
    unit_dir = unit_dir or default_unit_dir(scope)
    unit_path = unit_dir / unit_name(command)
    text = render_unit(UnitSpec(scope, exec_path, config_path, extra, command))
    writes = [FileWrite(unit_path, text)]
    dirs: list[Path] = []
    commands: list[tuple[str, ...]] = []
    notes: list[str] = []
    owner = ""
    if scope == "user":
        dirs = [Path(p.replace("%h", str(home))) for p in USER_WRITABLE]
        dirs += [Path(p) for p in extra]
        notes.append("to start at boot without logging in: loginctl enable-linger $USER")
        notes.append(f"API key (optional): put it in {home}/.config/assistant/openai_api_key (mode 0600)")
    else:
        # the account (user `assistant` in group audio); beside the unit when --unit-dir is given
        sysusers = (Path("/etc/sysusers.d/assistant.conf") if unit_dir == Path("/etc/systemd/system")
                    else unit_dir / "assistant.sysusers.conf")
        writes.insert(0, FileWrite(sysusers, SYSUSERS))
        commands.append(("systemd-sysusers", str(sysusers)))
        dirs = [Path(p) for p in extra]
        notes.append("API key (optional): install -m 0600 key.txt /etc/credstore/openai_api_key")
        owner = SERVICE_USER
    commands.append(systemctl(scope, "daemon-reload"))
    commands.append(systemctl(scope, "enable", "--now", unit_name(command)))
    return Plan(scope, unit_path, tuple(writes), (), tuple(dirs), owner, tuple(commands), tuple(notes))


def plan_uninstall(scope: Scope, *, unit_dir: Path | None = None, command: str = "run") -> Plan:
    unit_path = (unit_dir or default_unit_dir(scope)) / unit_name(command)
    if not unit_path.exists():
        raise UserError(f"no unit installed at {unit_path}")
    commands = (systemctl(scope, "disable", "--now", unit_name(command)), systemctl(scope, "daemon-reload"))
    notes = ("data, history and the API key file are kept",)
    return Plan(scope, unit_path, removes=(unit_path,), commands=commands, notes=notes)


def describe(plan: Plan) -> str:
    lines = []
    for d in plan.dirs:
        owned = f", owned by {plan.owner}" if plan.owner else ""
        lines.append(f"create directory {d} (0700{owned})" + (" [exists]" if d.is_dir() else ""))
    for w in plan.writes:
        lines.append(f"write {w.path} ({w.state()})")
    for r in plan.removes:
        lines.append(f"remove {r}")
    for c in plan.commands:
        lines.append("run   " + " ".join(c))
    for n in plan.notes:
        lines.append("note: " + n)
    return "\n".join(lines)


Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)


def apply(plan: Plan, *, run: Runner = _run, echo: Callable[[str], None] = print,
          chown: Callable[[Path, int, int], None] = os.chown,
          lookup: Callable[[str], tuple[int, int]] | None = None) -> None:
    """Create dirs, write files atomically, remove files, then run the commands in order.

    With ``plan.owner`` (the system unit) the directories this created are given to that user
    once `systemd-sysusers` has made it, before the service is started."""
    created: list[Path] = []
    for d in plan.dirs:
        created += [p for p in missing_dirs(d) if p not in created]
        ensure_private_dir(d)
        os.chmod(d, 0o700)
    for w in plan.writes:
        if w.state() == "unchanged":
            continue
        w.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(w.path, mode=w.mode) as tmp:
            tmp.write_text(w.text, "utf-8")
        echo(f"wrote {w.path}")
    for r in plan.removes:
        r.unlink(missing_ok=True)
        echo(f"removed {r}")
    pending_chown = bool(plan.owner and created)
    for cmd in plan.commands:
        if pending_chown and cmd[0] == "systemctl":
            _give(created, plan.owner, chown, lookup or _user_ids, echo)
            pending_chown = False
        if shutil.which(cmd[0]) is None:
            raise AssistantError(f"{cmd[0]} not found: systemd is not available here; the files are written, "
                                 f"run `{' '.join(cmd)}` where systemd runs")
        try:
            result = run(cmd)
        except (OSError, subprocess.SubprocessError) as exc:
            raise AssistantError(f"`{' '.join(cmd)}` failed: {exc}") from None
        if result.returncode != 0:
            why = (result.stderr or result.stdout or "").strip().splitlines()
            raise AssistantError(f"`{' '.join(cmd)}` failed (exit {result.returncode})" + (f": {why[-1]}" if why else ""))
        echo("ran   " + " ".join(cmd))
    if pending_chown:
        _give(created, plan.owner, chown, lookup or _user_ids, echo)


def _user_ids(name: str) -> tuple[int, int]:
    import pwd  # noqa: PLC0415 - POSIX only

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise AssistantError(f"user {name!r} does not exist (systemd-sysusers should have made it); "
                             "the directories are left to root") from None
    return entry.pw_uid, entry.pw_gid


def _give(dirs: list[Path], owner: str, chown: Callable[[Path, int, int], None],
          lookup: Callable[[str], tuple[int, int]], echo: Callable[[str], None]) -> None:
    uid, gid = lookup(owner)
    for d in dirs:
        try:
            chown(d, uid, gid)
        except OSError as exc:
            raise AssistantError(f"cannot give {d} to {owner}: {exc.strerror or exc}") from None
        echo(f"chown {owner} {d}")


_NO_SYSTEMD = ("has not been booted with systemd", "Failed to connect to bus", "Failed to connect to user scope bus",
               "No medium found", "$DBUS_SESSION_BUS_ADDRESS")


def status(scope: Scope, *, unit_dir: Path | None = None, run: Runner = _run, command: str = "run") -> tuple[int, str]:
    """(exit code, text): systemctl's status, or one clear sentence when systemd is not there."""
    unit_path = (unit_dir or default_unit_dir(scope)) / unit_name(command)
    where = f"unit file: {unit_path}" + ("" if unit_path.exists() else " (not installed: assistant service install)")
    if shutil.which("systemctl") is None:
        return 1, f"{where}\nsystemd is not available on this machine (no systemctl); run `assistant run` in the foreground."
    try:
        result = run(systemctl(scope, "status", "--no-pager", "--lines=10", unit_name(command)))
    except (OSError, subprocess.SubprocessError) as exc:
        return 1, f"{where}\ncould not run systemctl: {exc}"
    out = (result.stdout or "") + (result.stderr or "")
    if result.returncode not in (0, 3) and any(s in out for s in _NO_SYSTEMD):
        manager = "the user's systemd instance" if scope == "user" else "systemd"
        return 1, f"{where}\n{manager} is not running here (no service manager to ask); run `assistant run` in the foreground."
    if result.returncode == 4:
        return 3, f"{where}\nthe service is not installed."
    return (0 if result.returncode == 0 else 3), f"{where}\n{out.rstrip()}"
