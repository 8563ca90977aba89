"""Which inbound numbers go straight to an agent or a queue (ACD-9), so that neither is taken away
from under them: an agent named by a direct number is not deactivated, a queue not deleted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.persistence.models import InboundNumber


def numbers_to(session: Session, *, agent: str | None = None, queue: str | None = None) -> list[str]:
    """The DIDs whose plan sends calls straight to `agent` (by login name) or to `queue`."""
    found = []
    for did, plan in session.execute(select(InboundNumber.did, InboundNumber.flow_plan)):
        direct = (plan or {}).get("direct") or {}
        if (agent is not None and direct.get("agent") == agent) or (
            queue is not None and direct.get("queue") == queue
        ):
            found.append(did)
    return sorted(found)
