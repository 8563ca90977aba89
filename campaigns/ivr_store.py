"""IVR flows and inbound numbers in the database (IVR-1..IVR-3, ACD-9): the `ivr_flows` and
`inbound_numbers` rows.

A flow is saved as the text its author wrote, once it parses (`dialer.ivr.flow`); each save bumps
its version. A flow with problems (`dialer.ivr.checks`: unknown targets, unreachable nodes, loops,
a menu key #, missing sounds, surveys not stored) can be saved as a draft but never be active:
`activate_flow`, a save with `activate`, and a save over an active flow refuse it and list every
problem (`FlowError`). A DID's plan names active flows only, and a flow a DID names stays active; a
DID always has a default message, so a call the plan gives no flow hears it rather than dead air. A
number dialled straight to an agent or a queue (the plan's `direct`, 直拨) names an active agent,
given by login name or by its number (工号) and kept by name, and a queue that exists; an agent with
no queue of its own names one for its calls to wait in. Every change writes an audit row
(`agent_store.audit`) in its transaction.

For the engine: `get_number(did)` (None for an unknown DID), `flow_for(number.plan, at)`, then
`get_flow(name).flow` for the `FlowRun`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agent_store import audit, named
from campaigns.compliance.blocklist_store import Change
from campaigns.direct_numbers import plans
from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Agent,
    CallQueue,
    Campaign,
    InboundNumber,
    IvrFlow,
    QueueMembership,
    Survey,
)
from campaigns.surveys.document import Prompt
from dialer.ivr.checks import flow_problems
from dialer.ivr.did_plan import DidPlan, parse_plan
from dialer.ivr.direct import DirectRoute
from dialer.ivr.flow import Flow, parse_flow
from dialer.ivr.problems import FlowError
from ringcast.errors import UserError

DEFAULT_MESSAGE = Prompt(text="您好，您拨打的号码暂时无法接通，请稍后再拨。")
_DID = re.compile(r"\+[1-9]\d{6,14}|\d{3,20}")
KnownSound = Callable[[str], bool]


@dataclass(frozen=True)
class StoredFlow:
    name: str
    version: int
    active: bool
    document: str  # as its author wrote it
    flow: Flow
    updated_at: datetime


class KeepSetting(Enum):
    KEEP = "keep"


KEEP = KeepSetting.KEEP  # a setting left as it is


@dataclass(frozen=True)
class MissedCallback:
    """CB-2: the campaign whose agents call back the number's missed calls, `after_s` after them."""

    campaign: str
    after_s: int = 0

    def __post_init__(self) -> None:
        if self.after_s < 0:
            raise UserError("the missed-call callback delay must not be negative")


@dataclass(frozen=True)
class StoredNumber:
    did: str
    plan: DidPlan
    default_message: Prompt
    missed_callback: MissedCallback | None = None


def save_flow(
    database: Database,
    document: str,
    change: Change,
    *,
    new: bool,
    source: str = "document",
    activate: bool = False,
    known_sound: KnownSound | None = None,
) -> StoredFlow:
    """Store a `new` flow (version 1), or the next version of the flow the document names. It is
    active if `activate` or if it was: then the document must have no problem (else a `FlowError`)."""
    flow = parse_flow(document, source)
    with database.session() as session:
        surveys = _survey_names(session)
        if new:
            if session.scalar(select(IvrFlow.id).where(IvrFlow.name == flow.name)) is not None:
                raise UserError(
                    f"IVR flow {flow.name} already exists", hint="change it with `ringcast ivr update FILE`"
                )
            row = IvrFlow(name=flow.name, version=0, active=False)
            session.add(row)
        else:
            row = named(session, IvrFlow, flow.name, lock=True)
        if activate or row.active:
            _check_good(flow, known_sound, surveys)
        row.document, row.version, row.active = document, row.version + 1, row.active or activate
        action = "ivr_flow.create" if new else "ivr_flow.update"
        audit(session, change, action, "ivr_flow", flow.name, version=row.version, active=row.active)
        session.flush()
        return _stored(row, flow)


def activate_flow(
    database: Database, name: str, change: Change, known_sound: KnownSound | None = None
) -> StoredFlow:
    """Make flow `name` active (DIDs may then run it); a `FlowError` listing its problems if it has any."""
    with database.session() as session:
        row = named(session, IvrFlow, name, lock=True)
        flow = _check_good(parse_flow(row.document, name), known_sound, _survey_names(session))
        if not row.active:
            row.active = True
            audit(session, change, "ivr_flow.activate", "ivr_flow", name, version=row.version)
            session.flush()
        return _stored(row, flow)


def deactivate_flow(database: Database, name: str, change: Change) -> StoredFlow:
    """Take flow `name` out of service; refused while a DID's plan names it."""
    with database.session() as session:
        row = named(session, IvrFlow, name, lock=True)
        users = [did for did, plan in plans(session) if name in plan.flows()]
        if users:
            raise UserError(
                f"IVR flow {name} is in use by DID {', '.join(users)}",
                hint="give those numbers another flow with `ringcast ivr did set` first",
            )
        if row.active:
            row.active = False
            audit(session, change, "ivr_flow.deactivate", "ivr_flow", name, version=row.version)
            session.flush()
        return _stored(row, parse_flow(row.document, name))


def get_flow(database: Database, name: str) -> StoredFlow:
    with database.session() as session:
        row = named(session, IvrFlow, name)
        return _stored(row, parse_flow(row.document, name))


def list_flows(database: Database) -> list[StoredFlow]:
    """Every flow, by name."""
    with database.session() as session:
        rows = session.scalars(select(IvrFlow).order_by(IvrFlow.name))
        return [_stored(row, parse_flow(row.document, row.name)) for row in rows]


