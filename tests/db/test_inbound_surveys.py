"""Surveys on inbound calls in the engine (SRV-2, IVR-2), on a real database with a stub pbx.

After the agent: `PostCallSurveys.agent_left` sends the caller of a queue with a survey into the
survey route (the queue that served it last decides), or hangs up one without; `PostCallSurveys.entered`
then ends the inbound call answered and says which survey, linked to the call, agent and queue.
In a flow: a survey node asks its survey in the flow's own FastAGI session, the response linked
to the inbound call, and the flow goes on (a hang-up leaves the response partial).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import select

from campaigns import inbound_store, ivr_store, queue_store
from campaigns.persistence.db import Database
from campaigns.persistence.models import InboundCall, SurveyAnswer, SurveyResponse
from campaigns.persistence.models.enums import InboundOutcome
from campaigns.surveys.document import Prompt, parse_survey
from campaigns.surveys.responses import SurveyedCall
from campaigns.surveys.store import create_survey
from dialer.acd.calls import WaitingCall
from dialer.asterisk.ami import AmiLink
from dialer.asterisk.confgen import AGI_CONTEXT, AGI_ROUTE_VAR, AGI_URL_VAR, SURVEY_ROUTE
from dialer.asterisk.fastagi import AgiCall, AgiHangup
from dialer.asterisk.prompts import PromptLibrary
from dialer.asterisk.rendering import RenderOnce
from dialer.ivr.did_plan import DidPlan
from dialer.live.dbthread import DatabaseThread
from dialer.live.inbound_call import InboundCall as LiveCall
from dialer.live.inbound_call import Stage
from dialer.live.inbound_flows import InboundFlows
from dialer.live.service import LiveDialer
from dialer.live.surveys import PostCall, SurveyCalls
from tests.db.test_inbound_arrival import FakeAcd, FakePrompts
from tests.db.test_ivr_store import CHANGE
from tests.db.test_queue_store import add_agents
from tests.support.waiting import until
from tests.unit.test_survey_document import GOOD

pytestmark = pytest.mark.db

AGI_URL = "agi://127.0.0.1:4574"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
DID = "4008003000"
FEEDBACK = """name: feedback
start: rate
nodes:
  rate: {type: survey, survey: 满意度回访, next: more}
  more: {type: menu, prompt: {text: 返回请按1}, keys: {"1": sales}}
  sales: {type: queue, queue: sales}
"""


class StubAmi:
    """What the dialer asks of the pbx, recorded; everything succeeds."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []
        self.up = asyncio.Event()

    def subscribe(self, handler: Any) -> None:
        pass

    async def set_var(self, channel: str, name: str, value: str) -> None:
        self.sent.append(("setvar", channel, name, value))

    async def redirect(self, channel: str, context: str, exten: str = "s") -> None:
        self.sent.append(("redirect", channel, context, exten))

    async def hangup(self, channel: str) -> None:
        self.sent.append(("hangup", channel))


@pytest.fixture
def queues(database: Database) -> dict[str, int]:
    """Queue support with survey 满意度回访, sales without; agents li and wang; their ids."""
    ids = add_agents(database, "li", "wang")
    ids["survey"] = create_survey(database, parse_survey(GOOD))
    queue_store.create_queue(database, "support", {"survey": "满意度回访"}, CHANGE)
    queue_store.create_queue(database, "sales", {}, CHANGE)
    return ids


def _talking(database: Database, uniqueid: str, queue: str, agent: int) -> LiveCall:
    call_id = inbound_store.open_call(
        database,
        uniqueid=uniqueid,
        linkedid=None,
        did=DID,
        caller="+8613800138000",
        region=None,
        arrived_at=NOW,
    )
    waiting = WaitingCall(uniqueid, queue, NOW, "+8613800138000")
    return LiveCall(
        call_id, uniqueid, "+8613800138000", None, NOW, Stage.TALKING, True, waiting, agent_id=agent
    )


def test_after_the_agent_the_caller_answers_the_survey_of_the_queue_that_served_it_last(
    database: Database, queues: dict[str, int]
) -> None:
    ami = StubAmi()

    async def scenario() -> None:
        dialer = LiveDialer(database, cast(AmiLink, ami), agi_url=AGI_URL)
        try:
            await dialer.inbound.refresh()
            transferred = _talking(database, "1700.1", "sales", queues["wang"])
            assert transferred.waiting is not None  # served first in sales, transferred to support:
            transferred.waiting = WaitingCall("1700.1", "support", NOW, "+8613800138000")
            plain = _talking(database, "1700.2", "sales", queues["li"])
            for call in (transferred, plain):
                dialer.inbound.arrived(call, f"PJSIP/carrier-{call.uniqueid}")

            await dialer.post_call.agent_left("1700.1")
            channel = "PJSIP/carrier-1700.1"
            assert ami.sent == [
                ("setvar", channel, AGI_URL_VAR, AGI_URL),
                ("setvar", channel, AGI_ROUTE_VAR, SURVEY_ROUTE),
                ("redirect", channel, AGI_CONTEXT, "s"),
            ]
            await dialer.post_call.agent_left("1700.2")  # sales has no survey: hung up
            assert ami.sent[3:] == [("hangup", "PJSIP/carrier-1700.2")]

            assert await dialer.post_call.entered("1700.2") is None
            post = await dialer.post_call.entered("1700.1")
            surveyed = SurveyedCall(
                agent_id=queues["wang"], inbound_call_id=transferred.call_id, queue="support"
            )
            assert post == PostCall(queues["survey"], surveyed)
            assert "1700.1" not in dialer.inbound.calls  # the call ends here, answered

            def ended() -> bool:
                with database.session() as session:
                    return session.get_one(InboundCall, transferred.call_id).ended_at is not None

            await until(ended, "the inbound call ended")
            with database.session() as session:
                assert session.get_one(InboundCall, transferred.call_id).outcome is InboundOutcome.ANSWERED
        finally:
            await dialer.stop()

    asyncio.run(scenario())


