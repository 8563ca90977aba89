"""Numbers dialled straight to one agent or one queue (直拨, ACD-9): a DID's plan without a flow.

    direct: {agent: wang}                  # to agent wang, waiting in its first queue
    direct: {agent: wang, queue: vip}      # ... waiting in queue vip (its music, wait limit, overflow)
    direct: {agent: wang, fallback_after_s: 30}   # ... after 30 s, any agent of that queue
    direct: {queue: sales, vip_priority: 10, blacklisted: busy}

A direct number does what a flow of one `agent` or `queue` node would: `direct_final` gives the
same final action (`RouteToAgent`, `RouteToQueue`), with the route's `vip_priority` for a VIP
caller (a customer tagged vip, or a number on the VIP list), and a blacklisted caller is refused as
`blacklisted` says, like a flow's setting of that name. With `fallback_after_s`, a call for the
agent goes to the queue's other agents after that long, or at once while the agent is logged out or
not a member of the queue (`dialer.acd.calls.falls_back`), keeping its first arrival. Pure.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dialer.ivr.actions import RouteToAgent, RouteToQueue
from dialer.ivr.facts import VIP, CallerFacts

Name = Annotated[str, Field(min_length=1, max_length=64)]


class DirectRoute(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: Name | None = None  # the agent's login name
    queue: Name | None = None  # the queue; with `agent`, the one it waits in (default: the agent's first)
    vip_priority: int = Field(default=0, ge=0, le=100)  # added for a VIP caller (ACD-3)
    blacklisted: Literal["message", "busy"] = "message"  # how a blacklisted caller is refused (ACD-10)
    fallback_after_s: float | None = Field(default=None, ge=0, le=86400)  # then the queue's agents

    @model_validator(mode="after")
    def _names_a_target(self) -> DirectRoute:
        if self.agent is None and self.queue is None:
            raise ValueError("give the agent or the queue the number goes to")
        if self.fallback_after_s is not None and self.agent is None:
            raise ValueError("a fallback is for a number that goes to an agent")
        return self

    def target(self) -> dict[str, str]:
        """Where the number goes, as kept in the call's trail: `{"agent": "wang"}`, `{"queue": "sales"}`."""
        return {key: value for key, value in (("agent", self.agent), ("queue", self.queue)) if value}


def direct_final(route: DirectRoute, caller: CallerFacts) -> RouteToAgent | RouteToQueue:
    """Where the caller goes, as a one-node flow would send it."""
    bump = route.vip_priority if caller.tagged(VIP) else 0
    if route.agent is not None:
        return RouteToAgent(route.agent, route.queue, bump, route.fallback_after_s)
    assert route.queue is not None
    return RouteToQueue(route.queue, bump)
