"""Which inbound numbers run which flows, or go straight to an agent or a queue (ACD-9), so that
none is taken away from under them: a flow a number runs is not deactivated, an agent named by a
direct number is not deactivated, nor taken out of its last queue when its calls wait in its first
one, a queue not deleted.

Every number's plan is read the one way (`plans`: `did_plan.parse_plan`, as the engine reads it).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.persistence.models import InboundNumber, QueueMembership
from dialer.ivr.did_plan import DidPlan, parse_plan
from ringcast.errors import UserError

ELSEWHERE_HINT = "send that number elsewhere first (`ringcast ivr did set DID --agent|--queue|--flow`)"


def plans(session: Session) -> list[tuple[str, DidPlan]]:
    """Every number's plan, by DID."""
    rows = session.execute(select(InboundNumber.did, InboundNumber.flow_plan).order_by(InboundNumber.did))
    return [(did, parse_plan(plan or {}, f"DID {did}")) for did, plan in rows]


def numbers_to(session: Session, *, agent: str | None = None, queue: str | None = None) -> list[str]:
    """The DIDs whose plan sends calls straight to `agent` (by login name) or to `queue`."""
    found = []
    for did, plan in plans(session):
        direct = plan.direct
        if direct is not None and (
            (agent is not None and direct.agent == agent) or (queue is not None and direct.queue == queue)
        ):
            found.append(did)
    return found


def check_leaving_queue(session: Session, agent_id: int, agent: str) -> None:
    """Refuse to take `agent` out of its last queue while a direct number's calls wait for it in
    its first queue (no queue named): they would have nowhere to wait."""
    seats = session.scalar(select(func.count()).where(QueueMembership.agent_id == agent_id)) or 0
    if seats > 1:
        return
    dids = [
        did
        for did, plan in plans(session)
        if plan.direct and plan.direct.agent == agent and not plan.direct.queue
    ]
    if dids:
        raise UserError(
            f"agent {agent} takes the calls of direct number {', '.join(dids)} in its only queue",
            hint=ELSEWHERE_HINT + ", or give it another queue",
        )
