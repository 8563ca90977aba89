"""The root command loads a sub-command's module only when that command is used (`cli.lazy`), and
still lists every command, in order, with its help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cli.main import COMMANDS, run

PROBE = """
import sys
from cli.main import run
code = run(["db", "--help"])
others = ("cli.sms", "cli.report", "cli.serve", "matplotlib", "fastapi")
print(code, *(name in sys.modules for name in others))
"""


def test_a_command_imports_its_own_module_and_no_other() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.split()[-6:] == ["0", "False", "False", "False", "False", "False"], out


def test_the_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    listed = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("│ ")]
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)


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
