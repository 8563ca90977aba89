"""The one settings object, in layers: defaults < TOML file < `RINGCAST_*` environment < command line.

Nested groups use a double underscore in the environment (`RINGCAST_AMI__PORT=5039`).
The TOML file is `$RINGCAST_CONFIG` if set, else `~/.config/ringcast/ringcast.toml`
when it exists. Secrets are `SecretStr`: they print as `**********` in reprs, logs and
tracebacks, and `masked()` hides the password inside the database URL too.

`prompts` says where survey prompts rendered as sound files go (`dialer.asterisk.prompts`):
`local_dir` is where ringcast writes them, `pbx_dir` the same directory as Asterisk names it (an
absolute path). Unset, they follow the lab, whose Asterisk runs chrooted in its Debian root:
`pbx_dir` is `/var/lib/ringcast/prompts` (or `local_dir` itself when only that is set) and
`local_dir` is `pbx_dir` inside the lab's root (`<lab.cache_dir>/<lab.suite>-root`). For an
Asterisk on this machine outside the lab, set `local_dir` alone; on another machine sharing the
directory, set both. `pbx_spool_dir` is the pbx's spool directory as this machine sees it, where
the engine reads voicemail recordings (unset: the lab pbx's, inside the lab's root).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from campaigns.persistence.models.enums import CompliancePreset
from ringcast.errors import UserError
from sms.providers.config import SmsProviderSettings

DEFAULT_CONFIG_FILE = Path("~/.config/ringcast/ringcast.toml").expanduser()
DEFAULT_DATA_DIR = Path("~/.local/share/ringcast").expanduser()
LAB_CACHE_DIR = Path("/var/cache/ringcast/lab")


class AmiSettings(BaseModel):
    """Where the engine's AMI link connects, and how patiently."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "ringcast"
    secret: SecretStr | None = None
    action_timeout_s: float = 5.0
    connect_timeout_s: float = 5.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 10.0


class FastAgiSettings(BaseModel):
    """The FastAGI server the engine runs; the dialplan points `AGI(agi://host:port/route)` at it."""

    host: str = "127.0.0.1"
    port: int = 4574


class ApiSettings(BaseModel):
    """The engine's local control API (CLI, web console, agents); every request carries the token."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: SecretStr | None = None  # None: generated once and kept in data_dir/api-token


class LabSettings(BaseModel):
    """The Asterisk lab: a cached Debian unstable root and two instances (pbx, carrier)."""

    cache_dir: Path = LAB_CACHE_DIR
    suite: str = "sid"
    mirror: str | None = None  # None: taken from this machine's apt sources
    pbx_address: str = "127.0.0.1"
    pbx_sip_port: int = 5060
    pbx_ami_port: int = 5038
    pbx_rtp_ports: tuple[int, int] = (10000, 14999)
    carrier_address: str = "127.0.0.2"
    carrier_sip_port: int = 5060
    carrier_ami_port: int = 5038
    carrier_rtp_ports: tuple[int, int] = (15000, 19999)
    boot_timeout_s: float = 30.0


class PromptSettings(BaseModel):
    """Where survey prompts are written as sound files, and that directory's name for Asterisk."""

    local_dir: Path | None = None  # None: pbx_dir inside the lab's root
    pbx_dir: str | None = Field(default=None, pattern=r"^/")  # None: local_dir, else the lab's


class SmsSettings(BaseModel):
    """SMS providers and how the outbox sender works (`sms.*`; see `sms.sender`)."""

    providers: dict[str, SmsProviderSettings] = Field(default_factory=dict)
    default_provider: str | None = None  # None: the only provider configured
    preset: CompliancePreset = CompliancePreset.CN  # marketing rules when a message names none
    sign: str | None = None  # the sender's name marketing messages carry (签名), when a message names none
    opt_out_keywords: list[str] = Field(
        default_factory=lambda: ["STOP", "UNSUBSCRIBE", "TD", "T", "退订", "N"], min_length=1
    )
    batch_size: int = Field(default=500, ge=1, le=10_000)  # messages claimed at a time
    claim_s: float = Field(default=120.0, gt=0)  # a claim left longer than this was its sender's last
    poll_s: float = Field(default=0.5, gt=0)  # how often an idle sender looks for due messages
    max_segments: int = Field(default=10, ge=1)  # a longer text is refused
    retry_base_s: float = Field(default=2.0, gt=0)  # the first retry's back-off (doubling, with jitter)


