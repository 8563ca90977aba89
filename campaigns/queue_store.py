"""Inbound queues (skill groups, 技能组, ACD-1) in the database: the `queues` and `queue_members` rows.

A queue's settings are checked by building the `dialer.acd.queues.QueueConfig` the router uses
(each bad setting a one-line `UserError` naming the queue and the setting) and stored as its JSON
(`settings_json`); the overflows of all queues are checked together for loops and unknown queues
(`check_overflow_chains`) on every save, with every queue row locked. Members are agents, in the
listed order (`member add` puts a new one last, and changes a member's level in place). A queue
another overflows to, or with calls recorded (reports name it), is not deleted. Every change
writes an audit row (`agent_store.audit`) in its transaction.

A queue's post-call survey (SRV-2) is given by name (`survey`, None for none) and stored by id
(`survey_id`); an unknown name is a one-line `UserError`.

Overflow targets are written `queue:NAME`, `number:+8613800138000` or `voicemail:BOX`
(`parse_overflow`, `overflow_text`), in the settings and in the call records alike; a service
level is `80/20`: 80 % of calls answered within 20 s (`parse_service_level`).

For the engine: `load_queues(database)`, every queue with its members by agent id, and
`handle_times(database, since)`, each queue's average talk time, the estimated wait's handle time
(ACD-8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.agent_store import audit, named
from campaigns.compliance.blocklist_store import Change
from campaigns.direct_numbers import ELSEWHERE_HINT, check_leaving_queue, numbers_to
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, CallQueue, QueueMembership, QueueVisit
from campaigns.persistence.models import Survey as SurveyRow
from dialer.acd.queues import (
    MAX_SKILL,
    MIN_SKILL,
    Announced,
    OverflowTarget,
    QueueConfig,
    QueueMember,
    ServiceLevel,
    Strategy,
    ToNumber,
    ToQueue,
    ToVoicemail,
    check_overflow_chains,
)
from ringcast.errors import UserError

_NAME = re.compile(r"[\w.@-]{1,64}")
_NUMBER = re.compile(r"\+?\d{3,20}")
_SERVICE_LEVEL = re.compile(r"(\d{1,3}(?:\.\d+)?)/(\d+(?:\.\d+)?)")
_OVERFLOW_HELP = "give queue:NAME, number:+8613800138000 or voicemail:BOX"


@dataclass(frozen=True)
class StoredQueue:
    config: QueueConfig
    agents: Mapping[int, str]  # the members' names by agent id
    updated_at: datetime
    survey: str | None = None  # the name of `config.survey_id`

    def describe(self) -> dict[str, Any]:
        """`queue show --json`: the stored settings, and the members in order."""
        members = [
            {
                "agent": self.agents[m.agent_id],
                "agent_id": m.agent_id,
                "skill": m.skill,
                "supervisor": m.supervisor,
            }
            for m in self.config.members
        ]
        settings = settings_json(self.config)
        return {
            "name": self.config.name,
            **settings,
            "survey": self.survey,
            "members": members,
            "updated_at": self.updated_at.isoformat(),
        }


def parse_overflow(text: str) -> OverflowTarget:
    kind, colon, value = text.strip().partition(":")
    if colon and kind == "queue" and _NAME.fullmatch(value):
        return ToQueue(value)
    if colon and kind == "number" and _NUMBER.fullmatch(value):
        return ToNumber(value)
    if colon and kind == "voicemail" and _NAME.fullmatch(value):
        return ToVoicemail(value)
    raise UserError(f"overflow {text!r}: {_OVERFLOW_HELP}")


def overflow_text(target: OverflowTarget) -> str:
    match target:
        case ToQueue(queue):
            return f"queue:{queue}"
        case ToNumber(number):
            return f"number:{number}"
        case ToVoicemail(box):
            return f"voicemail:{box}"


def parse_service_level(text: str) -> ServiceLevel:
    """`80/20`: 80 % of the calls answered within 20 s."""
    found = _SERVICE_LEVEL.fullmatch(text.strip())
    if found is None:
        raise UserError(f"service level {text!r}: give PERCENT/SECONDS, e.g. 80/20")
    return ServiceLevel(float(found[1]) / 100, float(found[2]))


def service_level_text(level: ServiceLevel) -> str:
    return f"{level.share * 100:g}/{level.within_s:g}"


def settings_json(config: QueueConfig) -> dict[str, Any]:
    """Every setting of `config` but its name and members, as stored (`queues.settings`)."""
    return {
        "strategy": config.strategy.value,
        "priority": config.priority,
        "ring_timeout_s": config.ring_timeout_s,
        "max_wait_s": config.max_wait_s,
        "overflow": overflow_text(config.overflow_to),
        "short_abandon_s": config.short_abandon_s,
        "service_level": {"share": config.service_level.share, "within_s": config.service_level.within_s},
        "music_class": config.music_class,
        "announce_every_s": config.announce_every_s,
        "announced": config.announced.value,
        "announce_language": config.announce_language,
        "memory_days": config.memory_days,
        "memory_wait_s": config.memory_wait_s,
        "survey_id": config.survey_id,
    }


def create_queue(database: Database, name: str, settings: Mapping[str, Any], change: Change) -> StoredQueue:
    """A new queue without members; `settings` are `QueueConfig` fields (the others take its
    defaults), the survey by name (`survey`)."""
    if not _NAME.fullmatch(name):
        raise UserError(f"queue name {name!r}: give up to 64 letters, digits and _ . @ -, e.g. sales")
    with database.session() as session:
        config = QueueConfig(name, (), **_survey_by_id(session, settings))
        if session.scalar(select(CallQueue.id).where(CallQueue.name == name)) is not None:
            raise UserError(
                f"queue {name} already exists", hint=f"change it with `ringcast queue update {name}`"
            )
        _check_overflows(session, config)
        row = CallQueue(name=name, settings=settings_json(config))
        session.add(row)
        audit(session, change, "queue.create", "queue", name, **row.settings)
        session.flush()
        return _stored(session, row)


def update_queue(database: Database, name: str, settings: Mapping[str, Any], change: Change) -> StoredQueue:
    """Change the given `settings` (`QueueConfig` fields, the survey by name) of queue `name`; the
    others stay."""
    with database.session() as session:
        row = named(session, CallQueue, name, lock=True)
        settings = _survey_by_id(session, settings)
        config = replace(_config(row), **settings)
        _check_overflows(session, config)
        row.settings = settings_json(config)
        audit(session, change, "queue.update", "queue", name, **{key: row.settings[key] for key in settings})
        session.flush()
        return _stored(session, row)


def add_member(
    database: Database,
    queue: str,
    agent: str,
    change: Change,
    *,
    skill: int | None = None,
    supervisor: bool | None = None,
) -> StoredQueue:
    """Put `agent` last in `queue` (level `skill`, default 5), or change the level or supervisor flag
    of a member in its place."""
    if skill is not None and not MIN_SKILL <= skill <= MAX_SKILL:
        raise UserError(f"skill {skill}: give a level of {MIN_SKILL}-{MAX_SKILL} (higher gets calls first)")
    with database.session() as session:
        row = named(session, CallQueue, queue, lock=True)
        member_agent = named(session, Agent, agent)
        if not member_agent.active:
            raise UserError(
                f"agent {agent} is deactivated", hint="`ringcast agent list` shows the active ones"
            )
        member = session.get(QueueMembership, (row.id, member_agent.id))
        if member is None:
            last = session.scalar(
                select(func.max(QueueMembership.position)).where(QueueMembership.queue_id == row.id)
            )
            new = QueueMember(member_agent.id)  # the router's defaults
            member = QueueMembership(
                queue_id=row.id,
                agent_id=new.agent_id,
                skill=new.skill,
                supervisor=new.supervisor,
                position=(last or 0) + 1,
            )
            session.add(member)
        member.skill = member.skill if skill is None else skill
        member.supervisor = member.supervisor if supervisor is None else supervisor
        audit(
            session,
            change,
            "queue.member_set",
            "queue",
            queue,
            agent=agent,
            skill=member.skill,
            supervisor=member.supervisor,
        )
        session.flush()
        return _stored(session, row)


def remove_member(database: Database, queue: str, agent: str, change: Change) -> StoredQueue:
    with database.session() as session:
        row = named(session, CallQueue, queue, lock=True)
        agent_id = named(session, Agent, agent).id
        member = session.get(QueueMembership, (row.id, agent_id))
        if member is None:
            raise UserError(
                f"agent {agent} is not in queue {queue}", hint=f"`ringcast queue show {queue}` lists them"
            )
        check_leaving_queue(session, agent_id, agent)
        session.delete(member)
        audit(session, change, "queue.member_remove", "queue", queue, agent=agent)
        session.flush()
        return _stored(session, row)


def delete_queue(database: Database, name: str, change: Change) -> None:
    """Delete a queue no other overflows to and no call was recorded in."""
    with database.session() as session:
        row = named(session, CallQueue, name, lock=True)
        feeding = [other.name for other in _configs(session) if other.overflow_to == ToQueue(name)]
        if feeding:
            raise UserError(
                f"queue {name} is the overflow of queue {', '.join(feeding)}",
                hint="give them another --overflow with `ringcast queue update` first",
            )
        dids = numbers_to(session, queue=name)
        if dids:
            raise UserError(
                f"queue {name} takes the calls of direct number {', '.join(dids)}",
                hint=ELSEWHERE_HINT,
            )
        if session.scalar(select(QueueVisit.id).where(QueueVisit.queue == name).limit(1)) is not None:
            raise UserError(
                f"queue {name} has calls recorded and stays for the reports",
                hint=f"take its members out with `ringcast queue member remove {name} AGENT`",
            )
        session.delete(row)
        audit(session, change, "queue.delete", "queue", name, **row.settings)


def get_queue(database: Database, name: str) -> StoredQueue:
    with database.session() as session:
        return _stored(session, named(session, CallQueue, name))


def list_queues(database: Database) -> list[StoredQueue]:
    """Every queue, by name."""
    with database.session() as session:
        return [_stored(session, row) for row in session.scalars(select(CallQueue).order_by(CallQueue.name))]


def load_queues(database: Database) -> dict[str, QueueConfig]:
    """Every queue by name, with its members by agent id in order: what the engine's board routes by."""
    with database.session() as session:
        members: dict[int, list[QueueMember]] = {}
        rows = session.scalars(
            select(QueueMembership).order_by(QueueMembership.queue_id, QueueMembership.position)
        )
        for member in rows:
            members.setdefault(member.queue_id, []).append(_member(member))
        queues = session.scalars(select(CallQueue).order_by(CallQueue.name))
        return check_overflow_chains(_config(row, tuple(members.get(row.id, ()))) for row in queues)


