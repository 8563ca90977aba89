"""Keypress surveys (SRV-1..4): the definition, one response per surveyed call, one row per answer.

A survey's questions live in `definition` JSON; editing it bumps `version`, and each response
records the version it was given under. A response is asked on an outbound attempt (its campaign
and agent) or on an inbound call (after its agent: the queue that served it last; or by a survey
node of its IVR flow). Each answer keeps the meaning its key had when it was given,
so old answers stay interpretable after edits. A response is `partial` until the respondent reaches
the end (`completed_at`); `ended_at` is when the call left the survey, either way. The answer of a
question asked through every retry without a valid key has no key and says why (`result`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, CreatedUpdated, JSONType, UTCDateTime, str_enum
from campaigns.persistence.models.enums import AnswerResult


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
        Index("ix_survey_responses_queue_started", "queue_id", "started_at"),
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
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inbound_call_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("inbound_calls.id"), index=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))  # that served the inbound call last


class SurveyAnswer(Base):
    """One question's outcome: the accepted key and its meaning, how many tries it took."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(BigId, ForeignKey("survey_responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(16))  # DTMF digit(s); None unless answered
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    meaning: Mapped[str | None] = mapped_column(String(100))  # the key's meaning in that version
    result: Mapped[AnswerResult] = mapped_column(
        str_enum(AnswerResult, "result"),
        default=AnswerResult.ANSWERED,
        server_default=AnswerResult.ANSWERED.value,
    )
    tries: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
