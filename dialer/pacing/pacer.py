"""The `Pacer`: fed events with their times, asked `decide(now)` how many calls to launch.

One object serves the live dialer and the simulator alike; it never reads a clock and does no I/O.
Modes: `preview` never dials by itself; `progressive` launches one call per ready agent not already
covered by a call in progress; `ratio` keeps `ratio` calls in progress per ready agent; `predictive`
launches every call whose forecast abandon risk (see `forecast`) is within the budget the abandon
feedback (see `controller`) allows, and never fewer than `progressive` would. All modes respect
`max_lines`, the leads left and the agents held back by their maximum occupancy (AGT-7). In a
blended campaign every mode dials only for the agents inbound will not take (see `inbound`): the
reserve kept free for it, the inbound calls waiting and the arrivals expected before a call
launched now would need its agent.

The forecast's tables (see `tables`) are rebuilt now and then, a slice per predictive decision, so
that no decision pays for a whole rebuild.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from dialer.pacing.controller import AbandonController
from dialer.pacing.decision import Decision, Reasoning
from dialer.pacing.estimators import Estimates
from dialer.pacing.events import PacingEvent
from dialer.pacing.forecast import Outlook
from dialer.pacing.inbound import InboundClaim
from dialer.pacing.state import AgentState, Floor
from dialer.pacing.tables import Tables
from ringcast.errors import UserError

_FRESH_S = 0.5  # a forecast stands at least this long (dial-to-answer takes seconds)
_STALE_S = 1.0  # and this long when no event arrived (time alone changes little)
_SLICED_FROM_S = 5.0  # tables rebuilt at most this often are built a slice per decision
_LIST_EVIDENCE = 20  # calls ended before a finite list's running out can be judged


class Mode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    RATIO = "ratio"
    PREDICTIVE = "predictive"


@dataclass(frozen=True, slots=True)
class PacerConfig:
    """Campaign settings the pacer needs; nothing about how the called population behaves.

    `margin` is the share of the cap kept in reserve. `amd_false_positive_share` is the operator's
    estimate of the share of answered humans AMD hangs up on, when those count as abandoned
    (Ofcom): the pacer cannot see them, so it keeps that much of the cap free. `connect_within_s`
    is how long an answered call may wait for an agent; `amd` says whether answered calls go
    through answering-machine detection first; `ends_at` is when the campaign stops dialing (on the
    events' clock), which tells whether a limited list will run out before the end.
    `inbound_reserve` is how many ready blended agents to keep free for inbound calls.
    """

    mode: Mode = Mode.PREDICTIVE
    abandon_cap: float = 0.03
    margin: float = 0.1
    amd_false_positive_share: float = 0.0
    connect_within_s: float = 2.0
    amd: bool = False
    max_lines: int | None = None
    ends_at: float | None = None
    ratio: float = 2.0
    occupancy_window_s: float = 1800.0
    forecast_points: int = 10
    inbound_reserve: int = 0

    def __post_init__(self) -> None:
        checks = (
            ("abandon_cap", 0.0 <= self.abandon_cap <= 1.0, "must be between 0 and 1"),
            ("margin", 0.0 <= self.margin < 1.0, "must be in [0, 1)"),
            ("amd_false_positive_share", 0.0 <= self.amd_false_positive_share <= 1.0, "must be in [0, 1]"),
            ("connect_within_s", self.connect_within_s >= 0.0, "must not be negative"),
            ("max_lines", self.max_lines is None or self.max_lines >= 0, "must not be negative"),
            ("ratio", self.ratio > 0.0, "must be positive"),
            ("occupancy_window_s", self.occupancy_window_s > 0.0, "must be positive"),
            ("forecast_points", self.forecast_points >= 1, "must be at least 1"),
            ("inbound_reserve", self.inbound_reserve >= 0, "must not be negative"),
        )
        for name, ok, problem in checks:
            if not ok:
                raise UserError(f"pacer setting {name}: {problem} (got {getattr(self, name)!r})")

    @property
    def abandon_target(self) -> float:
        """The abandon rate the predictive pacer steers to: the cap less the margin and AMD's share."""
        return max(self.abandon_cap * (1.0 - self.margin) - self.amd_false_positive_share, 0.0)


class Pacer:
    """Decides how many calls to launch from the events it has been fed."""

    def __init__(self, config: PacerConfig) -> None:
        self.config = config
        self.estimates = Estimates()
        self.controller = AbandonController(config.abandon_target)
        self.floor = Floor(
            self.estimates,
            amd=config.amd,
            occupancy_window_s=config.occupancy_window_s,
            on_waiting_resolved=self.controller.observe,
        )
        self._start: float | None = None
        self._tables = self._new_tables(0.0).complete()  # from the priors alone: no agent yet
        self._tables_at = -math.inf  # when the data behind them were taken
        self._building: Tables | None = None  # their successor, a slice per decision
        self._building_at = -math.inf
        self._reasoning: Reasoning | None = None  # the last forecast's
        self._changed = True  # an event arrived since that forecast

    def observe(self, event: PacingEvent) -> None:
        if self._start is None:
            self._start = event.at
        self.floor.apply(event)
        self._changed = True

    def decide(self, now: float) -> Decision:
        if self._start is None:
            self._start = now
        floor = self.floor
        resting = tuple(floor.update_resting(now))
        ready = floor.ready - len(resting)
        lines = floor.lines
        mode = self.config.mode
        reasoning = None
        if mode == Mode.PREDICTIVE and floor.agents:
            self._rebuild_tables(now)
        claim = self._inbound_claim(now)
        dial_for = ready - claim.of_ready(self._ahead_s()) if claim else ready
        if mode == Mode.PREVIEW or not floor.agents:
            launch, bound = 0, mode.value if mode == Mode.PREVIEW else "no agents"
        elif mode == Mode.PREDICTIVE:
            launch, bound, reasoning = self._predictive(now, dial_for, lines, claim)
        else:
            wanted = dial_for if mode == Mode.PROGRESSIVE else math.floor(self.config.ratio * dial_for + 0.5)
            launch, bound = max(wanted - lines, 0), mode.value
        room, limit = self._room(lines)
        if launch > room:
            launch, bound = room, limit
        kept = claim.kept if claim else ()
        return Decision(
            now, launch, mode.value, bound, lines, ready, resting, reasoning, kept, ready - dial_for
        )

    def _inbound_claim(self, now: float) -> InboundClaim | None:
        """What inbound takes of the agents, in a blended campaign (None in one without inbound)."""
        floor = self.floor
        assert self._start is not None
        per_second = self.estimates.inbound_takes.per_second(now, self._start)
        if not (floor.blended or floor.inbound_waiting or per_second):
            return None
        return floor.inbound_claim(self.config.inbound_reserve, per_second)

    def _ahead_s(self) -> float:
        """How long before a call launched now needs its agent: the median ready delay, plus grace."""
        points = self._tables.points
        return points[len(points) // 2] + self.config.connect_within_s

    def _room(self, lines: int) -> tuple[int, str]:
        """Most calls that may be launched now, and what sets it: free lines, leads left, or a
        per-decision ceiling of ten calls per agent (the next decision comes a moment later)."""
        limits = [(10 * len(self.floor.agents) + 10, "ceiling")]
        if self.config.max_lines is not None:
            limits.append((self.config.max_lines - lines, "max_lines"))
        if self.floor.leads_remaining is not None:
            limits.append((self.floor.leads_remaining, "leads"))
        room, limit = min(limits)
        return max(room, 0), limit

    def _predictive(
        self, now: float, dial_for: int, lines: int, claim: InboundClaim | None
    ) -> tuple[int, str, Reasoning]:
        """Launch what the risk budget allows, never less than progressive would (for `dial_for`
        ready agents).

        The forecast is recomputed when events arrived and `_FRESH_S` passed, or after `_STALE_S`
        anyway; in between it stands, and only the progressive floor can launch calls.
        """
        progressive = max(dial_for - lines, 0)
        last = self._reasoning
        if last is not None and now - last.at < (_FRESH_S if self._changed else _STALE_S):
            return progressive, "progressive" if progressive else "risk", last
        estimates = self.estimates
        outlook = Outlook(self._tables, self.floor, now, estimates.answer.value, estimates.human.value, claim)
        list_bound = self._list_bound(now, outlook.p_new)
        self._expect_answers(now)
        budget = 0.0 if list_bound else self.controller.budget
        launch, risk = _largest_within(outlook, budget, self._room(lines)[0])
        bound = "risk"
        if list_bound:
            launch, bound = progressive, "list"
        elif progressive > launch:
            launch, bound = progressive, "progressive"
        self._changed = False
        self._reasoning = Reasoning(
            at=now,
            expected_free_agents=outlook.free_agents,
            expected_ready_calls=outlook.ready_calls,
            ready_probability=outlook.p_new,
            risk=risk,
            risk_budget=budget,
            abandon_rate=self.controller.observed_rate,
            abandon_target=self.controller.aim,
        )
        return launch, bound, self._reasoning

    def _expect_answers(self, now: float) -> None:
        """Tell the controller how many calls will wait for an agent in the whole campaign, at the
        pace seen so far (for a campaign with an end)."""
        start, ends_at, controller = self._start, self.config.ends_at, self.controller
        if ends_at is not None and start is not None and now > start and controller.answered:
            controller.expect(controller.answered * (ends_at - start) / (now - start))

    def _new_tables(self, now: float) -> Tables:
        return Tables(
            self.estimates,
            amd=self.config.amd,
            talking=self.floor.elapsed(AgentState.TALK, now),
            wrapping=self.floor.elapsed(AgentState.WRAP, now),
            grace=self.config.connect_within_s,
            points=self.config.forecast_points,
        )

    def _rebuild_tables(self, now: float) -> None:
        """Advance the tables being built by one slice, and put them in use once complete.

        A build starts when the tables in use are older than elapsed/20 s (at least 1 s, at most a
        minute): the distributions are learned fast at first, slowly later. While builds are due
        more often than every `_SLICED_FROM_S` (the first minutes, when the floor is still small
        and every second of data counts), a build is done at once.
        """
        assert self._start is not None
        interval = min(60.0, max(1.0, (now - self._start) / 20.0))
        if self._building is None:
            if now - self._tables_at < interval:
                return
            self._building, self._building_at = self._new_tables(now), now
        if interval < _SLICED_FROM_S:
            self._building.complete()
        if self._building.advance():
            self._tables, self._tables_at, self._building = self._building, self._building_at, None

    def _list_bound(self, now: float, p_ready: float) -> bool:
        """Whether the leads left cannot keep every agent busy until `ends_at`.

        Then every abandoned call is a lead lost for good while dialing ahead gains nothing (the
        agents run out of work anyway), so the pacer dials progressively; also until it has seen
        enough calls end to tell.
        """
        leads, ends_at = self.floor.leads_remaining, self.config.ends_at
        if leads is None or ends_at is None:
            return False
        if self.estimates.talk.observed < _LIST_EVIDENCE:
            return True
        calls_needed = len(self.floor.agents) * max(ends_at - now, 0.0) / self._tables.cycle_s
        return leads * p_ready < calls_needed


def _largest_within(outlook: Outlook, budget: float, room: int) -> tuple[int, float]:
    """Largest n ≤ room whose n-th call carries at most `budget` risk (risk grows with n), and that risk.

    With n = 0 the risk returned is that of the first call, the one that was not launched.
    """
    first = outlook.marginal_risk(1)
    if room < 1 or first > budget:
        return 0, first
    good, good_risk, bad = 1, first, 2
    while bad <= room:
        risk = outlook.marginal_risk(bad)
        if risk > budget:
            break
        good, good_risk, bad = bad, risk, bad * 2
    bad = min(bad, room + 1)
    while bad - good > 1:
        middle = (good + bad) // 2
        risk = outlook.marginal_risk(middle)
        if risk <= budget:
            good, good_risk = middle, risk
        else:
            bad = middle
    return good, good_risk
