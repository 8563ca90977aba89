"""Campaigns in the database (CMP-1, CMP-5): create, update, show, list, attach lists, change state.

Where a campaign's settings live: the typed columns of `campaigns` (mode, caller ID, trunk, agent
group, preset), its `dispositions` rows, its `campaign_lists` rows, and everything else as the
`CampaignSpec` fields that were set, in `settings` JSON (an update merges its fields into them).
`settings["approved_loosening"]` names the compliance settings loosened below the preset with an
audited override; they stay approved until they change again.

Every change writes `audit_log` rows in its transaction: `campaign.create|update|attach|detach`
with what was given, `compliance.override` per loosened setting (from `AuditNote`s), and
`campaign.start|pause|resume|stop` with the states before and after. A state change that is
already done changes nothing; one the state does not allow (resuming a stopped campaign) is
refused. `start` and `resume` first check that the campaign can dial: agents in its group, a
dialable lead, a configured trunk, calling hours that open for its leads, a caller ID and an
abandon message where the preset requires them. All problems are named in one line.

`running_campaigns()` is what the engine polls; `load_campaign()` and `load_campaign_by_id()` read one
campaign as a `CampaignConfig`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campaigns.agent_store import active_agent_count, audit, group_id, group_name, named
from campaigns.compliance.blocklist_store import Change
from campaigns.compliance.destinations import Reach
from campaigns.compliance.presets import ComplianceSettings
from campaigns.config import (
    COMPLIANCE_FIELDS,
    DEFAULT_DISPOSITIONS,
    CampaignConfig,
    CampaignSpec,
    DispositionSpec,
    ListShare,
    ListSpec,
)
from campaigns.lifecycle import Disposition as LeadDisposition
from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Attempt,
    Callback,
    Campaign,
    CampaignList,
    ContactList,
    Disposition,
    Lead,
    Survey,
)
from campaigns.persistence.models.enums import CallbackState, CampaignState, DialMode, LeadState
from campaigns.surveys.store import load_survey
from ringcast.errors import UserError
from ringcast.transitions import IllegalTransition

APPROVED = "approved_loosening"
COLUMN_FIELDS = frozenset({"dial_mode", "caller_id", "trunk", "group", "survey", "preset"})
ROW_FIELDS = frozenset({"lists", "dispositions"})
ZONE_SETS_CHECKED = 1000  # distinct lead time-zone sets looked at by the calling-hours check
_AGENTLESS = (DialMode.BROADCAST,)
_ABANDONING = (DialMode.PROGRESSIVE, DialMode.RATIO, DialMode.PREDICTIVE)


class CampaignEvent(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


S = CampaignState
_MOVES: dict[CampaignEvent, tuple[tuple[CampaignState, ...], CampaignState]] = {
    CampaignEvent.START: ((S.DRAFT,), S.RUNNING),
    CampaignEvent.RESUME: ((S.PAUSED,), S.RUNNING),
    CampaignEvent.PAUSE: ((S.RUNNING,), S.PAUSED),
    CampaignEvent.STOP: ((S.DRAFT, S.RUNNING, S.PAUSED), S.FINISHED),
}
_HINTS = {
    (CampaignEvent.START, S.PAUSED): "use resume",
    (CampaignEvent.RESUME, S.DRAFT): "use start",
    (CampaignEvent.PAUSE, S.DRAFT): "it has not been started",
}


@dataclass(frozen=True)
class CampaignView:
    """A campaign for people: its config, with names where the config has ids, and its dialable leads."""

    config: CampaignConfig
    group: str | None
    list_names: dict[int, str]
    dialable_leads: int

    def describe(self) -> dict[str, Any]:
        described = self.config.describe()
        described["group"] = self.group
        for share in described["lists"]:
            share["name"] = self.list_names[share["list_id"]]
        described["dialable_leads"] = self.dialable_leads
        return described


@dataclass(frozen=True)
class StateMove:
    """The outcome of a state change: the campaign after it, and whether anything changed."""

    config: CampaignConfig
    previous: CampaignState
    changed: bool


def create(
    database: Database,
    name: str,
    spec: CampaignSpec,
    change: Change,
    *,
    trunks: Sequence[str],
    override_reason: str | None = None,
) -> CampaignConfig:
    """A new draft campaign. Unset: the time zone is the preset's, the trunk the first configured one,
    the dispositions `DEFAULT_DISPOSITIONS`."""
    if not name.strip() or len(name) > 100:
        raise UserError(f"campaign name {name!r}: give 1 to 100 characters")
    defaults: dict[str, Any] = {"time_zone": spec.zone_name}
    if trunks:
        defaults["trunk"] = trunks[0]
    if not spec.dispositions:
        defaults["dispositions"] = [d.model_dump() for d in DEFAULT_DISPOSITIONS]
    full = CampaignSpec.parse({**defaults, **spec.given()})
    with database.session() as session:
        if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
            raise UserError(
                f"campaign {name} already exists", hint="change it with `ringcast campaign update`"
            )
        campaign = Campaign(name=name, dial_mode=full.dial_mode, compliance_preset=full.preset, settings={})
        session.add(campaign)
        return _write(session, campaign, CampaignSpec(), full, full, change, trunks, override_reason)


def update(
    database: Database,
    name: str,
    changes: CampaignSpec,
    change: Change,
    *,
    trunks: Sequence[str],
    override_reason: str | None = None,
) -> CampaignConfig:
    """Merge the fields `changes` sets into the campaign; `lists` are attached, `dispositions` replaced."""
    with database.session() as session:
        campaign = named(session, Campaign, name, lock=True)
        stored = _stored_spec(session, campaign)
        after = stored.merged(changes)
        return _write(session, campaign, stored, after, changes, change, trunks, override_reason)


def load_campaign(database: Database, name: str) -> CampaignConfig:
    with database.session() as session:
        return _config(session, named(session, Campaign, name))


def load_campaign_by_id(database: Database, campaign_id: int) -> CampaignConfig:
    with database.session() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise UserError(f"no campaign with id {campaign_id}")
        return _config(session, campaign)


def show(database: Database, name: str) -> CampaignView:
    with database.session() as session:
        return _view(session, named(session, Campaign, name))


def list_campaigns(database: Database) -> list[CampaignView]:
    with database.session() as session:
        return [_view(session, c) for c in session.scalars(select(Campaign).order_by(Campaign.name))]


def running_campaigns(database: Database) -> list[CampaignConfig]:
    """Every running campaign, for the engine to poll."""
    with database.session() as session:
        running = session.scalars(select(Campaign).where(Campaign.state == S.RUNNING).order_by(Campaign.id))
        return [_config(session, campaign) for campaign in running]


def config_of(session: Session, campaign: Campaign) -> CampaignConfig:
    """The config of a campaign row (for readers holding rows: reports)."""
    return _config(session, campaign)


def unfinished_campaigns(session: Session) -> list[CampaignConfig]:
    """Every campaign not finished (draft, running, paused), for the engine's scheduler."""
    query = select(Campaign).where(Campaign.state != S.FINISHED).order_by(Campaign.id)
    return [_config(session, campaign) for campaign in session.scalars(query)]


