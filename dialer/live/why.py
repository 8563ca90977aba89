"""`campaign why`: every reason a campaign is not placing calls right now, with counts (pure).

The question users of other dialers ask most is "why isn't it dialing?". The engine gathers the
facts (`DialingFacts`) from its runner, agent desk and the database; `why_not_dialing` turns them
into one line per reason, most fundamental first. An empty answer means it is dialing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.compliance.rules import RefusalReason

_REFUSAL_TEXT = {
    RefusalReason.OUTSIDE_CALLING_HOURS: "outside their calling window",
    RefusalReason.NUMBER_DAY_CAP: "at their attempts-per-day cap",
    RefusalReason.NUMBER_WEEK_CAP: "at their attempts-per-week cap",
    RefusalReason.ABANDON_CAP: "held back: the campaign's abandonment cap is reached",
    RefusalReason.ABANDONED_RECENTLY: "abandoned recently (no redial yet)",
    RefusalReason.MACHINE_TODAY: "answered by a machine today",
    RefusalReason.DNC: "on the DNC list",
    RefusalReason.BLACKLISTED: "blacklisted",
    RefusalReason.NO_CALLER_ID: "refused: the campaign has no caller ID",
    RefusalReason.NUMBER_IN_CALL: "already in a call",
    RefusalReason.OUTSIDE_REACH: "beyond the campaign's reach (--reach) and not whitelisted",
    RefusalReason.NOT_WHITELISTED: "not on the outbound whitelist (--whitelist-only)",
}


@dataclass(frozen=True, slots=True)
class DialingFacts:
    campaign: str
    state: str  # the campaign's state in the database
    engine_running: bool
    ami_up: bool = False
    agents: Mapping[str, int] = field(default_factory=dict)  # logged-in agents by state
    needs_agents: bool = True  # False for a broadcast campaign
    lines: int = 0
    max_lines: int | None = None
    hopper: int = 0
    due_leads: int = 0  # dialable and due now, not yet in the hopper
    later_leads: int = 0  # dialable, due later
    next_due_at: datetime | None = None
    refused: Mapping[str, int] = field(default_factory=dict)  # refusals since the engine started
    refused_until: Mapping[str, datetime | None] = field(default_factory=dict)
    abandon_rate: float = 0.0
    abandon_cap: float = 1.0
    off_schedule: bool = False  # outside the campaign's own dialing hours, or a holiday (CB-3)
    reopens_at: datetime | None = None


def _at(instant: datetime | None) -> str:
    return "" if instant is None else f" until {instant.astimezone().strftime('%Y-%m-%d %H:%M')}"


def why_not_dialing(facts: DialingFacts) -> list[str]:
    """One line per reason calls are not going out now; [] when nothing holds dialing back."""
    reasons: list[str] = []
    if facts.state != "running":
        reasons.append(f"campaign {facts.campaign} is {facts.state}, not running (`ringcast campaign start`)")
    if not facts.engine_running:
        reasons.append("the engine is not running (`ringcast serve`)")
        return reasons
    if not facts.ami_up:
        reasons.append("the AMI link to Asterisk is down: dialing is paused until it is back")
    if facts.off_schedule:
        reasons.append(f"outside the campaign's dialing hours, or a holiday{_at(facts.reopens_at)}")
    logged_in = sum(facts.agents.values())
    ready = facts.agents.get("ready", 0)
    if facts.needs_agents and logged_in == 0:
        reasons.append("no agents logged in")
    elif facts.needs_agents and ready == 0:
        busy = ", ".join(f"{n} {state}" for state, n in sorted(facts.agents.items()))
        reasons.append(f"no agent ready ({busy})")
    if facts.max_lines is not None and facts.lines >= facts.max_lines:
        reasons.append(f"all {facts.max_lines} lines in use (max_lines)")
    if facts.abandon_cap and facts.abandon_rate >= facts.abandon_cap:
        reasons.append(
            f"abandonment rate {facts.abandon_rate:.1%} is at the cap {facts.abandon_cap:.1%}: "
            "only calls with an agent reserved"
        )
    if facts.hopper == 0 and facts.due_leads == 0:
        later = f"; {facts.later_leads} leads due later{_at(facts.next_due_at)}" if facts.later_leads else ""
        reasons.append(f"hopper empty: no lead is due now{later}")
    for reason, count in sorted(facts.refused.items(), key=lambda item: -item[1]):
        text = _REFUSAL_TEXT.get(RefusalReason(reason), reason)
        reasons.append(f"{count} leads refused at dial time: {text}{_at(facts.refused_until.get(reason))}")
    return reasons
