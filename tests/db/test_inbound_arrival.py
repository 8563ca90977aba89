"""What happens when an inbound call arrives, before any prompt (ACD-3, ACD-9, ACD-10): the FastAGI
handler (`InboundFlows.handle`) on a real database, with a fake channel, ACD and prompt library.

A blacklisted caller is refused at once, busy or with the number's message as the flow (or the
direct route) says, before the flow's first node, on every kind of number; a number dialled
straight to an agent or a queue queues the caller as a one-node flow would, its route in the trail;
a caller on the VIP list, tagged or not, gets the flow's or the route's `vip_priority`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any, cast

import pytest
from sqlalchemy import select

from campaigns import ivr_store, queue_store
from campaigns.compliance import blocklist_store
from campaigns.compliance.blocklist import BlockEntry
from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList, InboundCall, Lead
from campaigns.persistence.models.enums import BlockKind, BlockMatch, LeadState
from campaigns.surveys.document import Prompt
from dialer.acd.queues import QueueConfig
from dialer.asterisk.confgen import (
    AGI_ROUTE_VAR,
    BRIDGE_CONTEXT,
    BUSY_CONTEXT,
    MOH_VAR,
    NEXT_VAR,
    QUEUE_HOLD_CONTEXT,
    SURVEY_ROUTE,
    goto,
)
from dialer.asterisk.fastagi import AgiCall
from dialer.asterisk.prompts import PromptLibrary
from dialer.asterisk.rendering import RenderOnce
from dialer.ivr.did_plan import DidPlan
from dialer.ivr.direct import DirectRoute
from dialer.live.inbound_call import InboundCall as LiveCall
from dialer.live.inbound_call import Stage
from dialer.live.inbound_flows import InboundFlows
from dialer.live.service import LiveDialer
from dialer.live.surveys import SurveyCalls
from tests.db.test_did_direct import add_agents
from tests.db.test_ivr_store import CHANGE

pytestmark = pytest.mark.db

FLOW_DID, AGENT_DID, QUEUE_DID, MESSAGE_DID = "4008001000", "4008005001", "4008005002", "4008002000"
CALLER = "13800138000"
BLACKLISTED = "13990001234"  # under the blacklisted prefix +861399
VIP_LISTED = "13501234567"  # on the VIP list, no customer record
MALICIOUS = "13701234567"  # a customer tagged malicious
MESSAGE = Prompt(text="您好，本号码暂停服务。")
SCREENED = """
name: screened
vip_priority: 10
blacklisted: busy
start: welcome
nodes:
  welcome: {type: play, prompt: {text: 您好，欢迎致电}, next: menu}
  menu: {type: menu, prompt: {text: 咨询请按1}, keys: {"1": sales}}
  sales: {type: queue, queue: sales}
"""
Step = tuple[str, ...]
_CHANNELS = count(1)


class FakeAcd:
    """The ACD's side the handler uses: the queues as stored, the calls it follows and queues."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.calls: list[LiveCall] = []
        self.queued: list[tuple[str, int, int | None]] = []  # queue, priority, agent asked for
        self.fallbacks: list[float | None] = []  # after how long a direct call falls back
        self.routes_to = Stage.WAITING  # where enqueue leaves a call: OFFERED, a ready agent's

    def arrived(self, call: LiveCall, channel: str) -> None:
        self.calls.append(call)

    def ended_in_flow(self, call: LiveCall, at: datetime) -> None:
        pass

    async def queue(self, name: str) -> QueueConfig | None:
        return queue_store.load_queues(self.database).get(name)

    async def home_queue(self, agent_id: int) -> str | None:
        queues = queue_store.load_queues(self.database).values()
        return next((q.name for q in queues if q.position(agent_id) is not None), None)

    async def enqueue(
        self,
        call: LiveCall,
        queue: str,
        priority: int,
        agent: int | None = None,
        fallback_after_s: float | None = None,
    ) -> None:
        self.queued.append((queue, priority, agent))
        self.fallbacks.append(fallback_after_s)
        call.stage = self.routes_to
        if call.stage is Stage.OFFERED:  # a ready agent's: the ACD moves it through the session
            assert call.session is not None
            await call.session.set_variable(NEXT_VAR, goto(BRIDGE_CONTEXT, "agent-7"))


@dataclass
class FakeDialer:
    database: Database
    inbound: FakeAcd
    default_region: str = "CN"

    @property
    def db(self) -> FakeDialer:
        return self

    async def run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return work(*args, **kwargs)

    def record_later(self, work: Callable[..., Any], *args: Any) -> None:
        work(*args)


class FakePrompts:
    def sound(self, prompt: Prompt, language: str) -> str:
        return prompt.text or str(prompt.audio)

    def render_missing(self, document: object) -> int:
        return 0


