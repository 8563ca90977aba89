"""Agents (座席) and agent groups (技能组) in the database (AGT-1, AGT-5, AGT-6), and the audit rows.

Create, list, show and deactivate agents; create groups and manage who is in them. Every change
writes an `audit_log` row in the same transaction (`audit()`, which the campaign store uses too, as
it does `named()`, the lookup by name that names the listing command when nothing is found).
`record_agent_change()` persists one transition of the pure agent state machine
(`dialer.agents.state`), the agent's current state and a state-log row, in the caller's
transaction (the engine's database thread batches them), `log_out_all()` for every agent after an
engine restart. Agents are deactivated, never deleted, so call records keep
their agent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from campaigns.compliance.blocklist_store import Change
from campaigns.direct_numbers import ELSEWHERE_HINT, numbers_to
from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Agent,
    AgentGroup,
    AgentGroupMember,
    AgentStateLog,
    AuditEntry,
    CallQueue,
    Campaign,
    ContactList,
    IvrFlow,
    Survey,
)
from campaigns.persistence.models.enums import AgentState
from dialer.agents.state import StateChange
from ringcast.errors import UserError

_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_DIAL_STRING = re.compile(r"[A-Za-z0-9]+/\S{1,190}|\+?\d{3,20}")  # "PJSIP/agent1" or a remote number
_AGENT_NUMBER = re.compile(r"\d{1,16}")
Named = TypeVar("Named", Agent, AgentGroup, CallQueue, Campaign, ContactList, IvrFlow, Survey)
_LOOKED_UP: dict[type[Any], tuple[str, str]] = {
    Agent: ("agent", "agent list"),
    AgentGroup: ("agent group", "group list"),
    CallQueue: ("queue", "queue list"),
    Campaign: ("campaign", "campaign list"),
    ContactList: ("list", "list ls"),
    IvrFlow: ("IVR flow", "ivr list"),
    Survey: ("survey", "survey list"),
}


@dataclass(frozen=True)
class AgentInfo:
    """An agent as `agent list|show` and the engine see it."""

    id: int
    name: str
    display_name: str
    dial_string: str
    agent_number: str | None
    state: AgentState
    active: bool
    groups: tuple[str, ...]
    group_ids: tuple[int, ...]
    ring_mode: bool = False  # its phone is called for each inbound call offered (ACD-6)

    @property
    def remote(self) -> bool:
        """Reached on a phone number through a trunk rather than on an endpoint of ours (AGT-6)."""
        return "/" not in self.dial_string

    def describe(self) -> dict[str, Any]:
        described = {**asdict(self), "state": self.state.value, "remote": self.remote}
        return described | {"groups": list(self.groups), "group_ids": list(self.group_ids)}


@dataclass(frozen=True)
class GroupInfo:
    name: str
    description: str | None
    agents: tuple[str, ...]  # active members, by name


def audit(session: Session, change: Change, action: str, entity: str, entity_id: str, **details: Any) -> None:
    """One audit-log row: `change.actor` did `action` to `entity` `entity_id` at `change.at`."""
    session.add(
        AuditEntry(
            at=change.at,
            actor=change.actor[:64],
            action=action,
            entity=entity,
            entity_id=entity_id[:64],
            details=details,
        )
    )


def create_agent(
    database: Database,
    name: str,
    *,
    display_name: str | None,
    dial_string: str,
    agent_number: str | None,
    groups: Sequence[str],
    change: Change,
    ring_mode: bool = False,
) -> AgentInfo:
    """A new, logged-out agent in `groups` (which must exist); in ring mode if `ring_mode`."""
    _check(_NAME, name, "agent name", "letters, digits and _ . @ -, e.g. agent1")
    _check(_DIAL_STRING, dial_string, "agent phone", "an endpoint like PJSIP/agent1, or a number")
    if agent_number is not None:
        _check(_AGENT_NUMBER, agent_number, "agent number", "up to 16 digits, announced to callees")
    with database.session() as session:
        if session.scalar(select(Agent.id).where(Agent.name == name)) is not None:
            raise UserError(f"agent {name} already exists")
        taken = session.scalar(select(Agent.name).where(Agent.agent_number == agent_number))
        if agent_number is not None and taken is not None:
            raise UserError(f"agent number {agent_number} is already agent {taken}'s")
        group_ids = [group_id(session, group) for group in groups]
        agent = Agent(
            name=name,
            display_name=display_name or name,
            dial_string=dial_string,
            agent_number=agent_number,
            ring_mode=ring_mode,
        )
        session.add(agent)
        session.flush()
        session.add_all(AgentGroupMember(group_id=gid, agent_id=agent.id) for gid in dict.fromkeys(group_ids))
        audit(
            session,
            change,
            "agent.create",
            "agent",
            name,
            dial_string=dial_string,
            groups=list(groups),
            ring_mode=ring_mode,
        )
        session.flush()
        return _info(session, agent)


def set_ring_mode(database: Database, name: str, ring_mode: bool, change: Change) -> bool:
    """Put logged-out agent `name` in ring mode (its phone called for each inbound call offered,
    ringing for the queue's `ring_timeout_s`) or on a persistent connection (its phone kept in its
    own conference from login to logout, AGT-2); False if it already was."""
    with database.session() as session:
        agent = named(session, Agent, name, lock=True)
        if agent.ring_mode == ring_mode:
            return False
        if agent.state is not AgentState.LOGGED_OUT:
            raise UserError(f"agent {name} is {agent.state.value}: log the agent out first")
        agent.ring_mode = ring_mode
        audit(session, change, "agent.update", "agent", name, ring_mode=ring_mode)
        return True


def list_agents(database: Database, *, include_inactive: bool = False) -> list[AgentInfo]:
    with database.session() as session:
        query = select(Agent).order_by(Agent.name)
        if not include_inactive:
            query = query.where(Agent.active)
        return [_info(session, agent) for agent in session.scalars(query)]


def load_agent(database: Database, name: str) -> AgentInfo:
    """The agent named `name`, active or not; a `UserError` if there is none."""
    with database.session() as session:
        return _info(session, named(session, Agent, name))


def deactivate_agent(database: Database, name: str, change: Change) -> bool:
    """Deactivate a logged-out agent; False if it already was."""
    with database.session() as session:
        agent = named(session, Agent, name)
        if not agent.active:
            return False
        if agent.state is not AgentState.LOGGED_OUT:
            raise UserError(f"agent {name} is {agent.state.value}: log the agent out first")
        dids = numbers_to(session, agent=name)
        if dids:
            raise UserError(
                f"agent {name} takes the calls of direct number {', '.join(dids)}",
                hint=ELSEWHERE_HINT,
            )
        agent.active = False
        audit(session, change, "agent.deactivate", "agent", name)
        return True


def create_group(database: Database, name: str, description: str | None, change: Change) -> None:
    _check(_NAME, name, "group name", "letters, digits and _ . @ -, e.g. sales")
    with database.session() as session:
        if session.scalar(select(AgentGroup.id).where(AgentGroup.name == name)) is not None:
            raise UserError(f"agent group {name} already exists")
        session.add(AgentGroup(name=name, description=description))
        audit(session, change, "group.create", "agent_group", name, description=description)


def list_groups(database: Database) -> list[GroupInfo]:
    with database.session() as session:
        groups = session.scalars(select(AgentGroup).order_by(AgentGroup.name)).all()
        return [GroupInfo(g.name, g.description, _member_names(session, g.id)) for g in groups]


def add_to_group(database: Database, group: str, agents: Sequence[str], change: Change) -> list[str]:
    """Put `agents` in `group`; the names that were not in it already."""
    with database.session() as session:
        gid = group_id(session, group)
        members = set(_member_names(session, gid, include_inactive=True))
        added = [name for name in dict.fromkeys(agents) if name not in members]
        for name in added:
            session.add(AgentGroupMember(group_id=gid, agent_id=named(session, Agent, name).id))
        if added:
            audit(session, change, "group.add", "agent_group", group, agents=added)
        return added


def remove_from_group(database: Database, group: str, agents: Sequence[str], change: Change) -> list[str]:
    """Take `agents` out of `group`; the names that were in it."""
    with database.session() as session:
        gid = group_id(session, group)
        ids = {named(session, Agent, name).id: name for name in agents}
        removed = session.scalars(
            delete(AgentGroupMember)
            .where(AgentGroupMember.group_id == gid, AgentGroupMember.agent_id.in_(ids))
            .returning(AgentGroupMember.agent_id)
        ).all()
        names = sorted(ids[agent_id] for agent_id in removed)
        if names:
            audit(session, change, "group.remove", "agent_group", group, agents=names)
        return names


def named(session: Session, model: type[Named], name: str, *, lock: bool = False) -> Named:
    """The agent, group, campaign or list called `name` (locked for update); a `UserError` if none."""
    query = select(model).where(model.name == name)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        what, listing = _LOOKED_UP[model]
        raise UserError(f"no {what} named {name!r}", hint=f"`ringcast {listing}` shows them")
    return found


def group_id(session: Session, name: str) -> int:
    return named(session, AgentGroup, name).id


def group_name(session: Session, gid: int) -> str:
    return session.execute(select(AgentGroup.name).where(AgentGroup.id == gid)).scalar_one()


def active_agent_count(session: Session, gid: int) -> int:
    """How many active agents group `gid` has (logged in or not)."""
    query = (
        select(func.count())
        .select_from(AgentGroupMember)
        .join(Agent, Agent.id == AgentGroupMember.agent_id)
        .where(AgentGroupMember.group_id == gid, Agent.active)
    )
    return session.execute(query).scalar_one()


# Built once: the engine writes one pair per agent transition, several per call.
_SET_STATE = (
    update(Agent)
    .where(Agent.id == bindparam("agent_id"))
    .values(state=bindparam("to_state"), state_since=bindparam("at"), updated_at=bindparam("at"))
)
_LOG_STATE = insert(AgentStateLog).values(
    agent_id=bindparam("agent_id"),
    from_state=bindparam("from_state"),
    to_state=bindparam("to_state"),
    reason=bindparam("reason"),
    at=bindparam("at"),
    campaign_id=bindparam("campaign_id"),
)


def record_agent_change(target: Session | Connection, change: StateChange, campaign_id: int | None) -> None:
    """Persist one agent transition in `target`'s transaction: the agent's state and a state-log row."""
    connection = target.connection() if isinstance(target, Session) else target
    values = {
        "agent_id": change.agent_id,
        "from_state": change.from_state,
        "to_state": change.to_state,
        "reason": change.reason,
        "at": change.at,
        "campaign_id": campaign_id,
    }
    connection.execute(_SET_STATE, values)
    connection.execute(_LOG_STATE, values)


def log_out_all(database: Database, at: datetime, reason: str) -> int:
    """Log out every agent the database still shows logged in (after an engine restart); how many."""
    with database.session() as session:
        logged_in = session.execute(
            select(Agent.id, Agent.state).where(Agent.state != AgentState.LOGGED_OUT).with_for_update()
        ).all()
        for agent_id, state in logged_in:
            record_agent_change(
                session, StateChange(agent_id, state, AgentState.LOGGED_OUT, reason, at), None
            )
        return len(logged_in)


def _check(pattern: re.Pattern[str], value: str, what: str, expected: str) -> None:
    if not pattern.fullmatch(value):
        raise UserError(f"{what} {value!r}: give {expected}")


def _member_names(session: Session, gid: int, *, include_inactive: bool = False) -> tuple[str, ...]:
    query = (
        select(Agent.name)
        .join(AgentGroupMember, AgentGroupMember.agent_id == Agent.id)
        .where(AgentGroupMember.group_id == gid)
        .order_by(Agent.name)
    )
    if not include_inactive:
        query = query.where(Agent.active)
    return tuple(session.scalars(query))


def _info(session: Session, agent: Agent) -> AgentInfo:
    groups = session.execute(
        select(AgentGroup.id, AgentGroup.name)
        .join(AgentGroupMember, AgentGroupMember.group_id == AgentGroup.id)
        .where(AgentGroupMember.agent_id == agent.id)
        .order_by(AgentGroup.name)
    ).all()
    return AgentInfo(
        id=agent.id,
        name=agent.name,
        display_name=agent.display_name,
        dial_string=agent.dial_string,
        agent_number=agent.agent_number,
        state=agent.state,
        active=agent.active,
        ring_mode=agent.ring_mode,
        groups=tuple(name for _, name in groups),
        group_ids=tuple(gid for gid, _ in groups),
    )
