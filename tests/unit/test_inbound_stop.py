"""The live ACD while the engine stops: no new caller is queued (the flow plays the number's
message), and a caller whose flow found its queue just before the stop is refused busy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from dialer.asterisk.confgen import BUSY_CONTEXT
from dialer.live.inbound_call import InboundCall, Stage
from tests.unit.test_agent_selection import A
from tests.unit.test_inbound_acd import SALES, FakeDialer


async def test_once_the_engine_stops_no_caller_is_queued_any_more() -> None:
    dialer = FakeDialer({"sales": SALES})
    dialer.login(7, A.READY)  # would take the call at once
    acd = dialer.inbound
    call = InboundCall(1, "1.1", "+8613800138000", None, datetime.now(UTC))
    acd.arrived(call, "PJSIP/carrier-1.1")
    assert await acd.queue("sales") is not None
    acd.stop_queueing()
    assert await acd.queue("sales") is None, "the flow plays the number's message instead"
    await acd.enqueue(call, "sales", 0)  # its flow had found the queue before the stop
    await asyncio.gather(*dialer.tasks)
    assert (call.stage, dialer.sent, dialer.moved) == (Stage.FAILED, [("1.1", BUSY_CONTEXT, "s", None)], [])
    assert dialer.recorded == [] and call.ends_as().value == "failed"
