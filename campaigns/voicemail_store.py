"""Voicemail boxes and messages in the database (IVR-4): greetings, messages left, who is told,
what is heard.

A box is an agent's or a queue's (`Box`, written `agent:NAME` or `queue:NAME`). A queue's overflow
`voicemail:NAME` names a box by name alone: the queue of that name, else the agent, else a queue box
nobody owns (`box_for`). A greeting is set per box (`set_greeting`: the sound the pbx plays, made by
the caller of this module from TTS text or an uploaded file) and replaces the stock `vm-intro`.

A caller's end in a box (`ended_in_box`, in the engine's database thread: it reads the recording)
is a message only when the recording holds at least `MIN_MESSAGE_S` of sound: a caller who hung up
during the greeting (no file, or a header-only one) ends `abandoned`, with no message. A message
(`message_left`, one per call) is told to the box's owners: the agent, or every member of the
queue (`Notice.agents`). Each of them hears it on its own: an agent's unheard messages are those of
its own box and of its queues' it has not marked heard (`unheard_for`, `mark_heard` with `agent`);
the box's view (`list_messages`, for supervisors) gives each message's first hearing and every
agent who heard it. Greeting changes and messages heard are audited (`agent_store.audit`).
"""

from __future__ import annotations

import re
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaigns import inbound_store
from campaigns.agent_store import audit, named
from campaigns.compliance.blocklist_store import Change
from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Agent,
    CallQueue,
    InboundCall,
    QueueMembership,
    VoicemailBox,
    VoicemailHeard,
    VoicemailMessage,
)
from campaigns.persistence.models.enums import InboundOutcome
from ringcast.errors import UserError

Owner = Literal["agent", "queue"]
_BOX = re.compile(r"(agent|queue):([\w.@-]{1,64})")
MIN_MESSAGE_S = 1.0  # a recording shorter than this is no message (a hang-up at the greeting or the tone)


@dataclass(frozen=True, slots=True)
class Box:
    owner: Owner
    name: str

    def __str__(self) -> str:
        return f"{self.owner}:{self.name}"


def parse_box(text: str) -> Box:
    found = _BOX.fullmatch(text.strip())
    if found is None:
        raise UserError(f"voicemail box {text!r}: give agent:NAME or queue:NAME, e.g. queue:sales")
    owner: Owner = "agent" if found[1] == "agent" else "queue"
    return Box(owner, found[2])


@dataclass(frozen=True)
class Notice:
    """A message left, and the names of the agents to tell."""

    message: dict[str, Any]
    agents: tuple[str, ...]


def set_greeting(
    database: Database,
    box: Box,
    sound: str,
    change: Change,
    *,
    language: str,
    text: str | None = None,
    audio: str | None = None,
) -> dict[str, Any]:
    """Box `box` greets callers with `sound` (rendered from `text`, or the uploaded `audio`)."""
    with database.session() as session:
        _owner_row(session, box)
        row = session.scalar(_box_query(box).with_for_update())
        if row is None:
            row = VoicemailBox(owner=box.owner, name=box.name)
            session.add(row)
        row.greeting_text, row.greeting_audio, row.language, row.greeting_sound = text, audio, language, sound
        audit(session, change, "voicemail.greeting_set", "voicemail_box", str(box), text=text, audio=audio)
        session.flush()
        return _greeting(row)


def clear_greeting(database: Database, box: Box, change: Change) -> None:
    """Back to the stock greeting."""
    with database.session() as session:
        row = session.scalar(_box_query(box).with_for_update())
        if row is None:
            raise UserError(f"voicemail box {box} has no greeting of its own")
        session.delete(row)
        audit(session, change, "voicemail.greeting_clear", "voicemail_box", str(box))


def greetings(database: Database) -> list[dict[str, Any]]:
    with database.session() as session:
        rows = session.scalars(select(VoicemailBox).order_by(VoicemailBox.owner, VoicemailBox.name))
        return [_greeting(row) for row in rows]


def box_for(database: Database, owner: Owner | None, name: str) -> tuple[Box, str | None]:
    """The box a caller is sent to (`owner` None: an overflow's box by name), and its greeting's
    sound (None: the stock one)."""
    with database.session() as session:
        if owner is None:
            queue = session.scalar(select(CallQueue.id).where(CallQueue.name == name))
            agent = session.scalar(select(Agent.id).where(Agent.name == name))
            owner = "agent" if queue is None and agent is not None else "queue"
        box = Box(owner, name)
        return box, session.scalar(select(VoicemailBox.greeting_sound).where(*_box_is(box)))


