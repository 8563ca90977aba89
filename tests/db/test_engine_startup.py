"""`ringcast serve` refuses an unmigrated database before it touches Asterisk."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.persistence.db import head_revision
from cli.main import run
from ringcast.settings import mask_url

pytestmark = pytest.mark.db


def test_serve_on_unmigrated_database_says_which_command_to_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    empty_database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("RINGCAST_CONFIG", raising=False)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RINGCAST_DATABASE__URL", empty_database_url)
    monkeypatch.setenv("RINGCAST_AMI__SECRET", "unused")
    monkeypatch.setenv("RINGCAST_AMI__PORT", "1")  # nothing listens: the check must come first

    assert run(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: database {mask_url(empty_database_url)} is not migrated (at none, needs {head_revision()}) "
        "(run `ringcast db upgrade`)\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["dnc", "check", "13900139000"],
        ["blacklist", "add", "13900139000", "--reason", "test"],
        ["list", "ls"],
        ["import", "/work/nonexistent.csv", "--list", "x"],
    ],
)
def test_commands_on_unmigrated_database_say_which_command_to_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    empty_database_url: str,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    monkeypatch.delenv("RINGCAST_CONFIG", raising=False)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RINGCAST_DATABASE__URL", empty_database_url)
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.endswith(
        "is not migrated (at none, needs 0002) (run `ringcast db upgrade`)\n".replace("0002", head_revision())
    )
