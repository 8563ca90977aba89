"""The `agents` report (RPT-1) on a hand-built day in Shanghai, every figure worked out by hand.

Times below are Shanghai wall-clock times (UTC+8): the report day 2026-11-23 runs from
2026-11-22 16:00 to 2026-11-23 16:00 UTC, so a UTC-day mistake would move most of it.

wang (秋季回访), a night shift and a late call:
    11-22 23:50 ready, 23:58 on call (call 1: bridged 23:58:00, ended 11-23 00:03:00, 300 s, sale)
    00:03 wrap-up, 00:05 ready, 00:50 on call (call 2: 00:50:00 to 01:10:00, 1200 s, callback)
    01:10 wrap-up, 01:12 ready, 01:20 on call (inbound call I1: waited in sales, overflowed to
    support, answered there 01:20:00, ended 01:25:00, 300 s), 01:25 wrap-up, 01:26 ready,
    01:30 paused ("break"), 01:45 ready, 02:00 logged out
    23:40 ready, 23:50 on call (call 3: 23:50:00 to 11-24 00:10:00, 1200 s, sale)
    11-24 00:10 wrap-up, 00:12 ready, 00:30 logged out
li (秋季回访), no call in the period:
    11-22 20:00 ready, 20:10 on call (a call ended 20:20, before the period), 20:20 wrap-up,
    20:21 ready, 21:00 logged out (its state at the period's start: logged out)
    11-23 00:30 ready, 01:00 paused ("meeting"), 01:20 ready, 01:40 reserved, 01:41 ready, 02:00 out
zhao (春季促销):
    11-23 10:00 ready, 10:10 on call (call 4: 10:10:00 to 10:14:00.500, 240.5 s, no_interest),
    10:14:00.500 wrap-up, 10:15 logged out
chen (春季促销, blended, inbound calls only):
    11-22 23:55 ready, 23:58 on call (inbound call I2: answered 23:58:00, ended 11-23 00:02:00, 240 s),
    00:02 wrap-up, 00:03 ready, 00:20 on call (inbound call I3: answered 00:20, lost at an engine
    restart at 00:30: handled, its talk unmeasured), 00:30 logged out
Not an agent's: an abandoned call (no agent) ended 03:00 and a call still ringing; an inbound call
abandoned in its queue, ended 03:00, and one still waiting; the visit I1 overflowed from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from campaigns import control_store, inbound_store
from campaigns.control_store import ControlRecord
from campaigns.persistence.db import Database
from campaigns.persistence.models import Agent, AgentStateLog, Attempt, Campaign, Disposition, InboundCall
from campaigns.persistence.models.enums import (
    AgentState,
    CallOutcome,
    CompliancePreset,
    DialMode,
    InboundOutcome,
)
from reports.agents_report import agents_report
from reports.query import Bucket, ReportQuery
from reports.tables import Report
from ringcast.errors import UserError
from tests.db.rows import add_seed

pytestmark = pytest.mark.db

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUTUMN, SPRING = "秋季回访", "春季促销"
LOGGED_OUT, READY, NOT_READY = AgentState.LOGGED_OUT, AgentState.READY, AgentState.NOT_READY
RESERVED, ON_CALL, WRAP_UP = AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP
HEADER = [
    "agent",
    "calls handled",
    "talk time",
    "hold time",
    "wrap-up time",
    "idle time",
    "paused time",
    "logged-in time",
    "occupancy",
    "AHT",
    "calls per hour",
    "dispositions",
    "rank",
]


def sh(day: int, hour: int, minute: int, second: int = 0, microsecond: int = 0) -> datetime:
    """A Shanghai wall-clock time in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, second, microsecond, tzinfo=SHANGHAI).astimezone(UTC)


