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
