"""Keypress surveys (SRV-1..4): the definition, one response per surveyed call, one row per answer.

A survey's questions live in `definition` JSON; editing it bumps `version`, and each response
records the version it was given under, so old answers stay interpretable. A response is `partial`
when the respondent hung up before the end; `completed_at` is set when the last question was answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, CreatedUpdated, JSONType, UTCDateTime


class Survey(CreatedUpdated, Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_campaign_started", "campaign_id", "started_at"),
        Index("ix_survey_responses_agent_started", "agent_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    survey_version: Mapped[int] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("attempts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SurveyAnswer(Base):
    """The accepted key(s) for one question; invalid input and retries are not stored."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(BigId, ForeignKey("survey_responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(16))  # DTMF digit(s), e.g. "5" or "12#"
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