@dataclass
class FakeChannel:
    """The caller's channel: what the handler asks of it, in order; the caller presses `keys`."""

    did: str
    caller: str
    keys: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    uniqueid: str = field(default_factory=lambda: f"1700000000.{next(_CHANNELS)}")
    channel: str = "PJSIP/carrier-00000001"

    @property
    def headers(self) -> dict[str, str]:
        return {"agi_extension": self.did, "agi_callerid": self.caller, "agi_arg_1": self.uniqueid}

    async def stream_file(self, sound: str) -> None:
        self.steps.append(("play", sound))

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> str | None:
        self.steps.append(("collect", sound))
        return self.keys.pop(0) if self.keys else None

    async def set_variable(self, name: str, value: str) -> None:
        self.steps.append(("set", name, value))

    async def hangup(self) -> None:
        self.steps.append(("hangup",))


@dataclass
class Arrived:
    channel: FakeChannel
    acd: FakeAcd
    call: LiveCall
    record: InboundCall


@pytest.fixture
def arrive(database: Database) -> Callable[..., Arrived]:
    """Place a call to `did` from `caller` (pressing `keys`) through the handler."""

    def arrive(
        did: str, caller: str, keys: tuple[str, ...] = (), routes_to: Stage = Stage.WAITING
    ) -> Arrived:
        acd = FakeAcd(database)
        acd.routes_to = routes_to
        dialer = FakeDialer(database, acd)
        surveys = SurveyCalls(cast(LiveDialer, dialer), RenderOnce(cast(PromptLibrary, FakePrompts())))
        flows = InboundFlows(cast(LiveDialer, dialer), surveys)
        channel = FakeChannel(did, caller, list(keys))
        asyncio.run(flows.handle(cast(AgiCall, channel)))
        [call] = acd.calls
        with database.session() as session:
            record = session.scalars(
                select(InboundCall).where(InboundCall.uniqueid == channel.uniqueid)
            ).one()
            session.expunge(record)
        return Arrived(channel, acd, call, record)

    return arrive


@pytest.fixture
def numbers(database: Database) -> dict[str, int]:
    """The numbers, queue `sales` with agents wang (number 8001) and li, the lists; agent ids."""
    change = CHANGE
    agents = add_agents(database, {"wang": "8001", "li": None})
    queue_store.create_queue(database, "sales", {}, change)
    for name in agents:
        queue_store.add_member(database, "sales", name, change)
    ivr_store.save_flow(database, SCREENED, change, new=True, activate=True)
    ivr_store.set_number(database, FLOW_DID, DidPlan(flow="screened"), change)
    wang = DidPlan(direct=DirectRoute(agent="8001"))  # by its number (工号)
    ivr_store.set_number(database, AGENT_DID, wang, change)
    sales = DidPlan(direct=DirectRoute(queue="sales", vip_priority=7))
    ivr_store.set_number(database, QUEUE_DID, sales, change)
    ivr_store.set_number(database, MESSAGE_DID, DidPlan(), change, MESSAGE)
    blacklist = BlockEntry(BlockKind.BLACKLIST, "+861399", BlockMatch.PREFIX, reason="fraud range")
    blocklist_store.add(database, blacklist, change)
    blocklist_store.add(database, BlockEntry(BlockKind.VIP, "+86" + VIP_LISTED, reason="大客户"), change)
    with database.session() as session:
        customers = ContactList(name="customers", source_file="generated")
        session.add(customers)
        session.flush()
        e164 = "+86" + MALICIOUS
        attributes = {"tags": "malicious"}
        session.add(
            Lead(list_id=customers.id, e164=e164, raw_input=e164, attributes=attributes, state=LeadState.DONE)
        )
    return agents


def _refused_busy() -> list[Step]:
    return [("set", NEXT_VAR, goto(BUSY_CONTEXT))]


def _queued() -> list[Step]:
    return [
        ("set", MOH_VAR, "default"),
        ("set", AGI_ROUTE_VAR, SURVEY_ROUTE),  # the queue's survey, if any, after the agent
        ("set", NEXT_VAR, goto(QUEUE_HOLD_CONTEXT)),
    ]


