"""Voicemail (IVR-4): `voicemail_boxes`, a box's greeting, and `voicemail_messages`, one per message left.

A box belongs to an agent or a queue (`owner`, `name`: the agent's login or the queue's name). A
box row exists only once a greeting was set: the pbx then plays `greeting_sound` (a TTS rendering
of `greeting_text` in `language`, or an uploaded recording) instead of the stock `vm-intro`.

A message is the call that left it (`call_id`, one message per call), the box, the file under the
pbx's spool directory, when it was left, and when and by whom it was first marked heard (NULL:
nobody has heard it; the box's view for supervisors). `voicemail_heard` says which agents have
heard it, one row per agent and message: each of the box's agents (the agent, or every member of
the queue) has its own unheard list, the box's messages without a row of its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, CreatedUpdated, UTCDateTime

_OWNER = "owner IN ('agent', 'queue')"


class VoicemailBox(CreatedUpdated, Base):
    __tablename__ = "voicemail_boxes"
    __table_args__ = (
        UniqueConstraint("owner", "name"),
        CheckConstraint(_OWNER, name="owner"),
        CheckConstraint("(greeting_text IS NULL) <> (greeting_audio IS NULL)", name="one_greeting"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    greeting_text: Mapped[str | None] = mapped_column(Text)
    greeting_audio: Mapped[str | None] = mapped_column(String(255))  # the uploaded file as given
    language: Mapped[str] = mapped_column(String(8))
    greeting_sound: Mapped[str] = mapped_column(String(255))  # what the pbx plays


class VoicemailMessage(Base):
    __tablename__ = "voicemail_messages"
    __table_args__ = (
        CheckConstraint(_OWNER, name="owner"),
        Index("ix_voicemail_messages_box_heard", "owner", "box", "heard_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("inbound_calls.id", ondelete="CASCADE"), unique=True
    )
    owner: Mapped[str] = mapped_column(String(8))
    box: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(255))  # under the pbx's spool directory, without extension
    left_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heard_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heard_by: Mapped[str | None] = mapped_column(String(100))


class VoicemailHeard(Base):
    __tablename__ = "voicemail_heard"
    __table_args__ = (UniqueConstraint("message_id", "agent_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("voicemail_messages.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    heard_at: Mapped[datetime] = mapped_column(UTCDateTime())
