"""`assistant service install|uninstall|status` and `assistant doctor`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import UserError
from .common import get_config

_scope_options = [
    click.option("--user", "scope", flag_value="user", default=True, help="The user unit (default; runs in your session)."),
    click.option("--system", "scope", flag_value="system", help="The system unit (dedicated user `assistant`, needs root)."),
    click.option("--unit-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Write/read the unit here instead of the systemd directory ($ASSISTANT_UNIT_DIR)."),
    click.option("--serve", "command", flag_value="serve", default="run",
                 help="The server unit assistant-serve.service (`assistant serve`: Wyoming, no microphone)."),
]


def _with_scope(fn):
    for opt in reversed(_scope_options):
        fn = opt(fn)
    return fn


def _config_path() -> str | None:
    root = click.get_current_context().find_root()
    return root.params.get("config_path") or os.environ.get("ASSISTANT_CONFIG") or None


def _needs_root(scope: str, unit_dir: Path | None, dry_run: bool) -> None:
    if scope == "system" and not dry_run and unit_dir is None and not os.environ.get("ASSISTANT_UNIT_DIR") \
            and os.geteuid() != 0:
        raise UserError("--system writes to /etc: run it with sudo (or try --dry-run first)")


def _confirm_and_apply(plan, yes: bool) -> None:
    """Ask (unless --yes), then carry out the plan; "no" exits 1 with nothing done."""
    from ..service.install import apply

    if not _confirm("Proceed?", yes):
        click.echo("nothing done", err=True)
        sys.exit(1)
    apply(plan, echo=click.echo)


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    try:
        return click.confirm(question, default=False)
    except click.Abort:  # no terminal / EOF
        click.echo("", err=True)
        return False


@click.group("service", short_help="Install, inspect or remove the systemd service.")
def service_group() -> None:
    """Run the assistant as a systemd service: install, status, uninstall."""


@service_group.command("install", short_help="Write, enable and start the unit (shows the plan first).")
@_with_scope
@click.option("--yes", "-y", is_flag=True, help="Do it without asking.")
@click.option("--dry-run", is_flag=True, help="Only print what would be done.")
@click.option("--executable", default=None, help="Path of the `assistant` command for ExecStart (default: this one).")
def install_cmd(scope, unit_dir, command, yes, dry_run, executable):
    """Write the unit, reload systemd and enable + start the service (shows the plan first)."""
    from ..service.install import describe, find_executable, plan_install

    cfg = get_config()
    _needs_root(scope, unit_dir, dry_run)
    exec_path = str(Path(executable).absolute()) if executable else find_executable()
    staging = dry_run or unit_dir is not None or bool(os.environ.get("ASSISTANT_UNIT_DIR"))
    if executable and not (os.path.isfile(exec_path) and os.access(exec_path, os.X_OK)):
        if not staging:  # a unit for this machine must start something that exists here
            raise UserError(f"--executable {exec_path} is not an executable file")
        click.echo(f"note: --executable {exec_path} does not exist here", err=True)
    plan = plan_install(scope, cfg, exec_path=exec_path, unit_dir=unit_dir, config_path=_config_path(),
                        command=command or "run")
    click.echo(f"assistant service install --{scope} will:")
    click.echo(describe(plan))
    if dry_run:
        click.echo(f"--- {plan.unit_path}")
        click.echo(plan.writes[-1].text.rstrip())
        click.echo("(dry run: nothing done)")
        return
    _confirm_and_apply(plan, yes)
    click.echo(f"installed: assistant service status{' --system' if scope == 'system' else ''} shows how it runs")


@service_group.command("uninstall", short_help="Stop, disable and remove the unit (data is kept).")
@_with_scope
@click.option("--yes", "-y", is_flag=True, help="Do it without asking.")
@click.option("--dry-run", is_flag=True, help="Only print what would be done.")
def uninstall_cmd(scope, unit_dir, command, yes, dry_run):
    """Stop and disable the service and remove its unit file (data and history are kept)."""
    from ..service.install import describe, plan_uninstall

    _needs_root(scope, unit_dir, dry_run)
    plan = plan_uninstall(scope, unit_dir=unit_dir, command=command or "run")
    click.echo(f"assistant service uninstall --{scope} will:")
    click.echo(describe(plan))
    if dry_run:
        click.echo("(dry run: nothing done)")
        return
    _confirm_and_apply(plan, yes)


@service_group.command("status", short_help="Show how the service runs (systemctl status).")
@_with_scope
def status_cmd(scope, unit_dir, command):
    """systemctl status of the service (or why there is no systemd to ask)."""
    from ..service.install import status

    code, text = status(scope, unit_dir=unit_dir, command=command or "run")
    click.echo(text)
    sys.exit(code)


@click.command("doctor", short_help="Check that this machine is ready: one line per check.")
@click.option("--online", is_flag=True, help="Also check that the API answers (GET /models, short timeout).")
@click.option("--deep", is_flag=True, help="Verify model hashes and actually load the local models (slow).")
def doctor_cmd(online, deep):
    """Check microphone, speaker, models, config, key, API, lingering, disk: one line each."""
    from ..service.doctor import exit_code, format_checks, run_checks

    checks = run_checks(_config_path(), online=online, deep=deep)
    click.echo(format_checks(checks))
    fails = sum(c.status == "fail" for c in checks)
    warns = sum(c.status == "warn" for c in checks)
    click.echo(f"{len(checks)} checks: {fails} failed, {warns} warnings")
    sys.exit(exit_code(checks))


COMMANDS = [service_group, doctor_cmd]