def test_a_blacklisted_caller_is_refused_busy_before_the_flows_first_prompt(
    numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    refused = arrive(FLOW_DID, BLACKLISTED, keys=("1",))
    assert refused.channel.steps == _refused_busy(), "no prompt, no menu: the busy tone at once"
    assert (refused.call.stage, refused.acd.queued) == (Stage.REFUSED, [])
    assert (refused.record.flow, refused.record.trail) == (
        "screened",
        {"flow": "screened", "path": [], "inputs": [], "variables": {}, "outcome": "refused (busy)"},
    )
    served = arrive(FLOW_DID, CALLER, keys=("1",))
    assert served.channel.steps == [("play", "您好，欢迎致电"), ("collect", "咨询请按1"), *_queued()]
    assert served.acd.queued == [("sales", 0, None)]


def test_without_a_setting_or_a_flow_a_blacklisted_caller_hears_the_numbers_message(
    numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    refused = arrive(MESSAGE_DID, BLACKLISTED)
    assert refused.channel.steps == [("play", MESSAGE.text), ("hangup",)]
    assert refused.call.stage is Stage.REFUSED
    assert (refused.record.flow, refused.record.trail) == (None, {"outcome": "refused (message)"})
    plain = arrive(MESSAGE_DID, CALLER)
    assert plain.channel.steps == [("play", MESSAGE.text), ("hangup",)]
    assert (plain.call.stage, plain.record.trail) == (Stage.IVR, None), "not refused: the number's message"


def test_a_direct_number_refuses_as_its_route_says(
    database: Database, numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    refused = arrive(QUEUE_DID, BLACKLISTED)
    assert refused.channel.steps == [("play", ivr_store.DEFAULT_MESSAGE.text), ("hangup",)]
    assert refused.record.trail == {"directory": {"queue": "sales"}, "outcome": "refused (message)"}
    busy = DidPlan(direct=DirectRoute(queue="sales", blacklisted="busy"))
    ivr_store.set_number(database, QUEUE_DID, busy, CHANGE)
    assert arrive(QUEUE_DID, BLACKLISTED).channel.steps == _refused_busy()


def test_an_agents_number_queues_the_caller_for_that_agent_in_its_queue(
    numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    direct = arrive(AGENT_DID, CALLER)
    assert direct.channel.steps == _queued(), "no prompt: straight to the queue's music"
    assert direct.acd.queued == [("sales", 0, numbers["wang"])]
    assert (direct.record.flow, direct.record.trail) == (
        None,
        {"directory": {"agent": "wang"}, "outcome": "agent wang"},
    )
    assert direct.acd.fallbacks == [None]  # waits for that agent alone


def test_a_caller_the_acd_moves_on_at_once_goes_through_its_session(
    numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    """REDIRECT_NOTE: a Redirect landing as the session ends would lose the caller."""
    offered = arrive(AGENT_DID, CALLER, routes_to=Stage.OFFERED)  # its agent ready
    assert offered.channel.steps == [*_queued(), ("set", NEXT_VAR, goto(BRIDGE_CONTEXT, "agent-7"))]
    assert offered.call.session is None, "the session is the call's only while it is queued"
    ringing = arrive(AGENT_DID, CALLER, routes_to=Stage.RINGING)  # the agent's phone rings
    assert ringing.channel.steps == _queued(), "the session ends: the dialplan holds the caller"


def test_an_agents_number_with_a_fallback_passes_it_on_to_the_acd(
    database: Database, numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    falling_back = DidPlan(direct=DirectRoute(agent="wang", fallback_after_s=20))
    ivr_store.set_number(database, AGENT_DID, falling_back, CHANGE)
    direct = arrive(AGENT_DID, CALLER)
    assert (direct.acd.queued, direct.acd.fallbacks) == ([("sales", 0, numbers["wang"])], [20.0])


def test_a_flows_agent_node_with_a_fallback_passes_it_on_to_the_acd(
    database: Database, numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    flow = "name: to-wang\nstart: wang\nnodes: {wang: {type: agent, agent: wang, fallback_after_s: 45}}"
    ivr_store.save_flow(database, flow, CHANGE, new=True, activate=True)
    ivr_store.set_number(database, FLOW_DID, DidPlan(flow="to-wang"), CHANGE)
    routed = arrive(FLOW_DID, CALLER)
    assert (routed.acd.queued, routed.acd.fallbacks) == ([("sales", 0, numbers["wang"])], [45.0])
    assert routed.record.trail is not None
    assert routed.record.trail["outcome"] == "agent wang, any agent after 45 s"


def test_a_queues_number_queues_the_caller_for_any_agent_a_vip_first(
    numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    plain = arrive(QUEUE_DID, CALLER)
    assert (plain.channel.steps, plain.acd.queued) == (_queued(), [("sales", 0, None)])
    assert plain.record.trail == {"directory": {"queue": "sales"}, "outcome": "queue sales"}
    vip = arrive(QUEUE_DID, VIP_LISTED)
    assert vip.acd.queued == [("sales", 7, None)], "on the VIP list: the route's vip_priority"
    assert (vip.call.flags, vip.record.trail) == (
        ("vip",),
        {"directory": {"queue": "sales"}, "outcome": "queue sales, priority +7", "flags": ["vip"]},
    )


def test_a_vip_listed_caller_gets_the_flows_vip_priority_and_a_malicious_one_goes_on_flagged(
    numbers: dict[str, int], arrive: Callable[..., Arrived]
) -> None:
    vip = arrive(FLOW_DID, VIP_LISTED, keys=("1",))
    assert vip.acd.queued == [("sales", 10, None)]
    assert vip.record.trail is not None and vip.record.trail["flags"] == ["vip"]
    malicious = arrive(FLOW_DID, MALICIOUS, keys=("1",))
    assert (malicious.acd.queued, malicious.call.flags) == ([("sales", 0, None)], ("malicious",))
    assert malicious.record.trail is not None and malicious.record.trail["flags"] == ["malicious"]
