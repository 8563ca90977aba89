"""The simulator's faults: one small class per way a provider misbehaves, picked by seeded chance.

Like Jasmin's SMSC simulator (`HappySMSC`, `ErrorOnSubmitSMSC`, `NoResponseOnSubmitSMSC`), each
fault is its own class. A fault acts at two points of a send: `before_accept` (it may answer
instead, so nothing is accepted: 5xx, 429, wrong credentials; or delay: a slow reply) and
`after_accept` (the message is already recorded: hold the reply past the client's timeout, drop
the connection unanswered, or answer a 2xx nobody can parse). `FaultPlan` holds the shares and
parameters (changed at run time through `/_control/faults`) and picks one fault per request with
its own `random.Random(seed)`: the same seed and the same requests give the same faults.
"""

from __future__ import annotations

import asyncio
import random

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sms.gateway_sim.http_server import DROP, Drop, Response
from sms.gateway_sim.shape import Shape

Share = float  # 0..1


class FaultSettings(BaseModel):
    """Shares of requests (or messages, for DLRs) that misbehave, and how."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 1
    server_error: Share = Field(default=0.0, ge=0, le=1)  # 5xx before accepting
    rate_limited: Share = Field(default=0.0, ge=0, le=1)  # 429 + Retry-After (Aliyun: throttling code)
    unauthorized: Share = Field(default=0.0, ge=0, le=1)  # 401 even with good credentials
    slow: Share = Field(default=0.0, ge=0, le=1)  # answer after slow_ms
    timeout: Share = Field(default=0.0, ge=0, le=1)  # accept, then hold the reply hold_ms
    drop_after_accept: Share = Field(default=0.0, ge=0, le=1)  # accept, then close with no reply
    garbled: Share = Field(default=0.0, ge=0, le=1)  # accept, then a 2xx that is not JSON
    server_error_status: int = Field(default=503, ge=500, le=599)
    retry_after_s: float = Field(default=1.0, ge=0)
    slow_ms: int = Field(default=200, ge=0)
    hold_ms: int = Field(default=5000, ge=0)
    blocked_numbers: list[str] = Field(default_factory=list)  # E.164; refused for good
    # delivery receipts
    dlr_delay_ms: int = Field(default=100, ge=0)
    dlr_failed: Share = Field(default=0.0, ge=0, le=1)  # final status failed instead of delivered
    dlr_duplicate: Share = Field(default=0.0, ge=0, le=1)  # the final DLR posted twice
    dlr_out_of_order: Share = Field(default=0.0, ge=0, le=1)  # the final DLR before the intermediate

    @model_validator(mode="after")
    def _shares_fit(self) -> FaultSettings:
        total = sum(getattr(self, fault.name) for fault in FAULTS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"the request fault shares add up to {total:g} > 1")
        return self


class Fault:
    """No fault: the happy provider (Jasmin's HappySMSC)."""

    name = "none"

    async def before_accept(self, shape: Shape, settings: FaultSettings) -> Response | None:
        return None

    async def after_accept(self, reply: Response, settings: FaultSettings) -> Response | Drop:
        return reply


class ServerErrorFault(Fault):
    name = "server_error"

    async def before_accept(self, shape: Shape, settings: FaultSettings) -> Response | None:
        return shape.server_error(settings.server_error_status)


class RateLimitedFault(Fault):
    name = "rate_limited"

    async def before_accept(self, shape: Shape, settings: FaultSettings) -> Response | None:
        return shape.rate_limited(settings.retry_after_s)


class UnauthorizedFault(Fault):
    name = "unauthorized"

    async def before_accept(self, shape: Shape, settings: FaultSettings) -> Response | None:
        return shape.unauthorized()


class SlowReplyFault(Fault):
    name = "slow"

    async def before_accept(self, shape: Shape, settings: FaultSettings) -> Response | None:
        await asyncio.sleep(settings.slow_ms / 1000)
        return None


class HeldReplyFault(Fault):
    """Accepts, then answers only after `hold_ms`: past the client's timeout."""

    name = "timeout"

    async def after_accept(self, reply: Response, settings: FaultSettings) -> Response | Drop:
        await asyncio.sleep(settings.hold_ms / 1000)
        return reply


class DropAfterAcceptFault(Fault):
    name = "drop_after_accept"

    async def after_accept(self, reply: Response, settings: FaultSettings) -> Response | Drop:
        return DROP


class GarbledReplyFault(Fault):
    name = "garbled"

    async def after_accept(self, reply: Response, settings: FaultSettings) -> Response | Drop:
        return Response(200, b"<html><body>502 upstream glitch</body></html>", "text/html")


NO_FAULT = Fault()
FAULTS: tuple[Fault, ...] = (
    ServerErrorFault(),
    RateLimitedFault(),
    UnauthorizedFault(),
    SlowReplyFault(),
    HeldReplyFault(),
    DropAfterAcceptFault(),
    GarbledReplyFault(),
)


class FaultPlan:
    """The current settings and the seeded chance that applies them."""

    def __init__(self, settings: FaultSettings) -> None:
        self.initial = settings
        self.settings = settings
        self._random = random.Random(settings.seed)

    def update(self, changes: dict[str, object]) -> FaultSettings:
        """Apply a partial update (validated as a whole); a new seed restarts the chance."""
        merged = FaultSettings.model_validate({**self.settings.model_dump(), **changes})
        if "seed" in changes:
            self._random = random.Random(merged.seed)
        self.settings = merged
        return merged

    def reset(self) -> None:
        self.settings = self.initial
        self._random = random.Random(self.initial.seed)

    def pick(self) -> Fault:
        draw = self._random.random()
        for fault in FAULTS:
            share = getattr(self.settings, fault.name)
            if draw < share:
                return fault
            draw -= share
        return NO_FAULT

    def chance(self, share: float) -> bool:
        return share > 0 and self._random.random() < share
