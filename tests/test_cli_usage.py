"""A wrong flag, a value of the wrong type, a directory where a file goes: one line on stderr
and exit 2, like every other bad input (click's own form was four lines: usage, a hint, a blank
line and the error)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from assistant.cli import main


@pytest.mark.parametrize("args,needle", [
    (["say", "hi", "--speed", "abc"], "'abc' is not a valid float"),
    (["listen", "--rate", "x"], "'x' is not a valid integer"),
    (["run", "--input-format", "bogus"], "'bogus' is not one of"),
    (["config", "show", "--nonsense"], "No such option '--nonsense'"),
    (["nosuchcommand"], "No such command"),
    (["draw"], "Missing argument 'PROMPT'"),
    (["stats", "--history", "."], "is a directory"),
    (["--config", ".", "config", "show"], "is a directory"),
])
def test_usage_errors_are_one_line_and_exit_2(args, needle):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
    assert "--help" in lines[0]


def test_help_is_still_help():
    result = CliRunner().invoke(main, ["say", "--help"])
    assert result.exit_code == 0 and result.output.startswith("Usage: ")