class DatabaseSettings(BaseModel):
    """SQLite file by default (WAL mode); any SQLAlchemy URL, e.g. `postgresql+psycopg://...`."""

    url: SecretStr | None = None

    def resolved_url(self, data_dir: Path) -> str:
        if self.url is not None:
            return self.url.get_secret_value()
        return f"sqlite:///{data_dir / 'ringcast.db'}"


class Settings(BaseSettings):
    """Everything ringcast can be told. Build it with `load_settings()`."""

    model_config = SettingsConfigDict(
        env_prefix="RINGCAST_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = DEFAULT_DATA_DIR
    default_region: str = "CN"
    log_level: str = "INFO"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ami: AmiSettings = Field(default_factory=AmiSettings)
    fastagi: FastAgiSettings = Field(default_factory=FastAgiSettings)
    lab: LabSettings = Field(default_factory=LabSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    prompts: PromptSettings = Field(default_factory=PromptSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    trunks: list[str] = Field(default_factory=lambda: ["carrier"])  # PJSIP endpoints campaigns may dial on
    drain_s: float = Field(default=60.0, ge=0)  # on stop: how long calls in progress may go on
    pbx_spool_dir: Path | None = None  # the pbx's spool directory here (voicemail); None: the lab pbx's

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def database_url(self) -> str:
        return self.database.resolved_url(self.data_dir)

    def ami_secret(self) -> str:
        """The AMI secret: configured, else the one the lab generated, else a clear error."""
        if self.ami.secret is not None:
            return self.ami.secret.get_secret_value()
        lab_secret = self.lab.cache_dir / "ami-secret"
        if lab_secret.exists():
            return lab_secret.read_text().strip()
        raise UserError(
            "no AMI secret configured",
            hint="set RINGCAST_AMI__SECRET, or run `ringcast lab up` to use the lab's",
        )

    def api_token(self) -> str:
        """The control API's token: configured, else the one kept in `data_dir` (created on first use)."""
        if self.api.token is not None:
            return self.api.token.get_secret_value()
        path = self.data_dir / "api-token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24) + "\n")
        return path.read_text().strip()

    @property
    def api_url(self) -> str:
        return f"http://{self.api.host}:{self.api.port}"

    def masked(self) -> dict[str, Any]:
        """The effective configuration as plain data, every secret replaced by `***`."""
        data = self.model_dump(mode="json")
        data["database"]["url"] = mask_url(self.database_url)
        data["ami"]["secret"] = "***" if self.ami.secret is not None else None
        data["api"]["token"] = "***" if self.api.token is not None else None
        for name, provider in self.sms.providers.items():
            for field_name, value in provider:
                if isinstance(value, SecretStr):
                    data["sms"]["providers"][name][field_name] = "***"
        return data


def mask_url(url: str) -> str:
    """A database URL with its password hidden, for logs and `config show`."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "***"


def _config_file() -> Path | None:
    explicit = os.environ.get("RINGCAST_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UserError(f"config file {path} not found", hint="fix RINGCAST_CONFIG or create the file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Settings from every layer; `overrides` (the command line) win. Errors become one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise UserError(
            f"invalid setting {field}: {first['msg']}",
            hint=f"check RINGCAST_{field.upper().replace('.', '__')} or the config file",
        ) from None
    except ValueError as exc:  # TOML syntax errors
        raise UserError(f"cannot read the config file: {exc}") from None
