"""`campaign why`: each reason appears when, and only when, its fact holds."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.compliance.rules import RefusalReason
from dialer.live.why import _REFUSAL_TEXT, DialingFacts, why_not_dialing


def _dialing(**changes: object) -> DialingFacts:
    base = dict(
        campaign="spring",
        state="running",
        engine_running=True,
        ami_up=True,
        agents={"ready": 2, "on_call": 3},
        hopper=12,
        due_leads=500,
        abandon_rate=0.01,
        abandon_cap=0.03,
    )
    return DialingFacts(**(base | changes))  # type: ignore[arg-type]


def test_a_dialing_campaign_has_no_reason() -> None:
    assert why_not_dialing(_dialing()) == []


def test_not_running_and_no_engine() -> None:
    reasons = why_not_dialing(_dialing(state="paused", engine_running=False))
    assert reasons == [
        "campaign spring is paused, not running (`ringcast campaign start`)",
        "the engine is not running (`ringcast serve`)",
    ]


def test_agents_link_lines_and_cap() -> None:
    reasons = why_not_dialing(
        _dialing(
            ami_up=False, agents={"wrap_up": 1, "not_ready": 2}, lines=10, max_lines=10, abandon_rate=0.03
        )
    )
    assert reasons == [
        "the AMI link to Asterisk is down: dialing is paused until it is back",
        "no agent ready (2 not_ready, 1 wrap_up)",
        "all 10 lines in use (max_lines)",
        "abandonment rate 3.0% is at the cap 3.0%: only calls with an agent reserved",
    ]
    assert why_not_dialing(_dialing(agents={})) == ["no agents logged in"]
    assert why_not_dialing(_dialing(agents={}, needs_agents=False)) == []  # a broadcast campaign


def test_empty_hopper_names_the_leads_due_later_and_refusals_with_counts() -> None:
    later = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    reasons = why_not_dialing(
        _dialing(
            hopper=0,
            due_leads=0,
            later_leads=40,
            next_due_at=later,
            refused={"outside_calling_hours": 25, "dnc": 2},
            refused_until={"outside_calling_hours": later},
        )
    )
    local = later.astimezone().strftime("%Y-%m-%d %H:%M")
    assert reasons == [
        f"hopper empty: no lead is due now; 40 leads due later until {local}",
        f"25 leads refused at dial time: outside their calling window until {local}",
        "2 leads refused at dial time: on the DNC list",
    ]


def test_every_refusal_reason_has_words() -> None:
    assert set(_REFUSAL_TEXT) == set(RefusalReason)


def test_outside_its_own_dialing_hours_it_says_when_it_dials_again() -> None:
    reopens = datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    reasons = why_not_dialing(_dialing(off_schedule=True, reopens_at=reopens))
    local = reopens.astimezone().strftime("%Y-%m-%d %H:%M")
    assert reasons == [f"outside the campaign's dialing hours, or a holiday until {local}"]