STATES: dict[str, list[tuple[datetime, AgentState, str | None]]] = {
    "wang": [
        (sh(22, 23, 50), READY, None),
        (sh(22, 23, 58), ON_CALL, None),
        (sh(23, 0, 3), WRAP_UP, None),
        (sh(23, 0, 5), READY, None),
        (sh(23, 0, 50), ON_CALL, None),
        (sh(23, 1, 10), WRAP_UP, None),
        (sh(23, 1, 12), READY, None),
        (sh(23, 1, 20), ON_CALL, None),
        (sh(23, 1, 25), WRAP_UP, None),
        (sh(23, 1, 26), READY, None),
        (sh(23, 1, 30), NOT_READY, "break"),
        (sh(23, 1, 45), READY, None),
        (sh(23, 2, 0), LOGGED_OUT, None),
        (sh(23, 23, 40), READY, None),
        (sh(23, 23, 50), ON_CALL, None),
        (sh(24, 0, 10), WRAP_UP, None),
        (sh(24, 0, 12), READY, None),
        (sh(24, 0, 30), LOGGED_OUT, None),
    ],
    "li": [
        (sh(22, 20, 0), READY, None),
        (sh(22, 20, 10), ON_CALL, None),
        (sh(22, 20, 20), WRAP_UP, None),
        (sh(22, 20, 21), READY, None),
        (sh(22, 21, 0), LOGGED_OUT, None),
        (sh(23, 0, 30), READY, None),
        (sh(23, 1, 0), NOT_READY, "meeting"),
        (sh(23, 1, 20), READY, None),
        (sh(23, 1, 40), RESERVED, None),
        (sh(23, 1, 41), READY, None),
        (sh(23, 2, 0), LOGGED_OUT, None),
    ],
    "zhao": [
        (sh(23, 10, 0), READY, None),
        (sh(23, 10, 10), ON_CALL, None),
        (sh(23, 10, 14, 0, 500_000), WRAP_UP, None),
        (sh(23, 10, 15), LOGGED_OUT, None),
    ],
    "chen": [
        (sh(22, 23, 55), READY, None),
        (sh(22, 23, 58), ON_CALL, None),
        (sh(23, 0, 2), WRAP_UP, None),
        (sh(23, 0, 3), READY, None),
        (sh(23, 0, 20), ON_CALL, None),
        (sh(23, 0, 30), LOGGED_OUT, None),
    ],
}
CAMPAIGN_OF = {"wang": AUTUMN, "li": AUTUMN, "zhao": SPRING, "chen": SPRING}
# (agent, campaign, bridged, ended, disposition code)
CALLS = [
    ("wang", AUTUMN, sh(22, 23, 58), sh(23, 0, 3), "sale"),
    ("wang", AUTUMN, sh(23, 0, 50), sh(23, 1, 10), "callback"),
    ("wang", AUTUMN, sh(23, 23, 50), sh(24, 0, 10), "sale"),
    ("li", AUTUMN, sh(22, 20, 10), sh(22, 20, 20), "sale"),
    ("zhao", SPRING, sh(23, 10, 10), sh(23, 10, 14, 0, 500_000), "no_interest"),
]


def add_day(database: Database) -> None:
    seed = add_seed(database)  # campaign 秋季回访 and a lead
    with database.session() as session:
        spring = Campaign(name=SPRING, dial_mode=DialMode.PREDICTIVE, compliance_preset=CompliancePreset.CN)
        agents = {name: Agent(name=name, display_name=name, dial_string=f"PJSIP/{name}") for name in STATES}
        session.add_all([spring, *agents.values()])
        session.flush()
        campaigns = {AUTUMN: seed.campaign_id, SPRING: spring.id}
        codes = {
            (AUTUMN, "sale"): Disposition(
                campaign_id=seed.campaign_id, code="sale", label="成交", final=True
            ),
            (AUTUMN, "callback"): Disposition(campaign_id=seed.campaign_id, code="callback", label="回拨"),
            (SPRING, "no_interest"): Disposition(campaign_id=spring.id, code="no_interest", label="无意向"),
        }
        session.add_all(codes.values())
        session.flush()
        for name, changes in STATES.items():
            previous = LOGGED_OUT
            for at, state, reason in changes:
                session.add(
                    AgentStateLog(
                        agent_id=agents[name].id, from_state=previous, to_state=state, reason=reason, at=at,
                        campaign_id=campaigns[CAMPAIGN_OF[name]],
                    )
                )  # fmt: skip
                previous = state
        for name, campaign, bridged, ended, code in CALLS:
            session.add(
                Attempt(
                    lead_id=seed.lead_id, campaign_id=campaigns[campaign], e164="+8613800138000",
                    dialed_at=bridged - timedelta(seconds=20), answered_at=bridged - timedelta(seconds=5),
                    bridged_at=bridged, ended_at=ended, outcome=CallOutcome.ANSWERED,
                    agent_id=agents[name].id, disposition_id=codes[campaign, code].id,
                )
            )  # fmt: skip
        abandoned = Attempt(
            lead_id=seed.lead_id, campaign_id=seed.campaign_id, e164="+8613800138000",
            dialed_at=sh(23, 2, 59), answered_at=sh(23, 2, 59, 30), ended_at=sh(23, 3, 0),
            outcome=CallOutcome.ABANDONED, abandoned=True,
        )  # fmt: skip
        ringing = Attempt(
            lead_id=seed.lead_id, campaign_id=seed.campaign_id, e164="+8613800138000", dialed_at=sh(23, 3, 5)
        )
        session.add_all([abandoned, ringing])
    add_inbound(database, {name: agent.id for name, agent in agents.items()})


