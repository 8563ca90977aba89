"""What the API shows of a campaign the engine runs: its live status, and why it is not dialing.

`campaign_status` is the runner's telemetry with the agents of the campaign (`campaign status`);
`why` gathers the facts (`DialingFacts`) and lets the pure `why_not_dialing` say every reason the
campaign is not dialing now (`campaign why`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from campaigns import campaign_store, hopper
from campaigns.persistence.models.enums import AgentState, DialMode
from dialer.live.why import DialingFacts, why_not_dialing

if TYPE_CHECKING:
    from dialer.live.service import LiveDialer


async def why(dialer: LiveDialer, name: str) -> dict[str, Any]:
    """Every reason campaign `name` is not dialing right now (`campaign why`)."""
    config = await dialer.db.run(campaign_store.load_campaign, dialer.database, name)
    now = datetime.now(UTC)
    counts = await dialer.db.run(hopper.lead_counts, dialer.database, config, now)
    runner = dialer.runners.get(config.id)
    facts = DialingFacts(
        campaign=name,
        state=config.state.value,
        engine_running=True,
        ami_up=dialer.ami.up.is_set(),
        agents=dialer.desk.counts(config.id),
        needs_agents=config.dial_mode is not DialMode.BROADCAST,
        lines=len(runner.lines) if runner else 0,
        max_lines=config.max_lines,
        hopper=len(runner.hopper) if runner else 0,
        due_leads=counts.due,
        later_leads=counts.later,
        next_due_at=counts.next_due_at,
        refused=dict(runner.refused) if runner else {},
        refused_until=dict(runner.last_refusal_until) if runner else {},
        abandon_rate=runner.pacer.controller.observed_rate if runner else 0.0,
        abandon_cap=config.compliance.abandon_cap,
        off_schedule=not config.schedule.is_open(now),
        reopens_at=config.schedule.next_open(now),
    )
    return {"campaign": name, "reasons": why_not_dialing(facts), "leads": counts.by_state}


def campaign_status(dialer: LiveDialer, name: str) -> dict[str, Any]:
    for runner in dialer.runners.values():
        if runner.config.name == name:
            sessions = dialer.desk.of_campaign(runner.id)
            now = datetime.now(UTC)
            return runner.telemetry() | {
                "running": True,
                "ami_up": dialer.ami.up.is_set(),
                "agents": dialer.desk.counts(runner.id),
                "agents_idle_s": {
                    s.name: round((now - s.status.since).total_seconds(), 1)
                    for s in sessions
                    if s.status.state is AgentState.READY
                },
            }
    return {"campaign": name, "running": False, "ami_up": dialer.ami.up.is_set()}
