"""`call_controls`: every in-call control an agent used (AGT-4, IVR-6), one row each, in order.

A row says who (`agent_id`), when (`at`), what (`control`: hold, resume, transfer, add, consult,
conference, complete, cancel, mute, unmute, and the engine's own `third_gone`, `flow_returned`,
`flow_left`), to whom (`target`, `agent:NAME`, `queue:NAME`, `flow:NAME` or `number:+86...`), the
legs' arrangement after it (`legs`), and on which call: `call` is the customer's channel id, and the
row names the outbound attempt or the inbound call it belongs to (one of the two).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.persistence.models.base import Base, BigId, UTCDateTime


class CallControl(Base):
    __tablename__ = "call_controls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    call: Mapped[str] = mapped_column(String(150), index=True)
    attempt_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("attempts.id"), index=True)
    inbound_call_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("inbound_calls.id"), index=True)
    control: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(200))
    legs: Mapped[str | None] = mapped_column(String(16))  # None: the agent is off the call