def add_inbound(database: Database, agents: dict[str, int]) -> None:
    """The inbound calls of the docstring, written as the engine writes them."""
    calls = iter(range(1, 100))

    def queued(queue: str, at: datetime) -> int:
        call = inbound_store.open_call(
            database, uniqueid=f"1700000000.{next(calls)}", linkedid=None, did="4008001000",
            caller="+8613800138000", region=None, arrived_at=at - timedelta(seconds=15),
        )  # fmt: skip
        inbound_store.enter_queue(database, call, queue, at, priority=0)
        return call

    def answered(queue: str, at: datetime, agent: str) -> int:
        call = queued(queue, at - timedelta(seconds=30))
        inbound_store.answer(database, call, agents[agent], at)
        return call

    i1 = queued("sales", sh(23, 1, 19))
    inbound_store.overflow(database, i1, sh(23, 1, 19, 30), "queue:support")
    inbound_store.enter_queue(database, i1, "support", sh(23, 1, 19, 30), priority=0)
    inbound_store.answer(database, i1, agents["wang"], sh(23, 1, 20))
    inbound_store.end_call(database, i1, sh(23, 1, 25), InboundOutcome.ANSWERED)
    i2 = answered("sales", sh(22, 23, 58), "chen")
    inbound_store.end_call(database, i2, sh(23, 0, 2), InboundOutcome.ANSWERED)
    i3 = answered("sales", sh(23, 0, 20), "chen")
    inbound_store.close_stale(database, sh(23, 0, 30), [i3])
    inbound_store.end_call(database, queued("sales", sh(23, 2, 59)), sh(23, 3, 0), InboundOutcome.ABANDONED)
    queued("sales", sh(23, 3, 5))


def report(
    database: Database,
    first: str = "2026-11-23",
    last: str = "2026-11-23",
    *,
    campaign: str | None = None,
    agent: str | None = None,
    by: Bucket | None = None,
) -> Report:
    query = ReportQuery.parse(first, last, "Asia/Shanghai", campaign=campaign, agent=agent, by=by)
    return agents_report(database, query)


