"""Outbound permission classes and the whitelist (DIAL-8): how far a number is, and what may be dialled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from campaigns.compliance.abandonment import AbandonmentRate
from campaigns.compliance.blocklist import BlockEntry, Blocklist
from campaigns.compliance.destinations import Home, Reach
from campaigns.compliance.presets import AbandonWindow, customise
from campaigns.compliance.rules import (
    ALLOWED,
    CampaignRules,
    DialHistory,
    LeadFacts,
    Refused,
    Verdict,
    check_dial,
)
from campaigns.compliance.rules import RefusalReason as R
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from campaigns.persistence.models.enums import CompliancePreset as P

GUANGZHOU = Home.of("02088881234", "CN")  # a Guangzhou landline, in national format
NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
CALM = AbandonmentRate(AbandonWindow.DAY, None, None, 0.0, 0.0)


def test_a_caller_ids_home_is_its_country_and_area() -> None:
    assert GUANGZHOU == Home(86, "Guangzhou, Guangdong") == Home.of("+862088881234", "US")
    assert Home.of("4008001234", "CN") == Home(86, None)  # non-geographic: nothing is local to it
    assert Home.of(None, "GB") == Home(44, None)
    assert Home.of("not a number", "US") == Home(1, None)


@pytest.mark.parametrize(
    ("number", "reach"),
    [
        ("+862087654321", Reach.LOCAL),  # a Guangzhou landline
        ("+8613800138000", Reach.NATIONAL),  # a Beijing mobile
        ("+8675512345678", Reach.NATIONAL),  # Shenzhen
        ("+442079461201", Reach.INTERNATIONAL),
        ("+12125551201", Reach.INTERNATIONAL),
        ("+861380000101010", Reach.NATIONAL),  # too long to geocode: in the country all the same
    ],
)
def test_reach_of_a_number(number: str, reach: Reach) -> None:
    assert GUANGZHOU.reach_of(number) is reach


def test_classes_cover_the_narrower_ones() -> None:
    assert Reach.INTERNATIONAL.covers(Reach.LOCAL) and Reach.NATIONAL.covers(Reach.NATIONAL)
    assert not Reach.LOCAL.covers(Reach.NATIONAL) and not Reach.NATIONAL.covers(Reach.INTERNATIONAL)


def check(number: str, reach: Reach, whitelist_only: bool = False, **lead: Any) -> Verdict:
    settings = customise(P.CN, {}).settings
    rules = CampaignRules(settings, "Asia/Shanghai", "02088881234", GUANGZHOU, reach, whitelist_only)
    return check_dial(LeadFacts(number, ("Asia/Shanghai",), **lead), rules, DialHistory(CALM), NOON)


def test_a_number_beyond_the_reach_is_refused_unless_whitelisted() -> None:
    assert check("+8613800138000", Reach.NATIONAL) is ALLOWED
    assert check("+442079461201", Reach.NATIONAL) == Refused(R.OUTSIDE_REACH, None)  # for good
    assert check("+442079461201", Reach.NATIONAL, whitelisted=True) is ALLOWED
    assert check("+8613800138000", Reach.LOCAL) == Refused(R.OUTSIDE_REACH, None)
    assert check("+862087654321", Reach.LOCAL) is ALLOWED


def test_whitelist_only_dials_whitelisted_numbers_alone() -> None:
    assert check("+862087654321", Reach.INTERNATIONAL, whitelist_only=True) == Refused(
        R.NOT_WHITELISTED, None
    )
    assert check("+442079461201", Reach.NATIONAL, whitelist_only=True, whitelisted=True) is ALLOWED


def test_a_whitelist_entry_never_blocks_and_dnc_still_does() -> None:
    entries = Blocklist(
        [
            BlockEntry(BlockKind.WHITELIST, "+44", BlockMatch.PREFIX),
            BlockEntry(BlockKind.WHITELIST, "+12125551201", scope=BlockScope.CAMPAIGN, campaign_id=7),
            BlockEntry(BlockKind.DNC, "+442079461201"),
        ]
    )
    assert entries.check("+442070000000", 1, NOON) is None and entries.whitelisted("+442070000000", 1, NOON)
    blocked = entries.check("+442079461201", 1, NOON)
    assert (
        blocked is not None
        and blocked.kind is BlockKind.DNC
        and entries.whitelisted("+442079461201", 1, NOON)
    )
    assert entries.whitelisted("+12125551201", 7, NOON) and not entries.whitelisted("+12125551201", 8, NOON)
