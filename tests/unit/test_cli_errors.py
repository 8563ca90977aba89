"""The CLI turns every failure into one line and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

import cli.main
from cli.main import run


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("RINGCAST_CONFIG", raising=False)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path))
    return tmp_path


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["nosuch"]) == 2
    assert capsys.readouterr().err == "error: No such command 'nosuch'.\n"
    assert run(["db", "upgrade", "--bogus"]) == 2
    assert capsys.readouterr().err == "error: No such option: --bogus\n"


def test_a_bug_is_one_line_with_the_traceback_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    broken = typer.Typer()

    @broken.command()
    def explode() -> None:
        raise RuntimeError("boom")

    @broken.callback()
    def main() -> None:
        cli.main.main(verbose=False)

    monkeypatch.setattr(cli.main, "app", broken)
    assert run(["explode"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: boom" in err
    assert "Traceback" in (data_dir / "ringcast.log").read_text()