# 11-23, every campaign. wang's state at 00:00 is on call (entered 11-22 23:58): counted from 00:00.
#   on call 00:00-00:03 180 + 00:50-01:10 1200 + 01:20-01:25 300 + 23:50-24:00 600 (open at the end) = 2280
#   wrap-up 00:03-00:05 120 + 01:10-01:12 120 + 01:25-01:26 60 = 300
#   idle 00:05-00:50 2700 + 01:12-01:20 480 + 01:26-01:30 240 + 01:45-02:00 900 + 23:40-23:50 600 = 4920
#   paused 900; logged in 2280 + 300 + 4920 + 900 = 8400; occupancy 2580 / (2580 + 4920) = 2580 / 7500
#   calls 1, 2 and I1 (call 3 ends 11-24): talk 300 + 1200 + 300 = 1800, AHT (1800 + 0 + 300) / 3 = 700
#   calls per hour 3 / (8400 / 3600) = 10800 / 8400; dispositions of the outbound calls only
# chen's state at 00:00 is on call (entered 11-22 23:58): on call 00:00-00:02 120 + 00:20-00:30 600 = 720,
#   wrap-up 60, idle 00:03-00:20 1020, logged in 1800; occupancy 780 / 1800; calls I2 (ended 00:02, all
#   its 240 s) and I3 (no talk measured): AHT (240 + 60) / 2 = 150; calls per hour 7200 / 1800 = 4
# zhao: idle 600, on call 240.5, wrap-up 59.5, logged in 900; occupancy 300 / 900;
#   AHT (240.5 + 59.5) / 1 = 300; calls per hour 3600 / 900 = 4
# li (logged out at 00:00): idle 1800 + 1200 + 1140 = 4140, paused 1200, reserved 60, logged in
#   5400; occupancy 60 / (60 + 4140); no call: AHT None, 0 calls per hour; its 11-22 call is out.
WANG_DAY = ["wang", 3, 1800, 0, 300, 4920, 900, 8400, 2580 / 7500, 700, 10800 / 8400, "callback 1, sale 1"]
CHEN_DAY = ["chen", 2, 240, 0, 60, 1020, 0, 1800, 780 / 1800, 150, 4, ""]
ZHAO_DAY = ["zhao", 1, 240.5, 0, 59.5, 600, 0, 900, 300 / 900, 300, 4, "no_interest 1"]
LI_DAY = ["li", 0, 0, 0, 0, 4140, 1200, 5400, 60 / 4200, None, 0, ""]
# --campaign: inbound calls belong to no campaign. wang's 秋季回访 figures keep all its state time
#   (it was logged in to 秋季回访 while it took I1) but not I1: talk 1500, AHT (1500 + 300) / 2 = 900.
#   chen, logged in to 春季促销, keeps its state time and no call.
WANG_AUTUMN = ["wang", 2, 1500, 0, 300, 4920, 900, 8400, 2580 / 7500, 900, 7200 / 8400, "callback 1, sale 1"]
CHEN_SPRING = ["chen", 0, 0, 0, 60, 1020, 0, 1800, 780 / 1800, None, 0, ""]


def test_a_day_per_agent(database: Database) -> None:
    add_day(database)
    result = report(database)
    assert result.header == HEADER
    assert result.title == "Agents, 2026-11-23 to 2026-11-23 (Asia/Shanghai)"
    assert result.rows == [
        [*WANG_DAY, 1],  # most calls
        [*CHEN_DAY, 2],
        [*ZHAO_DAY, 3],
        [*LI_DAY, 4],
    ]
    assert all(isinstance(cell, float) for cell in result.rows[0][2:11])  # seconds, rates, calls per hour


def test_by_hour_splits_state_time_and_counts_calls_where_they_ended(database: Database) -> None:
    add_day(database)
    result = report(database, by=Bucket.HOUR)
    assert result.header == ["bucket", *HEADER]
    assert result.rows == [
        # chen 00h: all of its day; two calls, so first
        ["2026-11-23 00:00", *CHEN_DAY, 1],
        # wang 00h: on call 00:00-00:03 180 + 00:50-01:00 600, wrap-up 120, idle 2700 (= 3600 logged in);
        #   call 1 ended 00:03: talk 300, AHT (300 + 120) / 1 = 420; occupancy 900 / (900 + 2700)
        ["2026-11-23 00:00", "wang", 1, 300, 0, 120, 2700, 0, 3600, 0.25, 420, 1, "sale 1", 2],
        # li 00h: idle 00:30-01:00
        ["2026-11-23 00:00", "li", 0, 0, 0, 0, 1800, 0, 1800, 0, None, 0, "", 3],
        # wang 01h: on call 01:00-01:10 600 + 01:20-01:25 300, wrap-up 120 + 60, idle 480 + 240 + 900,
        #   paused 900; call 2 ended 01:10 with all its 1200 s of talk and I1 01:25 with 300 s;
        #   AHT (1500 + 180) / 2 = 840; occupancy 1080 / (1080 + 1620) = 0.4
        ["2026-11-23 01:00", "wang", 2, 1500, 0, 180, 1620, 900, 3600, 0.4, 840, 2, "callback 1", 1],
        # li 01h: paused 1200, idle 1200 + 1140, reserved 60; occupancy 60 / (60 + 2340)
        ["2026-11-23 01:00", "li", 0, 0, 0, 0, 2340, 1200, 3600, 60 / 2400, None, 0, "", 2],
        ["2026-11-23 10:00", *ZHAO_DAY, 1],
        # wang 23h: idle 23:40-23:50 600, on call 23:50-24:00 600 (still open at the end, call 3 not ended)
        ["2026-11-23 23:00", "wang", 0, 0, 0, 0, 600, 0, 1200, 0.5, None, 0, "", 1],
    ]


