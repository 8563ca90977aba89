"""Agents (座席), the skill groups they serve (技能组, ACD-1) and every state change they make (AGT-1).

`agents.state` is the current state; `agent_state_log` is the history reports read (示忙示闲记录).
Agents are deactivated (`active = false`), not deleted, so call records keep their agent. An agent in
`ring_mode` has its phone called for each inbound call it is offered instead of keeping it in its
conference for the whole session (ACD-6).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, CreatedUpdated, UTCDateTime, str_enum, utc_now
from campaigns.persistence.models.enums import AgentState


class AgentGroup(Base):
    __tablename__ = "agent_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(200))


class Agent(CreatedUpdated, Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # login
    display_name: Mapped[str] = mapped_column(String(100))
    dial_string: Mapped[str] = mapped_column(String(200))  # "PJSIP/agent1", or a remote agent's number
    agent_number: Mapped[str | None] = mapped_column(String(16), unique=True)  # 工号, announced (AGT-5)
    state: Mapped[AgentState] = mapped_column(str_enum(AgentState, "state"), default=AgentState.LOGGED_OUT)
    state_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # added by migration 0013, hence after the timestamps in the table
    ring_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), sort_order=10)


class AgentGroupMember(Base):
    """An agent in a group; a higher `skill_level` is offered calls first (ACD-1)."""

    __tablename__ = "agent_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("agent_groups.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    skill_level: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class AgentStateLog(Base):
    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_agent_at", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    from_state: Mapped[AgentState] = mapped_column(str_enum(AgentState, "from_state"))
    to_state: Mapped[AgentState] = mapped_column(str_enum(AgentState, "to_state"))
    reason: Mapped[str | None] = mapped_column(String(100))  # not-ready reason, "timeout", "supervisor"...
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