def attach_lists(database: Database, name: str, lists: Sequence[ListSpec], change: Change) -> CampaignConfig:
    """Attach lists (or change their priority and weight)."""
    with database.session() as session:
        campaign = named(session, Campaign, name, lock=True)
        _attach(session, campaign, lists, change)
        return _config(session, campaign)


def detach_list(database: Database, name: str, list_name: str, change: Change) -> CampaignConfig:
    with database.session() as session:
        campaign = named(session, Campaign, name, lock=True)
        attached = session.get(CampaignList, (campaign.id, named(session, ContactList, list_name).id))
        if attached is None:
            raise UserError(f"list {list_name} is not attached to campaign {name}")
        session.delete(attached)
        audit(session, change, "campaign.detach", "campaign", name, list=list_name)
        session.flush()
        return _config(session, campaign)


def change_state(
    database: Database,
    name: str,
    event: CampaignEvent,
    change: Change,
    *,
    trunks: Sequence[str] = (),
) -> StateMove:
    """Start, pause, resume or stop; starting and resuming check first that the campaign can dial."""
    sources, target = _MOVES[event]
    with database.session() as session:
        campaign = named(session, Campaign, name, lock=True)
        previous = campaign.state
        if previous is target:
            return StateMove(_config(session, campaign), previous, changed=False)
        if previous not in sources:
            hint = _HINTS.get((event, previous))
            if previous is S.FINISHED:
                hint = "a stopped campaign stays stopped; create a new one"
            raise IllegalTransition(f"campaign {name}", previous, event.value, hint=hint)
        config = _config(session, campaign)
        if target is S.RUNNING:
            _check_can_dial(session, config, trunks, change.at)
        campaign.state = target
        audit(session, change, f"campaign.{event.value}", "campaign", name, previous=previous, now=target)
        session.flush()
        return StateMove(_config(session, campaign), previous, changed=True)