def test_by_day_a_call_across_midnight_counts_on_the_day_it_ended(database: Database) -> None:
    add_day(database)
    result = report(database, "2026-11-23", "2026-11-24", by=Bucket.DAY)
    assert result.title == "Agents, 2026-11-23 to 2026-11-24 (Asia/Shanghai)"
    assert result.rows == [
        ["2026-11-23", *WANG_DAY, 1],
        ["2026-11-23", *CHEN_DAY, 2],
        ["2026-11-23", *ZHAO_DAY, 3],
        ["2026-11-23", *LI_DAY, 4],
        # wang 11-24: on call 00:00-00:10 600 (its other 600 s are 11-23's), wrap-up 120, idle 1080,
        #   logged in 1800; call 3 (23:50-00:10) is this day's with all its talk, 1200;
        #   AHT (1200 + 120) / 1 = 1320; occupancy 720 / 1800 = 0.4; calls per hour 3600 / 1800
        ["2026-11-24", "wang", 1, 1200, 0, 120, 1080, 0, 1800, 0.4, 1320, 2, "sale 1", 1],
    ]
    # chen's I2 (11-22 23:58 to 11-23 00:02) is the 23rd's, not the 22nd's: ready 23:55-23:58 180,
    #   on call 23:58-24:00 120 then
    assert report(database, "2026-11-22", "2026-11-22", agent="chen").rows == [
        ["chen", 0, 0, 0, 0, 180, 0, 300, 0.4, None, 0, "", 1]
    ]


def test_campaign_and_agent_filters(database: Database) -> None:
    add_day(database)
    assert report(database, campaign=AUTUMN).rows == [[*WANG_AUTUMN, 1], [*LI_DAY, 2]]
    assert report(database, campaign=SPRING).rows == [[*ZHAO_DAY, 1], [*CHEN_SPRING, 2]]
    assert report(database, agent="li").rows == [[*LI_DAY, 1]]
    assert report(database, agent="chen").rows == [[*CHEN_DAY, 1]]
    assert report(database, campaign=SPRING, agent="li").rows == []


def test_a_period_without_activity_and_unknown_names(database: Database) -> None:
    add_day(database)
    assert report(database, "2026-11-20", "2026-11-21").rows == []  # all logged out
    with pytest.raises(UserError, match="no campaign named '夏季'"):
        report(database, campaign="夏季")
    with pytest.raises(UserError, match="no agent named 'zhang'"):
        report(database, agent="zhang")


# Holds (AGT-4), added to the day: wang holds call 1 from 11-22 23:59 to 00:01 (60 s in the period, all
#   120 s out of call 1's talk), call 2 from 00:55 to 00:58 (180 s), and I1 from 01:21, consulting from
#   01:22, the third party gone at 01:23 (held again), never resumed: it ends with the call at 01:25
#   (240 s). Call 3 is held from 23:55 to 11-24 00:02: 300 s on 11-23 (open at the period's end; its
#   talk is 11-24's), 120 s on 11-24. A row of li's (a hold on no call it talked on, resumed at once)
#   adds nothing.
# 11-23: hold 60 + 180 + 240 + 300 = 780; talk 1800 - 120 - 180 - 240 = 1260; AHT (1260 + 780 + 300) / 3
WANG_HELD = ["wang", 3, 1260, 780, 300, 4920, 900, 8400, 2580 / 7500, 780, 10800 / 8400, "callback 1, sale 1"]


