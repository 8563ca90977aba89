"""In-call controls (AGT-4, IVR-6) as a pure state machine: what an agent may do to its call's legs now.

A call an agent is on has up to three legs: the customer, the agent's phone (always in the agent's
own conference) and a third party the agent brought in: a number dialled in, or another agent (its
own conference linked to this one). Their arrangement is a `Legs` state:

    talking      --hold-->       held        the customer hears music, the agent stays in its conference
    held         --resume-->     talking
    talking      --add-->        conference  a third party brought straight into the conference
    talking|held --consult-->    consulting  the customer on hold, a third party brought in
    consulting   --conference--> conference  the customer back: three-way (the third party is up)
    consulting|conference --complete--> off  the customer goes to the third party, the agent leaves
    consulting|conference --cancel-->   talking  the third party hung up, the customer back
    talking|held --transfer-->   off         blind: to an agent, a queue or a number
    talking|held --transfer-->   in_flow     to a flow (IVR-6): the agent stays on the call, kept for it
    in_flow      --returned-->   talking     the flow's `back` end brought the caller back

Apart from the legs, the agent may be muted toward the customer (`mute`, `unmute`: any state but
`in_flow`, the arrangement unchanged); a mute stays through the other moves until the agent unmutes
or leaves the call.

A third party that hangs up by itself takes a consultation back to held and a conference back to
talking (`third_gone`). While the caller is in a flow the agent can do nothing to it but hang up
(which lets the caller's flow go on without it: its `back` end then goes to its fallback queue).
A move the state does not allow raises `ControlRefused`, one line for the agent. No I/O and no
clock: `dialer.live.call_controls` carries the moves out on the pbx.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ringcast.errors import UserError


class Legs(StrEnum):
    TALKING = "talking"
    HELD = "held"
    CONSULTING = "consulting"
    CONFERENCE = "conference"
    IN_FLOW = "in_flow"  # the caller is in an IVR flow the agent sent it to (IVR-6)


class Control(StrEnum):
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"
    ADD = "add"
    CONSULT = "consult"
    CONFERENCE = "conference"
    COMPLETE = "complete"
    CANCEL = "cancel"
    MUTE = "mute"
    UNMUTE = "unmute"


TARGETED = frozenset({Control.TRANSFER, Control.ADD, Control.CONSULT})  # the controls given a target


class TargetKind(StrEnum):
    AGENT = "agent"
    QUEUE = "queue"
    FLOW = "flow"
    NUMBER = "number"


THIRD_PARTY_KINDS = (TargetKind.NUMBER, TargetKind.AGENT)  # who may be brought into a consultation


class ControlRefused(UserError):
    """The control is not allowed in the call's state."""


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


def parse_target(text: str) -> Target:
    """`agent:NAME`, `queue:NAME`, `flow:NAME` or `number:NUMBER`."""
    kind, _, name = text.partition(":")
    if kind not in TargetKind.__members__.values() or not name.strip():
        kinds = ", ".join(f"{k.value}:NAME" for k in TargetKind)
        raise UserError(f"transfer target {text!r}: give one of {kinds}")
    return Target(TargetKind(kind), name.strip())


_MOVES: dict[Control, dict[Legs, Legs | None]] = {
    Control.HOLD: {Legs.TALKING: Legs.HELD},
    Control.RESUME: {Legs.HELD: Legs.TALKING},
    Control.TRANSFER: {Legs.TALKING: None, Legs.HELD: None},
    Control.ADD: {Legs.TALKING: Legs.CONFERENCE},
    Control.CONSULT: {Legs.TALKING: Legs.CONSULTING, Legs.HELD: Legs.CONSULTING},
    Control.CONFERENCE: {Legs.CONSULTING: Legs.CONFERENCE},
    Control.COMPLETE: {Legs.CONSULTING: None, Legs.CONFERENCE: None},
    Control.CANCEL: {Legs.CONSULTING: Legs.TALKING, Legs.CONFERENCE: Legs.TALKING},
    Control.MUTE: {legs: legs for legs in Legs if legs is not Legs.IN_FLOW},
    Control.UNMUTE: {legs: legs for legs in Legs if legs is not Legs.IN_FLOW},
}
_NEEDS_THIRD_UP = (Control.CONFERENCE, Control.COMPLETE)
_WHY_NOT = {
    Legs.TALKING: "the customer is with the agent",
    Legs.HELD: "the customer is on hold",
    Legs.CONSULTING: "a consultation is in progress: complete, conference or cancel it first",
    Legs.CONFERENCE: "a three-way conference is in progress: complete or cancel it first",
    Legs.IN_FLOW: "the customer is in an IVR flow: wait for it to come back, or hang up",
}


@dataclass(frozen=True, slots=True)
class CallLegs:
    """The legs of one agent's call: their arrangement and the third party, if any."""

    state: Legs = Legs.TALKING
    third: Target | None = None
    third_up: bool = False  # the third party answered and joined the agent's conference
    muted: bool = False  # the agent, toward the customer (and any third party)

    def apply(self, control: Control, target: Target | None = None) -> CallLegs | None:
        """The legs after `control` (None: the agent is off the call); `target` for transfer,
        add and consult."""
        moves = _MOVES[control]
        if self.state not in moves:
            raise ControlRefused(f"cannot {control.value}: {_WHY_NOT[self.state]}")
        if control in TARGETED and target is None:
            raise ControlRefused(f"{control.value} needs a target")
        if control in (Control.ADD, Control.CONSULT):
            assert target is not None
            if target.kind not in THIRD_PARTY_KINDS:
                raise ControlRefused(
                    f"cannot {control.value} {target}: only a number or an agent can be brought in"
                )
        if control in (Control.MUTE, Control.UNMUTE):
            muting = control is Control.MUTE
            if self.muted is muting:
                raise ControlRefused(f"cannot {control.value}: the agent is {'' if muting else 'not '}muted")
            return replace(self, muted=muting)
        if control in _NEEDS_THIRD_UP and not self.third_up:
            raise ControlRefused(f"cannot {control.value}: {self.third} has not answered yet")
        after = moves[self.state]
        if control is Control.TRANSFER and target is not None and target.kind is TargetKind.FLOW:
            return CallLegs(Legs.IN_FLOW, muted=self.muted)
        if after is None:
            return None
        if control in (Control.ADD, Control.CONSULT):
            return CallLegs(after, target, third_up=False, muted=self.muted)
        if after is Legs.TALKING and self.third is not None:  # cancel: the third party goes
            return CallLegs(after, muted=self.muted)
        return replace(self, state=after)

    def returned(self) -> CallLegs:
        """The caller came back from the flow the agent sent it to: talking again."""
        if self.state is not Legs.IN_FLOW:
            raise ControlRefused(f"cannot take the customer back from a flow: {_WHY_NOT[self.state]}")
        return CallLegs(Legs.TALKING, muted=self.muted)

    @property
    def third_agent(self) -> str | None:
        """The agent brought in as the third party (consulted, AGT-4), if one is."""
        return self.third.name if self.third is not None and self.third.kind is TargetKind.AGENT else None

    def third_joined(self) -> CallLegs:
        return replace(self, third_up=True) if self.third is not None else self

    def third_gone(self) -> CallLegs:
        """The third party hung up (or never answered): back to the two-party call."""
        if self.state is Legs.CONSULTING:
            return CallLegs(Legs.HELD, muted=self.muted)
        if self.state is Legs.CONFERENCE:
            return CallLegs(Legs.TALKING, muted=self.muted)
        return self
