"""What a campaign is told (CMP-1, CMP-3, CMP-5) and what the engine runs it with.

`CampaignSpec` is the input: what `ringcast campaign create|update` and the API accept, validated
field by field (a bad value is a one-line `UserError` naming the field). It takes the CLI's
spellings as well as plain values: durations as `10s`, `2h`, `1h30m` or seconds, calling hours
as `09:00-12:00,13:30-20:00`, retry rules as `no_answer=2h,busy=10m,machine=never`, lists as
`NAME[:priority[:weight]]`, dispositions as `CODE:final` or `CODE:retry[=DELAY]`. Only the fields
a caller sets count (`model_fields_set`), so an update is a spec of the changes alone.

`CampaignConfig` is the output: a frozen value with everything the engine needs to run one
campaign, compliance settings included (the preset customised by the campaign's changes; see
`campaigns.compliance.presets` for why loosening one needs an override). Pure code: no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal, NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from campaigns.compliance.destinations import PRESET_REGIONS, Home, Reach
from campaigns.compliance.hours import CallingHours, CallingWindow
from campaigns.compliance.presets import AbandonWindow, ComplianceSettings, Customised, Override, customise
from campaigns.lifecycle import Disposition, RetryRules
from campaigns.persistence.models.enums import CampaignState, CompliancePreset, DialMode
from campaigns.retention import check_retention
from campaigns.schedule import CampaignSchedule
from ringcast.errors import UserError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_CLOCK = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")
_LIST = re.compile(r"(?P<name>.+?)(?::(?P<priority>-?\d+)(?::(?P<weight>-?\d+))?)?")
_DISPOSITION = re.compile(r"(?P<code>[^:=]+):(?:(?P<final>final)|retry(?:=(?P<delay>.+))?)")
_CALLER_ID = re.compile(r"\+?\d{3,20}")
_TRUNK = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SOUND = r"/?[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"  # a sound's name, or its absolute path, without extension
_SOUNDS = re.compile(rf"{_SOUND}(&{_SOUND}){{0,9}}")
MAX_DURATION_S = 366 * 86_400
NEVER = frozenset({"never", "none"})  # no retry; no wrap-up timer
FOREVER = frozenset({"forever", "never", "none"})  # no retention: personal data kept (CMPL-6)

PRESET_TIME_ZONES: Mapping[CompliancePreset, str] = {
    CompliancePreset.CN: "Asia/Shanghai",
    CompliancePreset.US: "America/New_York",
    CompliancePreset.UK: "Europe/London",
    CompliancePreset.CUSTOM: "UTC",
}
COMPLIANCE_FIELDS = (
    "calling_hours",
    "abandon_cap",
    "abandon_window",
    "attempts_per_number_day",
    "amd_false_positive_share",
)
RetryOutcome = Literal["no_answer", "busy", "failed", "machine", "abandoned", "answered"]


def parse_duration(value: object) -> float:
    """Seconds from a number or from `90s`, `10m`, `2h`, `1d`, `1h30m` (at most a year either way)."""
    seconds = _seconds_of(value)
    if not math.isfinite(seconds) or abs(seconds) > MAX_DURATION_S:
        raise ValueError("give a duration of at most 366 days")
    return seconds


def _seconds_of(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text.replace(" ", ""):
        raise ValueError("not a duration: give seconds or e.g. 10s, 10m, 2h, 1d")
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def _duration_or_never(value: object) -> float | None:
    if value is None or str(value).strip().lower() in NEVER:
        return None
    return parse_duration(value)


def _days_or_forever(value: object) -> object:
    """`forever` (or `never`, `none`) -> None; anything else is left to the int check."""
    if isinstance(value, str) and value.strip().lower() in FOREVER:
        return None
    return value


def _duration_or_none(value: object) -> float | None:
    return None if value is None else parse_duration(value)


def _clock(text: str, window: str) -> time:
    found = _CLOCK.fullmatch(text.strip())
    if found is None or (found[1] == "24" and found[2] != "00"):
        raise ValueError(f"{window}: give times as HH:MM, e.g. 09:00-21:00")
    return time(int(found[1]) % 24, int(found[2]))


def parse_calling_hours(text: str) -> CallingHours:
    """`09:00-12:00,13:30-20:00` (local wall-clock time, every day); `00:00-24:00` is the whole day."""
    windows = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        start, dash, end = part.partition("-")
        if not dash:
            raise ValueError(f"{part}: give a window as START-END, e.g. 09:00-21:00")
        window = CallingWindow(_clock(start, part), _clock(end, part))
        if window.start == window.end and part.replace(" ", "") != "00:00-24:00":
            raise ValueError(f"{part} never opens (write 00:00-24:00 for the whole day)")
        windows.append(window)
    if not windows:
        raise ValueError("no window given, calls could never be placed")
    return CallingHours(tuple(windows))


def _calling_hours_text(value: object) -> str | None:
    if value is None:
        return None
    hours = parse_calling_hours(str(value))
    return ",".join(
        f"{window.start:%H:%M}-{'24:00' if window.end == time(0) else f'{window.end:%H:%M}'}"
        for window in hours.windows
    )


def _retry_rules(value: object) -> object:
    """`no_answer=2h,busy=10m,machine=never` -> a dict; a dict passes through."""
    if not isinstance(value, str):
        return value
    rules: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in value.split(","))):
        outcome, equals, delay = part.partition("=")
        if not equals:
            raise ValueError(f"{part}: give OUTCOME=DELAY, e.g. no_answer=2h or busy=never")
        rules[outcome.strip()] = delay.strip()
    return rules


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.utcoffset() is None:
        raise ValueError("give the time with its offset, e.g. 2026-12-01T09:00+08:00")
    return moment


def _dates(value: object) -> object:
    """`2026-10-01,2026-10-02` -> a list of dates; a list passes through."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _caller_id(number: str | None) -> str | None:
    if number is not None and not _CALLER_ID.fullmatch(number):
        raise ValueError("give the number callees see, digits with an optional +, e.g. +862088881234")
    return number