def set_number(
    database: Database,
    did: str,
    plan: DidPlan,
    change: Change,
    default_message: Prompt | None = None,
    missed_callback: MissedCallback | KeepSetting | None = KEEP,
) -> StoredNumber:
    """Give `did` its plan (and message; a new DID without one gets `DEFAULT_MESSAGE`), the flows it
    names being active (or the agent or queue it goes straight to being there), and who calls back
    its missed calls (None: nobody; `KEEP`: as it was); the number is added if it is new."""
    if not _DID.fullmatch(did):
        raise UserError(f"DID {did!r}: give an E.164 number (+864001234567) or a short number (95555)")
    with database.session() as session:
        for name in plan.flows():
            if not named(session, IvrFlow, name).active:
                raise UserError(
                    f"IVR flow {name} is not active", hint=f"`ringcast ivr activate {name}` first"
                )
        if plan.direct is not None:
            plan = plan.model_copy(update={"direct": _checked_direct(session, plan.direct)})
        row = session.scalar(select(InboundNumber).where(InboundNumber.did == did).with_for_update())
        if row is None:
            row = InboundNumber(did=did, default_message=_prompt_json(default_message or DEFAULT_MESSAGE))
            session.add(row)
        elif default_message is not None:
            row.default_message = _prompt_json(default_message)
        row.flow_plan = plan.model_dump(mode="json", exclude_defaults=True)
        if not isinstance(missed_callback, KeepSetting):
            row.missed_callback_campaign_id = (
                None if missed_callback is None else named(session, Campaign, missed_callback.campaign).id
            )
            row.missed_callback_after_s = 0 if missed_callback is None else missed_callback.after_s
        session.flush()
        stored = _number(session, row)
        callback = None if stored.missed_callback is None else asdict(stored.missed_callback)
        audit(
            session,
            change,
            "inbound_number.set",
            "inbound_number",
            did,
            plan=row.flow_plan,
            missed_callback=callback,
        )
        return stored


def remove_number(database: Database, did: str, change: Change) -> None:
    with database.session() as session:
        row = session.scalar(select(InboundNumber).where(InboundNumber.did == did).with_for_update())
        if row is None:
            raise UserError(f"no inbound number {did}", hint="`ringcast ivr did list` shows them")
        session.delete(row)
        audit(session, change, "inbound_number.remove", "inbound_number", did, plan=row.flow_plan)


def get_number(database: Database, did: str) -> StoredNumber | None:
    """The plan and message of `did`; None for a number that has none."""
    with database.session() as session:
        row = session.scalar(select(InboundNumber).where(InboundNumber.did == did))
        return None if row is None else _number(session, row)


def list_numbers(database: Database) -> list[StoredNumber]:
    """Every inbound number, by DID."""
    with database.session() as session:
        return _numbers(session)


def _checked_direct(session: Session, route: DirectRoute) -> DirectRoute:
    """`route` with its agent by login name (given by login name, else by agent number), once the
    agent is active and the queue exists; a `UserError` naming what is wrong."""
    if route.queue is not None:
        named(session, CallQueue, route.queue)
    if route.agent is None:
        return route
    agent = session.scalar(select(Agent).where(Agent.name == route.agent)) or session.scalar(
        select(Agent).where(Agent.agent_number == route.agent)
    )
    if agent is None:
        raise UserError(
            f"no agent named or numbered {route.agent!r}", hint="`ringcast agent list` shows them"
        )
    if not agent.active:
        raise UserError(f"agent {agent.name} is deactivated")
    in_a_queue = select(QueueMembership.queue_id).where(QueueMembership.agent_id == agent.id).limit(1)
    if route.queue is None and session.scalar(in_a_queue) is None:
        raise UserError(
            f"agent {agent.name} is in no queue for its calls to wait in",
            hint=f"give --queue, or `ringcast queue member add QUEUE {agent.name}` first",
        )
    return route.model_copy(update={"agent": agent.name})


def known_surveys(database: Database) -> Callable[[str], bool]:
    """Whether a survey of that name is stored (for a flow's survey nodes)."""
    with database.session() as session:
        return _survey_names(session).__contains__


def _survey_names(session: Session) -> set[str]:
    return set(session.scalars(select(Survey.name)))


def _check_good(flow: Flow, known_sound: KnownSound | None, surveys: set[str]) -> Flow:
    """`flow`, if it may be active; else a `FlowError` listing its problems."""
    problems = flow_problems(flow, known_sound, surveys.__contains__)
    if problems:
        raise FlowError(f"flow {flow.name} cannot be active", problems)
    return flow


def _stored(row: IvrFlow, flow: Flow) -> StoredFlow:
    return StoredFlow(row.name, row.version, row.active, row.document, flow, row.updated_at)


def _numbers(session: Session) -> list[StoredNumber]:
    rows = session.scalars(select(InboundNumber).order_by(InboundNumber.did))
    return [_number(session, row) for row in rows]


def _number(session: Session, row: InboundNumber) -> StoredNumber:
    plan = parse_plan(row.flow_plan, f"DID {row.did}")
    callback = None
    if row.missed_callback_campaign_id is not None:
        campaign = session.get_one(Campaign, row.missed_callback_campaign_id)
        callback = MissedCallback(campaign.name, row.missed_callback_after_s)
    return StoredNumber(row.did, plan, Prompt.model_validate(row.default_message), callback)


def _prompt_json(prompt: Prompt) -> dict[str, str]:
    return prompt.model_dump(exclude_none=True)