def add_holds(database: Database) -> None:
    with database.session() as session:
        wang = session.scalars(select(Agent.id).where(Agent.name == "wang")).one()
        li = session.scalars(select(Agent.id).where(Agent.name == "li")).one()
        attempts = {
            bridged: attempt_id
            for attempt_id, bridged in session.execute(select(Attempt.id, Attempt.bridged_at))
            if bridged is not None
        }
        i1 = session.scalars(select(InboundCall.id).where(InboundCall.uniqueid == "1700000000.1")).one()
    rows = [
        (sh(22, 23, 59), "c1", wang, "hold", "held", attempts[sh(22, 23, 58)], None),
        (sh(23, 0, 1), "c1", wang, "resume", "talking", attempts[sh(22, 23, 58)], None),
        (sh(23, 0, 55), "c2", wang, "hold", "held", attempts[sh(23, 0, 50)], None),
        (sh(23, 0, 58), "c2", wang, "resume", "talking", attempts[sh(23, 0, 50)], None),
        (sh(23, 1, 21), "i1", wang, "hold", "held", None, i1),
        (sh(23, 1, 22), "i1", wang, "consult", "consulting", None, i1),
        (sh(23, 1, 23), "i1", wang, "third_gone", "held", None, i1),
        (sh(23, 1, 30), "c4", li, "hold", "held", attempts[sh(23, 10, 10)], None),
        (sh(23, 1, 30), "c4", li, "resume", "talking", attempts[sh(23, 10, 10)], None),
        (sh(23, 23, 55), "c3", wang, "hold", "held", attempts[sh(23, 23, 50)], None),
        (sh(24, 0, 2), "c3", wang, "resume", "talking", attempts[sh(23, 23, 50)], None),
    ]
    for at, call, agent, control, legs, attempt_id, inbound_call_id in rows:
        record = ControlRecord(at, agent, call, control, None, legs, attempt_id, inbound_call_id)
        control_store.record_control(database, record)


def test_hold_time_from_the_calls_controls(database: Database) -> None:
    add_day(database)
    add_holds(database)
    assert report(database).rows[0] == [*WANG_HELD, 1]
    assert report(database, campaign=AUTUMN).rows[0] == [
        # the outbound holds only: 60 + 180 + 300 = 540; talk 1500 - 120 - 180; AHT (1200 + 540 + 300) / 2
        "wang", 2, 1200, 540, 300, 4920, 900, 8400, 2580 / 7500, 1020, 7200 / 8400, "callback 1, sale 1", 1,
    ]  # fmt: skip
    by_hour = {(row[0], row[1]): row for row in report(database, by=Bucket.HOUR).rows}
    # 00h: hold 60 + 180, talk call 1 300 - 120, AHT (180 + 240 + 120) / 1; 01h: hold 240, talk
    #   (1200 - 180) + (300 - 240) (call 2's hold was in 00h: talk and hold are apart across buckets),
    #   AHT (1080 + 240 + 180) / 2; 23h: call 3's hold, open at the end of the period
    assert [by_hour["2026-11-23 00:00", "wang"][i] for i in (3, 4, 10)] == [180, 240, 540]
    assert [by_hour["2026-11-23 01:00", "wang"][i] for i in (3, 4, 10)] == [1080, 240, 750]
    assert by_hour["2026-11-23 23:00", "wang"][4] == 300
    # 11-24: call 3 held 00:00-00:02 (the hold began on 11-23), its talk 1200 - 420 (the whole hold);
    #   AHT (780 + 120 + 120) / 1
    assert report(database, "2026-11-24", "2026-11-24", agent="wang").rows == [
        ["wang", 1, 780, 120, 120, 1080, 0, 1800, 0.4, 1020, 2, "sale 1", 1]
    ]
    assert report(database, agent="li").rows == [[*LI_DAY, 1]]