def dialable_lead_count(session: Session, campaign_id: int) -> int:
    """Leads the campaign may still dial: new or retry leads of its lists, and its pending callbacks."""
    leads = session.execute(
        select(func.count()).select_from(Lead).where(_dialable(), Lead.list_id.in_(_list_ids(campaign_id)))
    ).scalar_one()
    return leads + _pending_callbacks(session, campaign_id)


def _pending_callbacks(session: Session, campaign_id: int) -> int:
    pending = Callback.campaign_id == campaign_id, Callback.state == CallbackState.PENDING
    return session.execute(select(func.count()).where(*pending)).scalar_one()


def _write(
    session: Session,
    campaign: Campaign,
    before: CampaignSpec,
    after: CampaignSpec,
    given: CampaignSpec,
    change: Change,
    trunks: Sequence[str],
    override_reason: str | None,
) -> CampaignConfig:
    """Store `after` (which `given` led to) on `campaign`, audited; its config."""
    creating = campaign.id is None
    if "trunk" in given.model_fields_set and (problem := _trunk_problem(after.trunk, trunks)):
        raise UserError(problem, hint="add it to `trunks` in the settings")
    changed = _changed_compliance(before, after)
    customised = after.compliance(
        changed=changed,
        approved=campaign.settings.get(APPROVED, ()),
        actor=change.actor,
        reason=override_reason,
    )
    if after.amd:
        customised.settings.require_amd_estimate()
    campaign.dial_mode = after.dial_mode
    campaign.compliance_preset = after.preset
    campaign.caller_id = after.caller_id
    campaign.trunk = after.trunk
    campaign.agent_group_id = None if after.group is None else group_id(session, after.group)
    campaign.survey_id = None if after.survey is None else named(session, Survey, after.survey).id
    stored = after.model_dump(mode="json", include=after.model_fields_set - COLUMN_FIELDS - ROW_FIELDS)
    campaign.settings = {**stored, APPROVED: sorted(note.setting for note in customised.audit)}
    session.flush()
    audit(
        session,
        change,
        f"campaign.{'create' if creating else 'update'}",
        "campaign",
        campaign.name,
        **given.given(),
    )
    for note in customised.audit:
        if note.setting in changed:
            audit(session, change, note.action, "campaign", campaign.name, **note.details())
    if "lists" in given.model_fields_set:
        _attach(session, campaign, given.lists, change)
    if "dispositions" in given.model_fields_set:
        _set_dispositions(session, campaign.id, given.dispositions)
    session.flush()
    return _built(session, campaign, after, customised.settings)


def _changed_compliance(before: CampaignSpec, after: CampaignSpec) -> set[str]:
    """The compliance changes that differ from before (all of them when the preset changes)."""
    fields = set(COMPLIANCE_FIELDS) & after.model_fields_set
    if before.preset != after.preset:
        return fields
    return {name for name in fields if getattr(before, name) != getattr(after, name)}