def handle_times(database: Database, since: datetime) -> dict[str, float]:
    """Each queue's average talk (seconds) over its calls answered since `since`; a queue with none
    is left out (its estimated wait is unknown)."""
    with database.session() as session:
        rows = session.execute(
            select(QueueVisit.queue, func.avg(QueueVisit.talk_ms))
            .where(
                QueueVisit.queue.in_(select(CallQueue.name)),  # a seek per queue on its index, not a scan
                QueueVisit.entered_at >= since,
                QueueVisit.talk_ms.is_not(None),
            )
            .group_by(QueueVisit.queue)
        )
        return {queue: float(average) / 1000 for queue, average in rows}


def settings_by_name(session: Session, name: str | None = None) -> dict[str, QueueConfig]:
    """The settings (without members) of queue `name` (none if there is no such queue), or of every queue."""
    query = select(CallQueue).order_by(CallQueue.name)
    rows = session.scalars(query if name is None else query.where(CallQueue.name == name))
    return {row.name: _config(row) for row in rows}


def _survey_by_id(session: Session, settings: Mapping[str, Any]) -> dict[str, Any]:
    """`settings` with the survey given by name (`survey`; None: none) as its id (`survey_id`)."""
    resolved = {key: value for key, value in settings.items() if key != "survey"}
    if "survey" in settings:
        survey = settings["survey"]
        resolved["survey_id"] = None if survey is None else named(session, SurveyRow, survey).id
    return resolved


