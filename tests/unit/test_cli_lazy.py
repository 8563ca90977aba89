"""The root command loads a sub-command's module only when that command is used (`cli.lazy`), and
still lists every command, in order, with its help."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cli.main import COMMANDS, run

PROBE = """
import sys
from cli.main import run
code = run(sys.argv[1:])
heavy = ("sqlalchemy", "matplotlib", "fastapi")
root = ("cli.main", "cli.lazy")
commands = sorted(name for name in sys.modules if name.startswith("cli.") and name not in root)
print(code, *commands, *(name for name in heavy if name in sys.modules))
"""


def loaded_after(*args: str) -> list[str]:
    """The exit code of `ringcast ARGS` in a fresh process, then the command modules and the heavy
    libraries it imported."""
    probe = [sys.executable, "-c", PROBE, *args]
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.splitlines()[-1].split()


def test_a_command_imports_its_own_module_and_no_other() -> None:
    assert loaded_after("db", "--help") == ["0", "cli.db", "sqlalchemy"]


def test_the_root_help_imports_no_command_module_and_no_database_code() -> None:
    assert loaded_after("--help") == ["0"]


def test_the_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ")]
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)
    shown = " ".join(out.replace("│", " ").split())
    for name, lazy in COMMANDS.items():
        assert f"{name} {' '.join(lazy.summary.split())}" in shown


def test_a_mistyped_command_gets_a_suggestion_from_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["campain", "list"]) == 2
    assert "Did you mean 'campaign'?" in capsys.readouterr().err


def test_a_group_that_takes_commands_from_another_module_has_them_every_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(2):  # a second run in the same process: registered once, still there
        assert run(["campaign", "--help"]) == 0
        listed = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("│ ")]
        assert {"create", "status", "why"} <= set(listed)


def test_each_command_shows_its_summary_from_the_table_as_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, lazy in COMMANDS.items():
        assert run([name, "--help"]) == 0, name
        shown = " ".join(capsys.readouterr().out.replace("│", " ").split())
        assert " ".join(lazy.summary.split()) in shown, name


def test_a_group_given_no_command_shows_its_help_and_no_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for args in ([], ["dnc"]):
        assert run(args) == 2  # click's usage-error code, which its "no arguments: help" error keeps
        out, err = capsys.readouterr()
        assert "Usage: " in out and "COMMAND [ARGS]" in out and err == "", args


def test_without_rich_a_group_given_no_command_prints_its_help_and_no_error_line() -> None:
    plain = {**os.environ, "TYPER_USE_RICH": "0"}
    probe = [sys.executable, "-c", "import sys; from cli.main import run; sys.exit(run(['dnc']))"]
    done = subprocess.run(probe, capture_output=True, text=True, env=plain)
    assert done.returncode == 2 and done.stderr == ""
    assert "Usage: " in done.stdout and "Manage the do-not-call list" in done.stdout
