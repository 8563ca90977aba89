"""Before a call queues: area routing by region, blacklist and malicious callers."""

from __future__ import annotations

import pytest

from dialer.acd.commands import FlagMalicious, Refusal, Refuse
from dialer.acd.entry import AreaRoutes
from dialer.acd.screening import CallerFlags, screen
from ringcast.errors import UserError

AREAS = AreaRoutes({"广东": "south", "北京": "north", "上海": "east"}, default="national")


@pytest.mark.parametrize(
    ("region", "queue"),
    [
        ("广东", "south"),
        (" 北京 ", "north"),
        ("广东省", "south"),  # a region starting with a listed name: 广东 stands for 广东省
        ("北京市", "north"),
        ("西藏", "national"),
        ("", "national"),
        (None, "national"),
    ],
)
def test_area_routing_chooses_the_queue_of_the_callers_region_else_the_default(
    region: str | None, queue: str
) -> None:
    assert AREAS.queue_for(region) == queue


def test_area_routing_names_only_queues_that_exist() -> None:
    AREAS.check({"south", "north", "east", "national"})
    with pytest.raises(UserError, match="area routing: no queue named 'east', 'national'"):
        AREAS.check({"south", "north"})


@pytest.mark.parametrize("how", list(Refusal))
def test_a_blacklisted_caller_is_refused_as_configured(how: Refusal) -> None:
    assert screen("c", CallerFlags(blacklisted=True), how) == Refuse("c", how)
    assert screen("c", CallerFlags(blacklisted=True, malicious=True), how) == Refuse("c", how)


def test_a_malicious_caller_is_flagged_and_others_pass_unmarked() -> None:
    assert screen("c", CallerFlags(malicious=True), Refusal.BUSY) == FlagMalicious("c")
    assert screen("c", CallerFlags(), Refusal.BUSY) is None
