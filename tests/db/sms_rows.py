"""Rows and requests the SMS DB tests start from: outbox messages in any state, leads, and reads of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from campaigns.persistence.db import Database
from campaigns.persistence.models import Base, Lead
from campaigns.persistence.models.enums import SmsState
from sms.outbox import OutboxRules, SmsRequest
from sms.segments import segments

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # a Monday, 10:30 in Shanghai
MOBILE = "+8613812345678"
RULES = OutboxRules(region="CN", providers=("aliyun", "sim", "twilio"), max_segments=3)
MESSAGES = Base.metadata.tables["sms_messages"]


def request(key: str, to: str = MOBILE, body: str = "您的验证码是 1234", **fields: Any) -> SmsRequest:
    """A request to provider `sim` unless `fields` say otherwise."""
    return SmsRequest(key=key, to=to, body=body, provider=fields.pop("provider", "sim"), **fields)


def add_message(
    session: Session,
    key: str,
    *,
    to: str = MOBILE,
    body: str = "您好",
    state: SmsState = SmsState.QUEUED,
    provider: str = "sim",
    next_try_at: datetime | None = NOW,
    tries: int = 0,
    marketing: bool = False,
    created_at: datetime = NOW,
    **columns: Any,
) -> int:
    """Write one outbox row as it stands at some point of its life (columns as in `sms_messages`); its id."""
    encoding, parts = segments(body)
    values = {
        "idempotency_key": key,
        "to_e164": to,
        "body": body,
        "segments": parts,
        "encoding": encoding.value,
        "marketing": marketing,
        "provider": provider,
        "state": state.value,
        "tries": tries,
        "next_try_at": next_try_at,
        "created_at": created_at,
        **columns,
    }
    inserted = session.connection().execute(MESSAGES.insert().values(values).returning(MESSAGES.c.id))
    return int(inserted.scalar_one())


def message(database: Database, message_id: int) -> Row[Any]:
    """The outbox row as committed, read in a transaction of its own."""
    with database.session() as session:
        return session.connection().execute(select(MESSAGES).where(MESSAGES.c.id == message_id)).one()


def messages(database: Database) -> list[Row[Any]]:
    with database.session() as session:
        return list(session.connection().execute(select(MESSAGES).order_by(MESSAGES.c.id)))


def count(database: Database, model: type[Base]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def add_lead(
    session: Session,
    list_id: int,
    e164: str,
    attributes: Mapping[str, Any] | None = None,
    time_zones: list[str] | None = None,
) -> int:
    lead = Lead(
        list_id=list_id,
        e164=e164,
        raw_input=e164,
        attributes=dict(attributes or {}),
        time_zones=list(time_zones or []),
        next_attempt_at=NOW - timedelta(days=1),
    )
    session.add(lead)
    session.flush()
    return lead.id
