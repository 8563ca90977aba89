"""`ringcast db upgrade` and `ringcast db status`, end to end through the CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.persistence.db import head_revision
from cli.main import run
from ringcast.settings import mask_url

pytestmark = pytest.mark.db


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.delenv("RINGCAST_CONFIG", raising=False)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_upgrade_then_status(
    use_database: pytest.MonkeyPatch, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    use_database.setenv("RINGCAST_DATABASE__URL", empty_database_url)
    shown = mask_url(empty_database_url)

    assert run(["db", "status"]) == 2
    captured = capsys.readouterr()
    assert captured.out == f"database: {shown}\ncurrent:  none\nhead:     {head_revision()}\n"
    not_migrated = f"database {shown} is not migrated (at none, needs {head_revision()})"
    assert captured.err == f"error: {not_migrated} (run `ringcast db upgrade`)\n"

    assert run(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database {shown} upgraded from none to {head_revision()}\n"

    assert run(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database {shown} is already at {head_revision()}\n"

    assert run(["db", "status"]) == 0
    assert capsys.readouterr().out.endswith("status:   up to date\n")


def test_unreachable_server_exits_2_with_one_line(
    use_database: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_database.setenv("RINGCAST_DATABASE__URL", "postgresql://ringcast:Sup3r-Secret@127.0.0.1:1/ringcast")
    assert run(["db", "upgrade"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "error: cannot connect to database postgresql://ringcast:***@127.0.0.1:1/ringcast: "
    )
    assert captured.err.count("\n") == 1
    assert "Sup3r-Secret" not in captured.err