def recorded_s(path: Path) -> float:
    """The seconds of sound in the WAV file at `path`; 0 when it is missing or not a WAV file."""
    try:
        with wave.open(str(path), "rb") as recording:
            return recording.getnframes() / recording.getframerate()
    except (OSError, EOFError, wave.Error, ZeroDivisionError):
        return 0.0


def ended_in_box(
    database: Database,
    spool: Path | None,
    call_id: int,
    box: Box,
    file: str,
    at: datetime,
    outcome: InboundOutcome,
    cause: int | None,
) -> Notice | None:
    """Call `call_id` ended in `box`, its recording `file` (under the pbx's spool directory, `spool`
    here): a message, and who is to be told of it, when the recording holds `MIN_MESSAGE_S` of
    sound or more (or the spool cannot be read here: `spool` None or not a directory), the call
    ending by `outcome`; else None, the call `abandoned`, without a file. The call's end and its
    message are one transaction."""
    if spool is not None and spool.is_dir() and recorded_s(spool / f"{file}.wav") < MIN_MESSAGE_S:
        inbound_store.end_call(database, call_id, at, InboundOutcome.ABANDONED, cause)
        return None
    with database.session() as session:
        inbound_store.end_call_in(session, call_id, at, outcome, cause, file)
        return _keep_message(session, call_id, box, file, at)


def message_left(database: Database, call_id: int, box: Box, file: str, at: datetime) -> Notice:
    """Keep the message call `call_id` left in `box`; who is to be told of it."""
    with database.session() as session:
        return _keep_message(session, call_id, box, file, at)


def _keep_message(session: Session, call_id: int, box: Box, file: str, at: datetime) -> Notice:
    row = VoicemailMessage(call_id=call_id, owner=box.owner, box=box.name, file=file, left_at=at)
    session.add(row)
    session.flush()
    caller = session.get_one(InboundCall, call_id).caller
    if box.owner == "agent":
        agents = session.scalars(select(Agent.name).where(Agent.name == box.name, Agent.active))
    else:
        agents = session.scalars(
            select(Agent.name)
            .join(QueueMembership, QueueMembership.agent_id == Agent.id)
            .join(CallQueue, CallQueue.id == QueueMembership.queue_id)
            .where(CallQueue.name == box.name, Agent.active)
            .order_by(QueueMembership.position)
        )
    return Notice(_message(row, caller), tuple(agents))


def unheard_for(database: Database, agent: str) -> list[dict[str, Any]]:
    """The messages of `agent`'s own box and of its queues' boxes that it has not heard, newest first."""
    return messages_for(database, agent, unheard=True)


def messages_for(database: Database, agent: str, *, unheard: bool = False) -> list[dict[str, Any]]:
    """The messages of `agent`'s own box and of its queues' boxes, newest first, each with
    `heard_by_agent` (when the agent heard it, or None); with `unheard`, those it has not heard."""
    with database.session() as session:
        row = named(session, Agent, agent)
        queues = select(CallQueue.name).join(QueueMembership).where(QueueMembership.agent_id == row.id)
        heard = (
            select(VoicemailHeard.heard_at)
            .where(VoicemailHeard.message_id == VoicemailMessage.id, VoicemailHeard.agent_id == row.id)
            .scalar_subquery()
        )
        query = (
            _messages()
            .add_columns(heard)
            .where(
                ((VoicemailMessage.owner == "agent") & (VoicemailMessage.box == agent))
                | ((VoicemailMessage.owner == "queue") & VoicemailMessage.box.in_(queues))
            )
        )
        if unheard:
            query = query.where(heard.is_(None))
        return [
            _message(message, caller) | {"heard_by_agent": _instant(heard_at)}
            for message, caller, heard_at in session.execute(query)
        ]