def _check_overflows(session: Session, config: QueueConfig) -> None:
    """A `UserError` unless `config`'s overflow, with every other queue's, ends without a loop (a
    loop is shown from `config`)."""
    others = [other for other in _configs(session, lock=True) if other.name != config.name]
    check_overflow_chains([config, *others])


def _configs(session: Session, *, lock: bool = False) -> list[QueueConfig]:
    query = select(CallQueue).order_by(CallQueue.name)
    return [_config(row) for row in session.scalars(query.with_for_update() if lock else query)]


def _config(row: CallQueue, members: tuple[QueueMember, ...] = ()) -> QueueConfig:
    settings = row.settings
    return QueueConfig(
        row.name,
        members,
        strategy=Strategy(settings["strategy"]),
        priority=settings["priority"],
        ring_timeout_s=settings["ring_timeout_s"],
        max_wait_s=settings["max_wait_s"],
        overflow=parse_overflow(settings["overflow"]),
        short_abandon_s=settings["short_abandon_s"],
        service_level=ServiceLevel(**settings["service_level"]),
        music_class=settings["music_class"],
        announce_every_s=settings["announce_every_s"],
        announced=Announced(settings["announced"]),
        announce_language=settings["announce_language"],
        memory_days=settings["memory_days"],
        memory_wait_s=settings["memory_wait_s"],
        survey_id=settings["survey_id"],
    )


def _stored(session: Session, row: CallQueue) -> StoredQueue:
    members = session.execute(
        select(QueueMembership, Agent.name)
        .join(Agent, Agent.id == QueueMembership.agent_id)
        .where(QueueMembership.queue_id == row.id)
        .order_by(QueueMembership.position)
    ).all()
    config = _config(row, tuple(_member(member) for member, _ in members))
    survey = None if config.survey_id is None else session.get_one(SurveyRow, config.survey_id).name
    agents = {member.agent_id: agent for member, agent in members}
    return StoredQueue(config, agents, row.updated_at, survey)


def _member(row: QueueMembership) -> QueueMember:
    return QueueMember(row.agent_id, row.skill, row.supervisor)
