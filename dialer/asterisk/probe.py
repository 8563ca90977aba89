"""Test calls through a trunk: originate, watch the AMI events, report what each call did.

`ringcast asterisk probe` uses it to check a trunk end to end (ring, answer, AMD verdict,
DTMF, hang-up cause); the demo uses it on the lab. Each call runs in the
`ringcast-amd` context, so an answered call gets Asterisk's AMD verdict too.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from dialer.asterisk.ami import AmiLink, OriginateRequest
from dialer.asterisk.events import (
    AmiEvent,
    ChannelHungUp,
    DtmfReceived,
    OriginateFinished,
    UserEventReceived,
)
from dialer.outcomes import DialOutcome, unanswered_outcome

HANGUP_GRACE_S = 1.0  # a failed dial may lack a Hangup event: wait this long for its cause


@dataclass
class ProbeResult:
    """What one test call did, as seen from the PBX."""

    number: str
    channel_id: str
    started_at: float
    outcome: str = "pending"
    answered_at: float | None = None
    ended_at: float | None = None
    amd_status: str = ""
    amd_cause: str = ""
    digits: str = ""
    hangup_cause: int | None = None
    hangup_cause_text: str = ""
    originate_reason: int | None = None
    hung_up: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def talk_s(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at


class CallProbe:
    """Places calls through `trunk` and follows each one to its hang-up."""

    def __init__(self, link: AmiLink, trunk: str = "carrier", caller_id: str | None = None) -> None:
        self.link = link
        self.trunk = trunk
        self.caller_id = caller_id
        self._by_channel: dict[str, ProbeResult] = {}
        self._by_action: dict[str, ProbeResult] = {}
        link.subscribe(self._on_event)

    async def call(self, number: str, ring_timeout_s: float = 30.0) -> ProbeResult:
        channel_id = f"rc-probe-{uuid.uuid4().hex[:16]}"
        result = ProbeResult(number=number, channel_id=channel_id, started_at=time.time())
        action_id = f"rc-orig-{channel_id}"
        self._by_channel[channel_id] = result
        self._by_action[action_id] = result  # before sending: a failed dial's result comes at once
        await self.link.originate(
            OriginateRequest(
                channel=f"PJSIP/{number}@{self.trunk}",
                context="ringcast-amd",
                caller_id=self.caller_id,
                timeout_ms=int(ring_timeout_s * 1000),
                channel_id=channel_id,
                action_id=action_id,
            )
        )
        return result

    async def run(
        self, numbers: Sequence[str], ring_timeout_s: float = 30.0, timeout_s: float = 120.0
    ) -> list[ProbeResult]:
        """Call every number at once; wait until all have ended (or `timeout_s`)."""
        results = [await self.call(number, ring_timeout_s) for number in numbers]
        waits = [asyncio.wait_for(r.done.wait(), timeout_s) for r in results]
        outcomes = await asyncio.gather(*waits, return_exceptions=True)
        for result, outcome in zip(results, outcomes, strict=True):
            if isinstance(outcome, TimeoutError):
                result.outcome = f"{result.outcome} (still up after {timeout_s:.0f}s)"
        return results

    def _on_event(self, event: AmiEvent) -> None:
        if isinstance(event, OriginateFinished):
            result = self._by_action.get(event.action_id)
            if result is None:
                return
            result.originate_reason = event.reason
            if event.success:
                result.outcome = DialOutcome.ANSWERED
                result.answered_at = event.received_at
            else:
                result.ended_at = event.received_at
                asyncio.get_running_loop().call_later(HANGUP_GRACE_S, self._finish, result)
            self._maybe_done(result)
            return
        result = self._by_channel.get(getattr(event, "uniqueid", ""))
        if result is None:
            return
        if isinstance(event, DtmfReceived) and event.direction == "Received":
            result.digits += event.digit
        elif isinstance(event, UserEventReceived) and event.name == "RingcastAmd":
            result.amd_status = event.fields.get("Status", "")
            result.amd_cause = event.fields.get("Cause", "")
        elif isinstance(event, ChannelHungUp):
            result.hangup_cause, result.hangup_cause_text = event.cause, event.cause_text
            result.hung_up = True
            if result.ended_at is None:
                result.ended_at = event.received_at
            self._maybe_done(result)

    def _maybe_done(self, result: ProbeResult) -> None:
        if result.originate_reason is not None and result.hung_up:
            self._finish(result)

    @staticmethod
    def _finish(result: ProbeResult) -> None:
        if result.answered_at is None and result.originate_reason is not None:
            result.outcome = unanswered_outcome(result.originate_reason, result.hangup_cause)
        result.done.set()
