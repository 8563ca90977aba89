"""The in-call controls' state machine (AGT-4): what each control does to the legs, and what it refuses."""

from __future__ import annotations

import pytest

from dialer.agents.call_controls import (
    CallLegs,
    Control,
    ControlRefused,
    Legs,
    Target,
    TargetKind,
    parse_target,
)
from ringcast.errors import UserError

NUMBER = Target(TargetKind.NUMBER, "+8613800138000")
AGENT = Target(TargetKind.AGENT, "bob")
C = Control


def test_hold_and_resume() -> None:
    held = CallLegs().apply(C.HOLD)
    assert held == CallLegs(Legs.HELD)
    assert held.apply(C.RESUME) == CallLegs(Legs.TALKING)


@pytest.mark.parametrize(
    ("legs", "control", "said"),
    [
        (CallLegs(), C.RESUME, "cannot resume: the customer is with the agent"),
        (CallLegs(Legs.HELD), C.HOLD, "cannot hold: the customer is on hold"),
        (CallLegs(Legs.CONSULTING, NUMBER), C.HOLD, "cannot hold: a consultation is in progress"),
        (CallLegs(Legs.CONFERENCE, NUMBER, True), C.TRANSFER, "cannot transfer: a three-way conference"),
        (CallLegs(), C.COMPLETE, "cannot complete: the customer is with the agent"),
        (CallLegs(Legs.HELD), C.CANCEL, "cannot cancel: the customer is on hold"),
        (CallLegs(Legs.HELD), C.ADD, "cannot add: the customer is on hold"),
    ],
)
def test_controls_refused_by_state(legs: CallLegs, control: Control, said: str) -> None:
    with pytest.raises(ControlRefused, match=said):
        legs.apply(control, NUMBER)


def test_blind_transfer_takes_the_agent_off_from_talking_or_held() -> None:
    assert CallLegs().apply(C.TRANSFER, AGENT) is None
    assert CallLegs(Legs.HELD).apply(C.TRANSFER, AGENT) is None
    with pytest.raises(ControlRefused, match="transfer needs a target"):
        CallLegs().apply(C.TRANSFER)


def test_only_a_number_or_an_agent_is_brought_in() -> None:
    for target in (Target(TargetKind.QUEUE, "sales"), Target(TargetKind.FLOW, "verify-id")):
        with pytest.raises(ControlRefused, match="only a number or an agent can be brought in"):
            CallLegs().apply(C.CONSULT, target)
        with pytest.raises(ControlRefused, match="only a number or an agent can be brought in"):
            CallLegs().apply(C.ADD, target)


def test_consulting_an_agent_runs_as_with_a_number() -> None:
    consulting = CallLegs().apply(C.CONSULT, AGENT)
    assert consulting == CallLegs(Legs.CONSULTING, AGENT, third_up=False)
    assert (consulting.third_agent, CallLegs(Legs.CONSULTING, NUMBER).third_agent) == ("bob", None)
    with pytest.raises(ControlRefused, match="cannot complete: agent:bob has not answered yet"):
        consulting.apply(C.COMPLETE)
    up = consulting.third_joined()
    conference = up.apply(C.CONFERENCE)
    assert conference == CallLegs(Legs.CONFERENCE, AGENT, third_up=True)
    assert up.apply(C.COMPLETE) is None and conference.apply(C.COMPLETE) is None
    assert up.apply(C.CANCEL) == CallLegs() and conference.apply(C.CANCEL) == CallLegs()
    assert up.third_gone() == CallLegs(Legs.HELD) and conference.third_gone() == CallLegs()
    assert CallLegs().apply(C.ADD, AGENT) == CallLegs(Legs.CONFERENCE, AGENT, third_up=False)


def test_consult_then_conference_once_the_third_party_is_up() -> None:
    consulting = CallLegs(Legs.HELD).apply(C.CONSULT, NUMBER)
    assert consulting == CallLegs(Legs.CONSULTING, NUMBER, third_up=False)
    with pytest.raises(ControlRefused, match=r"cannot conference: number:\+8613800138000 has not answered"):
        consulting.apply(C.CONFERENCE)
    up = consulting.third_joined()
    assert up.apply(C.CONFERENCE) == CallLegs(Legs.CONFERENCE, NUMBER, third_up=True)


