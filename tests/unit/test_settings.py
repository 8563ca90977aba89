"""Settings layers (defaults < file < environment < overrides) and secret masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import run
from ringcast.errors import UserError
from ringcast.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("RINGCAST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))


def test_layers_file_then_environment_then_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "ringcast.toml"
    config.write_text('default_region = "US"\n[ami]\nport = 6000\nusername = "fromfile"\n')
    monkeypatch.setenv("RINGCAST_CONFIG", str(config))
    monkeypatch.setenv("RINGCAST_AMI__PORT", "7000")
    settings = load_settings()
    assert (settings.default_region, settings.ami.port, settings.ami.username) == ("US", 7000, "fromfile")
    assert load_settings(default_region="GB").default_region == "GB"


def test_sqlite_is_the_default_database(tmp_path: Path) -> None:
    assert load_settings().database_url == f"sqlite:///{tmp_path / 'data' / 'ringcast.db'}"


def test_bad_value_is_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGCAST_AMI__PORT", "not-a-port")
    with pytest.raises(UserError, match=r"invalid setting ami.port: .*RINGCAST_AMI__PORT"):
        load_settings()


def test_missing_config_file_is_a_user_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RINGCAST_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(UserError, match=r"nope\.toml not found"):
        load_settings()


def test_config_show_masks_every_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RINGCAST_AMI__SECRET", "ami-pass-123")
    monkeypatch.setenv(
        "RINGCAST_DATABASE__URL", "postgresql+psycopg://ringcast:db-pass-456@db.example/ringcast"
    )
    assert run(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert "ami-pass-123" not in out and "db-pass-456" not in out
    data = json.loads(out)
    assert data["ami"]["secret"] == "***"
    assert data["database"]["url"] == "postgresql+psycopg://ringcast:***@db.example/ringcast"
    assert "ami-pass-123" not in repr(load_settings())


def test_ami_secret_falls_back_to_the_labs(tmp_path: Path) -> None:
    settings = load_settings(lab={"cache_dir": tmp_path})
    with pytest.raises(UserError, match="no AMI secret configured"):
        settings.ami_secret()
    (tmp_path / "ami-secret").write_text("generated\n")
    assert settings.ami_secret() == "generated"