def list_messages(
    database: Database, box: Box | None = None, *, unheard: bool = False
) -> list[dict[str, Any]]:
    """The messages of `box` (of every box when None), newest first, each with the agents who heard
    it (`heard`); with `unheard`, those nobody has heard."""
    with database.session() as session:
        query = _messages()
        if box is not None:
            query = query.where(VoicemailMessage.owner == box.owner, VoicemailMessage.box == box.name)
        if unheard:
            query = query.where(VoicemailMessage.heard_at.is_(None))
        found = session.execute(query).all()
        hearings: dict[int, list[dict[str, Any]]] = {}
        ids = [message.id for message, _ in found]
        for message_id, name, heard_at in session.execute(
            select(VoicemailHeard.message_id, Agent.name, VoicemailHeard.heard_at)
            .join(Agent, Agent.id == VoicemailHeard.agent_id)
            .where(VoicemailHeard.message_id.in_(ids))
            .order_by(VoicemailHeard.heard_at, Agent.name)
        ):
            hearings.setdefault(message_id, []).append({"agent": name, "at": heard_at.isoformat()})
        return [
            _message(message, caller) | {"heard": hearings.get(message.id, [])} for message, caller in found
        ]


def mark_heard(
    database: Database, message_id: int, change: Change, *, agent: str | None = None
) -> dict[str, Any]:
    """Message `message_id` heard by `change.actor`: with `agent`, by that agent (one of its boxes'
    messages), off its unheard list alone; the box's first hearing is kept either way. Marking a
    heard message again keeps the first hearing."""
    with database.session() as session:
        found = session.execute(
            _messages().where(VoicemailMessage.id == message_id).with_for_update(of=VoicemailMessage)
        ).first()
        agent_row = None if agent is None else named(session, Agent, agent)
        if found is None or (agent is not None and not _reaches(session, found[0], agent)):
            whose = f" in {agent}'s boxes" if agent is not None else ""
            raise UserError(f"no voicemail message {message_id}{whose}")
        message, caller = found
        first = message.heard_at is None
        if first:
            message.heard_at, message.heard_by = change.at, change.actor[:100]
        mine = (
            agent_row is not None
            and session.scalar(
                select(VoicemailHeard.id).where(
                    VoicemailHeard.message_id == message.id, VoicemailHeard.agent_id == agent_row.id
                )
            )
            is None
        )
        if agent_row is not None and mine:
            session.add(VoicemailHeard(message_id=message.id, agent_id=agent_row.id, heard_at=change.at))
        if first or mine:
            details = {} if agent is None else {"agent": agent}
            audit(session, change, "voicemail.heard", "voicemail_message", str(message.id), **details)
        return _message(message, caller)


def _reaches(session: Session, message: VoicemailMessage, agent: str) -> bool:
    if message.owner == "agent":
        return message.box == agent
    member = (
        select(QueueMembership.agent_id)
        .join(CallQueue, CallQueue.id == QueueMembership.queue_id)
        .join(Agent, Agent.id == QueueMembership.agent_id)
        .where(CallQueue.name == message.box, Agent.name == agent)
    )
    return session.scalar(member) is not None


def _owner_row(session: Session, box: Box) -> None:
    """A `UserError` unless the box's agent or queue exists."""
    if box.owner == "agent":
        named(session, Agent, box.name)
    else:
        named(session, CallQueue, box.name)


def _box_is(box: Box) -> tuple[Any, ...]:
    return VoicemailBox.owner == box.owner, VoicemailBox.name == box.name


def _box_query(box: Box) -> Select[VoicemailBox]:
    return select(VoicemailBox).where(*_box_is(box))


def _messages() -> Select[VoicemailMessage, str]:
    return (
        select(VoicemailMessage, InboundCall.caller)
        .join(InboundCall, InboundCall.id == VoicemailMessage.call_id)
        .order_by(VoicemailMessage.left_at.desc(), VoicemailMessage.id.desc())
    )


def _instant(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _greeting(row: VoicemailBox) -> dict[str, Any]:
    return {
        "box": f"{row.owner}:{row.name}",
        "text": row.greeting_text,
        "audio": row.greeting_audio,
        "language": row.language,
        "sound": row.greeting_sound,
    }


def _message(row: VoicemailMessage, caller: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "box": f"{row.owner}:{row.box}",
        "caller": caller,
        "file": row.file,
        "left_at": row.left_at.isoformat(),
        "heard_at": _instant(row.heard_at),
        "heard_by": row.heard_by,
    }