def _trunk_problem(trunk: str | None, trunks: Sequence[str]) -> str | None:
    if trunk in trunks:
        return None
    return f"trunk {trunk or '(none)'} is not configured (configured: {', '.join(trunks) or 'none'})"


def _check_can_dial(session: Session, config: CampaignConfig, trunks: Sequence[str], now: datetime) -> None:
    problems = [problem for problem in (_trunk_problem(config.trunk, trunks),) if problem]
    if config.compliance.caller_id_required and config.caller_id is None:
        problems.append(f"the {config.compliance.preset.value} preset requires a caller ID (--caller-id)")
    if config.dial_mode in _ABANDONING and config.abandon_message is None:
        problems.append("no abandon message for callers no agent is free for (--abandon-message)")
    if config.reach is Reach.LOCAL and not config.whitelist_only and config.home.area is None:
        problems.append(
            f"reach local needs a geographic caller ID to say what is local ({config.caller_id or 'none'}"
            " has no area): give one, or --reach national"
        )
    if config.dial_mode in _AGENTLESS:
        problems.extend(_broadcast_problems(session, config))
    else:
        problems.extend(_agent_problems(session, config))
    if not config.lists:
        problems.append("no contact list attached (--list)")
    elif dialable_lead_count(session, config.id) == 0:
        problems.append("no dialable leads in its lists (none new or to retry, no pending callback)")
    elif not _hours_open_for_some_lead(session, config, now):
        problems.append(
            f"calling hours {config.compliance.calling_hours} never open in all the time zones"
            " of any dialable lead"
        )
    if problems:
        raise UserError(f"cannot start campaign {config.name}: {'; '.join(problems)}")


def _agent_problems(session: Session, config: CampaignConfig) -> list[str]:
    if config.agent_group_id is None:
        return ["no agent group (--group)"]
    if active_agent_count(session, config.agent_group_id) == 0:
        group = group_name(session, config.agent_group_id)
        return [f"no agents in group {group} (`ringcast group add {group} AGENT`)"]
    return []


def _broadcast_problems(session: Session, config: CampaignConfig) -> list[str]:
    """A broadcast campaign is paced by lines, and plays its survey or message to every answer; it
    has no agents to call back a respondent who asks for it."""
    problems = [] if config.max_lines else ["a broadcast campaign is paced by its lines: give --max-lines"]
    if config.survey_id is None and config.broadcast_message is None:
        problems.append("nothing to play to answered calls: give --survey or --broadcast-message")
    elif config.survey_id is not None:
        survey = load_survey(session, config.survey_id)
        if survey.survey.asks_for_callbacks:
            problems.append(
                f"survey {survey.name} has agents call respondents back (follow_up.callback_in_s),"
                " and a broadcast campaign has none: use it after agent calls, or follow up by SMS"
            )
    return problems


def _hours_open_for_some_lead(session: Session, config: CampaignConfig, now: datetime) -> bool:
    """Whether the calling hours open, within a week, in every zone of at least one dialable lead.

    A lead without zones is taken to be in the campaign's."""
    query = (
        select(Lead.time_zones)
        .where(_dialable(), Lead.list_id.in_(_list_ids(config.id)))
        .distinct()
        .limit(ZONE_SETS_CHECKED)
    )
    zone_sets = {tuple(zones) or (config.time_zone,) for zones in session.scalars(query)}
    if _pending_callbacks(session, config.id):
        zone_sets.add((config.time_zone,))
    hours = config.compliance.calling_hours
    return any(hours.next_open([ZoneInfo(zone) for zone in zones], now) is not None for zones in zone_sets)


def _dialable() -> Any:
    """Spelled as the hopper's partial index is (see `campaigns.persistence.models.leads`)."""
    return or_(Lead.state == LeadState.NEW, Lead.state == LeadState.RETRY)