def _sounds(files: str | None) -> str | None:
    if files is not None and not (len(files) <= 200 and _SOUNDS.fullmatch(files)):
        raise ValueError(
            "give Asterisk sound files without extension, '&' between them, e.g. custom/agent&digits/at"
        )
    return files


def _trunk(name: str | None) -> str | None:
    if name is not None and not _TRUNK.fullmatch(name):
        raise ValueError("give a PJSIP endpoint name (letters, digits, _ . -)")
    return name


NonNegative = Annotated[float, Field(ge=0)]
Seconds = Annotated[NonNegative, BeforeValidator(parse_duration)]
SecondsOrNever = Annotated[NonNegative | None, BeforeValidator(_duration_or_never)]


class ListSpec(BaseModel):
    """A contact list to attach: higher `priority` dials first, `weight` shares among equals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    priority: int = 0
    weight: int = Field(default=1, ge=1)

    @staticmethod
    def fields_of(text: str) -> dict[str, str]:
        """`NAME[:priority[:weight]]` -> the fields it gives."""
        found = _LIST.fullmatch(text.strip())
        if found is None:
            raise ValueError("give NAME[:priority[:weight]], e.g. leads-2026:10:2")
        return {key: value for key, value in found.groupdict().items() if value is not None}


# The engine's own dispositions: an answered call nobody disposed of, and the ends of a broadcast
# campaign's answered calls (no agent disposes of those).
RESERVED_DISPOSITION = "undisposed"
SURVEY_COMPLETED = "survey_completed"
SURVEY_PARTIAL = "survey_partial"
MESSAGE_PLAYED = "message_played"
RESERVED_DISPOSITIONS = frozenset({RESERVED_DISPOSITION, SURVEY_COMPLETED, SURVEY_PARTIAL, MESSAGE_PLAYED})


class DispositionSpec(BaseModel):
    """A disposition to offer agents: final, or retried after `retry_after_s` (None: the retry rules')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    final: bool
    retry_after_s: SecondsOrNever = None
    label: str | None = Field(default=None, max_length=100)

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, code: str) -> str:
        if code in RESERVED_DISPOSITIONS:
            raise ValueError(f"{code!r} is reserved for the engine's own results of answered calls")
        return code

    @staticmethod
    def fields_of(text: str) -> dict[str, Any]:
        """`CODE:final` or `CODE:retry[=DELAY]` -> the fields it gives."""
        found = _DISPOSITION.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"{text}: give CODE:final or CODE:retry[=DELAY], e.g. call_back_later:retry=2h")
        return {"code": found["code"], "final": bool(found["final"]), "retry_after_s": found["delay"]}

    def disposition(self) -> Disposition:
        delay = None if self.retry_after_s is None else timedelta(seconds=self.retry_after_s)
        return Disposition(self.code, self.final, delay)


DEFAULT_DISPOSITIONS = (
    DispositionSpec(code="sale", final=True),
    DispositionSpec(code="not_interested", final=True),
    DispositionSpec(code="call_back_later", final=False),
    DispositionSpec(code="wrong_number", final=True),
)