@dataclass
class FlowDialer:
    """The dialer's side a flow and its survey use: the database (thread) and the ACD's queues."""

    database: Database
    inbound: FakeAcd
    db: DatabaseThread
    default_region: str = "CN"

    def record_later(self, work: Any, *args: Any, **kwargs: Any) -> None:
        work(*args, **kwargs)


@dataclass
class Caller:
    """The caller's channel: keys pressed one per question or menu, `hangup` hangs up there."""

    keys: list[str]
    did: str = DID
    uniqueid: str = "1700.9"
    channel: str = "PJSIP/carrier-00000009"
    played: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"agi_extension": self.did, "agi_callerid": "13800138000", "agi_arg_1": self.uniqueid}

    def _key(self) -> str | None:
        key = self.keys.pop(0) if self.keys else None
        if key == "hangup":
            raise AgiHangup()
        return key

    async def stream_file(self, sound: str, escape_digits: str = '""') -> str | None:
        self.played.append(sound)
        return None

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        return self._key()

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> str | None:
        self.played.append(sound)
        return self._key()

    async def set_variable(self, name: str, value: str) -> None:
        pass

    async def hangup(self) -> None:
        self.played.append("(hung up)")


def _call_in_flow(database: Database, keys: list[str], did: str = DID) -> tuple[FakeAcd, Caller]:
    acd = FakeAcd(database)
    thread = DatabaseThread(database)
    dialer = cast(LiveDialer, FlowDialer(database, acd, thread))
    flows = InboundFlows(dialer, SurveyCalls(dialer, RenderOnce(cast(PromptLibrary, FakePrompts()))))
    caller = Caller(keys, did)
    try:
        asyncio.run(flows.handle(cast(AgiCall, caller)))
    finally:
        thread.close()  # after the writes queued before it
    return acd, caller


@pytest.fixture
def feedback(database: Database, queues: dict[str, int]) -> None:
    ivr_store.save_flow(database, FEEDBACK, CHANGE, new=True, activate=True)
    ivr_store.set_number(database, DID, DidPlan(flow="feedback"), CHANGE)


@pytest.mark.usefixtures("feedback")
def test_a_flows_survey_node_asks_the_survey_on_the_call_then_the_flow_goes_on(database: Database) -> None:
    acd, caller = _call_in_flow(database, ["5", "1"])  # score 5 (the end), then menu key 1
    assert acd.queued == [("sales", 0, None)]
    assert "(hung up)" not in caller.played and caller.played[-1] == "返回请按1"
    assert caller.played[:2] == [
        Prompt(text="您好，这里是回访电话").text,
        "请为本次服务打分，满意请按5，不满意请按1",
    ]
    [call] = acd.calls
    with database.session() as session:
        response = session.scalars(select(SurveyResponse)).one()
        answers = session.scalars(select(SurveyAnswer.key)).all()
        trail = session.get_one(InboundCall, call.call_id).trail
    assert (response.inbound_call_id, response.queue_id, response.agent_id) == (call.call_id, None, None)
    assert response.completed_at is not None and not response.partial and answers == ["5"]
    assert trail is not None and trail["path"] == ["rate", "more", "sales"]


@pytest.mark.usefixtures("feedback")
def test_a_hang_up_in_a_flows_survey_leaves_a_partial_response_and_ends_the_flow(database: Database) -> None:
    with pytest.raises(AgiHangup):
        _call_in_flow(database, ["1", "hangup"])  # score 1, then gone at the callback question
    with database.session() as session:
        response = session.scalars(select(SurveyResponse)).one()
        answers = session.scalars(select(SurveyAnswer.key)).all()
        call = session.scalars(select(InboundCall)).one()
    assert response.partial and response.completed_at is None and response.ended_at is not None
    assert answers == ["1"] and call.trail is not None and call.trail["outcome"] == "caller hung up"


def test_a_dids_flow_ending_at_back_queues_the_caller_in_its_fallback(
    database: Database, queues: dict[str, int]
) -> None:
    back = "name: back\nstart: b\nnodes:\n  b: {type: back, fallback: support}\n"
    ivr_store.save_flow(database, back, CHANGE, new=True, activate=True)
    ivr_store.set_number(database, "4008003001", DidPlan(flow="back"), CHANGE)
    acd, _ = _call_in_flow(database, [], "4008003001")  # nobody sent this caller: no agent to go back to
    assert acd.queued == [("support", 0, None)]