def _list_ids(campaign_id: int) -> Any:
    return select(CampaignList.list_id).where(CampaignList.campaign_id == campaign_id).scalar_subquery()


def _stored_spec(session: Session, campaign: Campaign) -> CampaignSpec:
    data = {key: value for key, value in campaign.settings.items() if key != APPROVED}
    data |= {"dial_mode": campaign.dial_mode, "preset": campaign.compliance_preset}
    if campaign.caller_id is not None:
        data["caller_id"] = campaign.caller_id
    if campaign.trunk is not None:
        data["trunk"] = campaign.trunk
    if campaign.agent_group_id is not None:
        data["group"] = group_name(session, campaign.agent_group_id)
    if campaign.survey_id is not None:
        data["survey"] = session.get_one(Survey, campaign.survey_id).name
    return CampaignSpec.parse(data)


def _config(session: Session, campaign: Campaign) -> CampaignConfig:
    spec = _stored_spec(session, campaign)
    approved = campaign.settings.get(APPROVED, ())
    compliance = spec.compliance(changed=(), approved=approved, actor="audit_log", reason=None).settings
    return _built(session, campaign, spec, compliance)


def _built(
    session: Session, campaign: Campaign, spec: CampaignSpec, compliance: ComplianceSettings
) -> CampaignConfig:
    rows = session.scalars(
        select(Disposition).where(Disposition.campaign_id == campaign.id).order_by(Disposition.id)
    )
    shares = session.execute(
        select(CampaignList.list_id, CampaignList.priority, CampaignList.weight)
        .where(CampaignList.campaign_id == campaign.id)
        .order_by(CampaignList.priority.desc(), CampaignList.list_id)
    )
    return CampaignConfig.build(
        spec,
        compliance,
        id=campaign.id,
        name=campaign.name,
        state=campaign.state,
        agent_group_id=campaign.agent_group_id,
        survey_id=campaign.survey_id,
        dispositions=tuple(LeadDisposition(row.code, row.final, _delay(row.retry_after_s)) for row in rows),
        lists=tuple(ListShare(*share) for share in shares),
    )


def _view(session: Session, campaign: Campaign) -> CampaignView:
    config = _config(session, campaign)
    names = session.execute(
        select(ContactList.id, ContactList.name).where(ContactList.id.in_(_list_ids(campaign.id)))
    )
    group = None if campaign.agent_group_id is None else group_name(session, campaign.agent_group_id)
    list_names = {list_id: name for list_id, name in names}
    return CampaignView(config, group, list_names, dialable_lead_count(session, campaign.id))


def _attach(session: Session, campaign: Campaign, lists: Sequence[ListSpec], change: Change) -> None:
    for spec in lists:
        key = (campaign.id, named(session, ContactList, spec.name).id)
        attached = session.get(CampaignList, key) or CampaignList(campaign_id=key[0], list_id=key[1])
        attached.priority, attached.weight = spec.priority, spec.weight
        session.add(attached)
        audit(session, change, "campaign.attach", "campaign", campaign.name, **spec.model_dump())
    session.flush()


def _set_dispositions(session: Session, campaign_id: int, specs: Sequence[DispositionSpec]) -> None:
    """Make the campaign's dispositions `specs`; one already given to a call cannot be removed."""
    existing = {
        row.code: row
        for row in session.scalars(select(Disposition).where(Disposition.campaign_id == campaign_id))
    }
    wanted = {spec.code: spec for spec in specs}
    for code in existing.keys() - wanted.keys():
        used = session.execute(
            select(func.count()).where(Attempt.disposition_id == existing[code].id)
        ).scalar_one()
        if used:
            raise UserError(f"disposition {code} was given to {used} calls: keep it in the set")
        session.delete(existing[code])
    for code, spec in wanted.items():
        row = existing.get(code) or Disposition(campaign_id=campaign_id, code=code)
        row.label = spec.label or code
        row.final = spec.final
        row.retry_after_s = None if spec.retry_after_s is None else round(spec.retry_after_s)
        session.add(row)


def _delay(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)
