"""`ringcast asterisk config` and the lab commands' one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import run


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RINGCAST_LAB__CACHE_DIR", str(tmp_path / "lab"))
    monkeypatch.setenv("RINGCAST_AMI__SECRET", "s3cret")


def test_asterisk_config_writes_the_snippets(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(["asterisk", "config", "--out", str(out), "--trunk-host", "192.0.2.7"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "confbridge_ringcast.conf",
        "extensions_ringcast.conf",
        "manager_ringcast.conf",
        "pjsip_ringcast.conf",
    ]
    assert "secret=s3cret" in (out / "manager_ringcast.conf").read_text()
    assert (out / "manager_ringcast.conf").stat().st_mode & 0o777 == 0o600
    assert "contact=sip:192.0.2.7:5060" in (out / "pjsip_ringcast.conf").read_text()


def test_lab_up_needs_root(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert run(["lab", "up"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: the Asterisk lab needs root (debootstrap, chroot) (run it as root, e.g. with sudo)"
    )


def test_status_of_a_lab_never_built(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["lab", "status"]) == 0
    out = capsys.readouterr().out
    assert f"root: {tmp_path / 'lab' / 'sid-root'} (not built yet" in out
    assert out.count("stopped") == 2


def test_logs_of_an_unknown_instance(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lab", "logs", "router"]) == 2
    assert "no lab instance 'router' (use one of: pbx, carrier)" in capsys.readouterr().err
