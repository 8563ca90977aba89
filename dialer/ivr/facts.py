"""What a flow's conditions know about the caller (ACD-3, ACD-5, ACD-10), and how a `when` test reads it.

`CallerFacts` is looked up by the adapter before the flow starts (the customer record by number,
its tags such as VIP or malicious, the province the number belongs to) and handed to `FlowRun`;
an unknown caller has no tags and an empty record. `holds` answers a condition branch's test from
the facts and the call's variables. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dialer.acd.entry import in_region
from dialer.ivr.flow import When

VIP, MALICIOUS = "vip", "malicious"  # the tags the ACD acts on (ACD-3, ACD-10)


@dataclass(frozen=True, slots=True)
class CallerFacts:
    number: str
    region: str | None = None  # province or region of the number (号码归属地), e.g. 广东省
    tags: frozenset[str] = frozenset()  # vip, malicious, ...
    customer: Mapping[str, object] = field(default_factory=dict)  # the customer record's fields

    def tagged(self, tag: str) -> bool:
        """Whether the caller has `tag`, in any case."""
        return tag.casefold() in {own.casefold() for own in self.tags}


def holds(when: When, caller: CallerFacts, variables: Mapping[str, str]) -> bool:
    """Whether the test holds for this caller with these variables."""
    if when.tag is not None:
        return caller.tagged(when.tag)
    if when.region is not None:
        return any(in_region(caller.region, name) for name in when.region)
    value = variables.get(when.variable) if when.variable is not None else _field(caller, when.field)
    if value is None or value == "":
        return False
    if when.equals is not None:
        return value == when.equals
    if when.one_of is not None:
        return value in when.one_of
    return when.prefix is None or value.startswith(when.prefix)


def _field(caller: CallerFacts, name: str | None) -> str | None:
    value = caller.customer.get(name) if name is not None else None
    return None if value is None else str(value)