def _fields_of_each(kind: type[ListSpec] | type[DispositionSpec], value: object) -> object:
    """Each `NAME:...` or `CODE:...` text of a list (or a lone text) as the fields it gives."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    return [kind.fields_of(item) if isinstance(item, str) else item for item in value]


class CampaignSpec(BaseModel):
    """A campaign's settings as given (see the module docstring); unset fields keep their defaults.

    The compliance fields (`COMPLIANCE_FIELDS`) change the preset's values; None is the preset's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dial_mode: DialMode = DialMode.PROGRESSIVE
    ratio: float = Field(default=2.0, gt=0, le=10)
    caller_id: Annotated[str | None, AfterValidator(_caller_id)] = None
    trunk: Annotated[str | None, AfterValidator(_trunk)] = None
    group: str | None = Field(default=None, min_length=1, max_length=64)
    preset: CompliancePreset = CompliancePreset.CN
    time_zone: str | None = None  # None: the preset's (PRESET_TIME_ZONES)
    calling_hours: Annotated[str | None, BeforeValidator(_calling_hours_text)] = None
    abandon_cap: float | None = None
    abandon_window: AbandonWindow | None = None
    attempts_per_number_day: int | None = Field(default=None, ge=1)
    amd_false_positive_share: float | None = Field(default=None, ge=0, le=1)
    retry: Annotated[dict[RetryOutcome, SecondsOrNever], BeforeValidator(_retry_rules)] = Field(
        default_factory=dict
    )
    max_attempts: int | None = Field(default=None, ge=1)
    wrap_up_s: SecondsOrNever = None  # None: the agent ends wrap-up
    min_wrap_s: Seconds = 0.0
    max_occupancy: float = Field(default=1.0, gt=0, le=1)
    inbound_reserve: int = Field(default=0, ge=0)  # ACD-1: ready blended agents kept free for inbound
    amd: bool = False
    abandon_message: Annotated[str | None, AfterValidator(_sounds)] = None
    announce_agent_number: bool = False
    announce_prompt: Annotated[str | None, AfterValidator(_sounds)] = None  # before the digits
    max_lines: int | None = Field(default=None, ge=1)
    calls_per_second: float | None = Field(default=None, gt=0, le=200)  # originates per second at most
    survey: str | None = Field(default=None, min_length=1, max_length=100)
    broadcast_message: Annotated[str | None, AfterValidator(_sounds)] = None
    reach: Reach = Reach.NATIONAL
    whitelist_only: bool = False
    ring_timeout_s: Annotated[float | None, BeforeValidator(_duration_or_none)] = None  # None: min ring
    lists: Annotated[list[ListSpec], BeforeValidator(lambda v: _fields_of_each(ListSpec, v))] = Field(
        default_factory=list
    )
    dispositions: Annotated[
        list[DispositionSpec], BeforeValidator(lambda v: _fields_of_each(DispositionSpec, v))
    ] = Field(default_factory=list)
    abandoned_callback_s: SecondsOrNever = None  # CB-2: an abandoned call is called back after this
    personal_callback_grace_s: Seconds = 900.0  # CB-1: an agent's own callback waits this long for it
    start_at: Annotated[datetime | None, AfterValidator(_aware)] = None  # CB-3: starts by itself
    stop_at: Annotated[datetime | None, AfterValidator(_aware)] = None  # CB-3: stops by itself
    dialing_hours: Annotated[str | None, BeforeValidator(_calling_hours_text)] = None  # the campaign's zone
    holidays: Annotated[list[date], BeforeValidator(_dates)] = Field(default_factory=list)
    # CMPL-6: finished leads' personal data is anonymised this long after their last activity
    # (`campaigns.retention`); None: kept forever. At least the preset's records rule.
    retention_days: Annotated[int | None, BeforeValidator(_days_or_forever)] = Field(default=None, ge=1)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CampaignSpec:
        """The spec of `data`, or a one-line `UserError` naming the first bad field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as error:
            raise _user_error(error) from None

    @field_validator("abandon_cap")
    @classmethod
    def _cap_above_zero(cls, cap: float | None) -> float | None:
        if cap is not None and not 0 < cap <= 1:
            raise ValueError(
                "must be above 0 and at most 1, e.g. 0.03 for 3 % (a cap of 0 would let no call be placed)"
            )
        return cap

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("not an IANA time zone, e.g. Asia/Shanghai") from None
        return zone

    @field_validator("dispositions")
    @classmethod
    def _unique_codes(cls, dispositions: list[DispositionSpec]) -> list[DispositionSpec]:
        codes = [d.code for d in dispositions]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"code {', '.join(repeated)} given twice")
        return dispositions

    def given(self) -> dict[str, Any]:
        """The fields that were set, as JSON values (what an update changes, what is stored)."""
        return self.model_dump(mode="json", include=self.model_fields_set)

    def merged(self, changes: CampaignSpec) -> CampaignSpec:
        """This spec with the fields `changes` sets replaced."""
        return CampaignSpec.parse({**self.given(), **changes.given()})

    @property
    def zone_name(self) -> str:
        return self.time_zone or PRESET_TIME_ZONES[self.preset]

    def compliance_changes(self) -> dict[str, Any]:
        """The changes to the preset, typed as `customise` takes them."""
        changes: dict[str, Any] = {
            name: getattr(self, name)
            for name in COMPLIANCE_FIELDS
            if name in self.model_fields_set and getattr(self, name) is not None
        }
        if "calling_hours" in changes:
            changes["calling_hours"] = parse_calling_hours(changes["calling_hours"])
        return changes

    def compliance(
        self, *, changed: Collection[str], approved: Collection[str], actor: str, reason: str | None
    ) -> Customised:
        """The preset customised by this spec. Loosened settings need leave: those `approved` earlier
        keep it while they do not change; those `changed` now get it only with a `reason`."""
        changes = self.compliance_changes()
        allowed = (set(approved) - set(changed)) | (set(changed) if reason else set())
        allowed &= changes.keys()
        override = Override(actor, reason or "approved earlier", frozenset(allowed)) if allowed else None
        try:
            return customise(self.preset, changes, override)
        except UserError as error:  # a loosened setting without leave
            raise UserError(error.message, hint="give an override reason; it is audited") from None

    def schedule(self) -> CampaignSchedule:
        """Its own start, stop, dialing hours and holidays (`campaigns.schedule`)."""
        hours = parse_calling_hours(self.dialing_hours) if self.dialing_hours else None
        zone = ZoneInfo(self.zone_name)
        return CampaignSchedule(zone, self.start_at, self.stop_at, hours, frozenset(self.holidays))

    @field_validator("stop_at")
    @classmethod
    def _stop_after_start(cls, stop_at: datetime | None, info: ValidationInfo) -> datetime | None:
        start_at = info.data.get("start_at")
        if stop_at is not None and start_at is not None and stop_at <= start_at:
            raise ValueError("must be after start_at")
        return stop_at

    def retry_rules(self) -> RetryRules:
        delays = {
            outcome: None if seconds is None else timedelta(seconds=seconds)
            for outcome, seconds in self.retry.items()
        }
        attempts = {} if self.max_attempts is None else {"max_attempts": self.max_attempts}
        return RetryRules(**attempts, **delays)  # type: ignore[arg-type]


def _user_error(error: ValidationError) -> UserError:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"] if part != "[key]")
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "no such campaign setting"
    got = first.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
    return UserError(f"campaign {field}: {message}{shown}")


class ListShare(NamedTuple):
    """A list the campaign dials: higher `priority` first, `weight` shares among equal priorities."""

    list_id: int
    priority: int
    weight: int


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    """Everything the engine needs to run one campaign (see `CampaignSpec` for what each means)."""

    id: int
    name: str
    state: CampaignState
    dial_mode: DialMode
    ratio: float
    caller_id: str | None
    trunk: str | None
    agent_group_id: int | None
    survey_id: int | None
    time_zone: str
    compliance: ComplianceSettings
    retry: RetryRules
    dispositions: tuple[Disposition, ...]
    wrap_up_s: float | None
    min_wrap_s: float
    max_occupancy: float
    amd: bool
    abandon_message: str | None
    announce_agent_number: bool
    announce_prompt: str | None
    max_lines: int | None
    calls_per_second: float | None
    broadcast_message: str | None
    reach: Reach
    whitelist_only: bool
    ring_timeout_s: float
    lists: tuple[ListShare, ...]
    abandoned_callback_s: float | None = None
    personal_callback_grace_s: float = 900.0
    schedule: CampaignSchedule = field(default_factory=lambda: CampaignSchedule(ZoneInfo("UTC")))
    retention_days: int | None = None
    inbound_reserve: int = 0

    def __post_init__(self) -> None:
        codes = [d.code for d in self.dispositions]
        if len(set(codes)) != len(codes):
            raise UserError(f"campaign {self.name} dispositions: codes must be unique (got {codes})")
        min_ring = self.compliance.min_ring.total_seconds()
        if self.ring_timeout_s < min_ring:
            raise UserError(
                f"campaign ring_timeout_s: at least the {self.compliance.preset.value} preset's"
                f" minimum ring of {min_ring:g} s (got {self.ring_timeout_s:g})"
            )
        check_retention(self.compliance.preset, self.retention_days)

    @property
    def home(self) -> Home:
        """Where its calls come from, for the outbound permission classes (DIAL-8)."""
        return Home.of(self.caller_id, PRESET_REGIONS[self.compliance.preset])

    @classmethod
    def build(
        cls,
        spec: CampaignSpec,
        compliance: ComplianceSettings,
        *,
        id: int,
        name: str,
        state: CampaignState,
        agent_group_id: int | None,
        survey_id: int | None,
        dispositions: tuple[Disposition, ...],
        lists: tuple[ListShare, ...],
    ) -> CampaignConfig:
        ring = spec.ring_timeout_s
        return cls(
            id=id,
            name=name,
            state=state,
            dial_mode=spec.dial_mode,
            ratio=spec.ratio,
            caller_id=spec.caller_id,
            trunk=spec.trunk,
            agent_group_id=agent_group_id,
            survey_id=survey_id,
            time_zone=spec.zone_name,
            compliance=compliance,
            retry=spec.retry_rules(),
            dispositions=dispositions,
            wrap_up_s=spec.wrap_up_s,
            min_wrap_s=spec.min_wrap_s,
            max_occupancy=spec.max_occupancy,
            amd=spec.amd,
            abandon_message=spec.abandon_message,
            announce_agent_number=spec.announce_agent_number,
            announce_prompt=spec.announce_prompt,
            max_lines=spec.max_lines,
            calls_per_second=spec.calls_per_second,
            broadcast_message=spec.broadcast_message,
            reach=spec.reach,
            whitelist_only=spec.whitelist_only,
            ring_timeout_s=compliance.min_ring.total_seconds() if ring is None else ring,
            lists=lists,
            abandoned_callback_s=spec.abandoned_callback_s,
            personal_callback_grace_s=spec.personal_callback_grace_s,
            schedule=spec.schedule(),
            retention_days=spec.retention_days,
            inbound_reserve=spec.inbound_reserve,
        )

    def describe(self) -> dict[str, Any]:
        """Plain JSON values, for `campaign show --json` and the API."""
        compliance = self.compliance
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state.value,
            "dial_mode": self.dial_mode.value,
            "ratio": self.ratio,
            "caller_id": self.caller_id,
            "trunk": self.trunk,
            "agent_group_id": self.agent_group_id,
            "survey_id": self.survey_id,
            "time_zone": self.time_zone,
            "compliance": {
                "preset": compliance.preset.value,
                "calling_hours": str(compliance.calling_hours),
                "abandon_cap": compliance.abandon_cap,
                "abandon_window": compliance.abandon_window.value,
                "min_ring_s": compliance.min_ring.total_seconds(),
                "attempts_per_number_day": compliance.attempts_per_number_day,
                "redial_after_abandon_s": _seconds(compliance.redial_after_abandon),
                "caller_id_required": compliance.caller_id_required,
                "abandon_message_required": compliance.abandon_message_required,
            },
            "retry": {
                "max_attempts": self.retry.max_attempts,
                **{outcome: _seconds(getattr(self.retry, outcome)) for outcome in get_args(RetryOutcome)},
            },
            "dispositions": [
                {"code": d.code, "final": d.final, "retry_after_s": _seconds(d.retry_after)}
                for d in self.dispositions
            ],
            "wrap_up_s": self.wrap_up_s,
            "min_wrap_s": self.min_wrap_s,
            "max_occupancy": self.max_occupancy,
            "inbound_reserve": self.inbound_reserve,
            "amd": self.amd,
            "abandon_message": self.abandon_message,
            "announce_agent_number": self.announce_agent_number,
            "announce_prompt": self.announce_prompt,
            "max_lines": self.max_lines,
            "calls_per_second": self.calls_per_second,
            "broadcast_message": self.broadcast_message,
            "reach": self.reach.value,
            "whitelist_only": self.whitelist_only,
            "ring_timeout_s": self.ring_timeout_s,
            "lists": [share._asdict() for share in self.lists],
            "abandoned_callback_s": self.abandoned_callback_s,
            "personal_callback_grace_s": self.personal_callback_grace_s,
            "schedule": {
                "start_at": _instant(self.schedule.start_at),
                "stop_at": _instant(self.schedule.stop_at),
                "dialing_hours": str(self.schedule.hours) if self.schedule.hours else None,
                "holidays": [day.isoformat() for day in sorted(self.schedule.holidays)],
            },
            "retention_days": self.retention_days,
        }


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _seconds(delay: timedelta | None) -> float | None:
    return None if delay is None else delay.total_seconds()