def test_complete_needs_the_third_party_up_and_ends_the_agents_part() -> None:
    consulting = CallLegs().apply(C.CONSULT, NUMBER)
    assert consulting is not None
    with pytest.raises(ControlRefused, match="has not answered yet"):
        consulting.apply(C.COMPLETE)
    assert consulting.third_joined().apply(C.COMPLETE) is None
    conference = CallLegs().apply(C.ADD, NUMBER)
    assert conference is not None and conference.third_joined().apply(C.COMPLETE) is None


def test_cancel_drops_the_third_party_whether_up_or_not() -> None:
    ringing = CallLegs().apply(C.CONSULT, NUMBER)
    assert ringing is not None and ringing.apply(C.CANCEL) == CallLegs()
    conference = CallLegs(Legs.CONFERENCE, NUMBER, third_up=True)
    assert conference.apply(C.CANCEL) == CallLegs()


def test_third_party_gone_by_itself() -> None:
    assert CallLegs(Legs.CONSULTING, NUMBER).third_gone() == CallLegs(Legs.HELD)
    assert CallLegs(Legs.CONFERENCE, NUMBER, True).third_gone() == CallLegs(Legs.TALKING)
    assert CallLegs(Legs.HELD).third_gone() == CallLegs(Legs.HELD)
    assert CallLegs().third_joined() == CallLegs()  # no third party: nothing to mark


def test_targets_parsed() -> None:
    assert parse_target("queue:sales") == Target(TargetKind.QUEUE, "sales")
    assert str(parse_target("number: +8613800138000")) == "number:+8613800138000"
    for bad in ("sales", "room:1", "agent:"):
        with pytest.raises(UserError, match="give one of agent:NAME, queue:NAME, flow:NAME, number:NAME"):
            parse_target(bad)


FLOW = Target(TargetKind.FLOW, "verify-id")


@pytest.mark.parametrize("legs", [CallLegs(), CallLegs(Legs.HELD)])
def test_transfer_into_a_flow_keeps_the_agent_on_the_call(legs: CallLegs) -> None:
    assert legs.apply(C.TRANSFER, FLOW) == CallLegs(Legs.IN_FLOW)


@pytest.mark.parametrize("control", [C.HOLD, C.RESUME, C.TRANSFER, C.ADD, C.CONSULT, C.CANCEL])
def test_nothing_but_waiting_while_the_caller_is_in_a_flow(control: Control) -> None:
    target = NUMBER if control in (C.TRANSFER, C.ADD, C.CONSULT) else None
    with pytest.raises(ControlRefused, match=f"^cannot {control.value}: the customer is in an IVR flow"):
        CallLegs(Legs.IN_FLOW).apply(control, target)


def test_the_flows_back_end_brings_the_caller_back_to_talking() -> None:
    assert CallLegs(Legs.IN_FLOW).returned() == CallLegs(Legs.TALKING)
    with pytest.raises(
        ControlRefused, match=r"^cannot take the customer back from a flow: the customer is on hold"
    ):
        CallLegs(Legs.HELD).returned()


def test_mute_and_unmute_keep_the_legs_and_the_mute_stays_through_other_moves() -> None:
    muted = CallLegs().apply(C.MUTE)
    assert muted == CallLegs(muted=True)
    with pytest.raises(ControlRefused, match="cannot mute: the agent is muted"):
        muted.apply(C.MUTE)
    with pytest.raises(ControlRefused, match="cannot unmute: the agent is not muted"):
        CallLegs().apply(C.UNMUTE)
    consulting = muted.apply(C.CONSULT, AGENT)
    assert consulting == CallLegs(Legs.CONSULTING, AGENT, muted=True)
    assert consulting.third_gone() == CallLegs(Legs.HELD, muted=True)
    assert consulting.third_joined().apply(C.CANCEL) == CallLegs(muted=True)
    in_flow = muted.apply(C.TRANSFER, FLOW)
    assert in_flow == CallLegs(Legs.IN_FLOW, muted=True) and in_flow.returned() == CallLegs(muted=True)
    with pytest.raises(ControlRefused, match="cannot unmute: the customer is in an IVR flow"):
        in_flow.apply(C.UNMUTE)
    assert CallLegs(Legs.HELD, muted=True).apply(C.UNMUTE) == CallLegs(Legs.HELD)
    assert muted.apply(C.UNMUTE) == CallLegs()
