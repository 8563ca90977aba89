"""Retention rules (CMPL-6): the presets' minimums, cutoffs, who decides for a shared list, which lead
is due, the token that replaces a number. Fixed instants, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.config import CampaignConfig, CampaignSpec, ListShare
from campaigns.persistence.models.enums import CampaignState, CompliancePreset
from campaigns.retention import (
    RECORDS_RULES,
    CampaignRetention,
    LeadFacts,
    check_retention,
    cutoff,
    is_due,
    is_purged,
    lead_cutoff,
    list_cutoffs,
    lists_to_purge,
    purge_token,
)
from ringcast.errors import UserError

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
DAY, US = timedelta(days=1), timedelta(microseconds=1)
CN, USA, UK, CUSTOM = (CompliancePreset.CN, CompliancePreset.US, CompliancePreset.UK, CompliancePreset.CUSTOM)


def config(**given: Any) -> CampaignConfig:
    spec = CampaignSpec.parse(given)
    compliance = spec.compliance(changed=(), approved=(), actor="test", reason=None).settings
    return CampaignConfig.build(
        spec,
        compliance,
        id=1,
        name="秋季回访",
        state=CampaignState.DRAFT,
        agent_group_id=None,
        survey_id=None,
        dispositions=(),
        lists=(ListShare(1, 0, 1),),
    )


@pytest.mark.parametrize(
    ("preset", "minimum"), [(USA, 730), (CN, 30), (UK, 30), (CUSTOM, 30)], ids=lambda v: str(v)
)
def test_each_preset_has_a_minimum(preset: CompliancePreset, minimum: int) -> None:
    assert RECORDS_RULES[preset].min_days == minimum
    check_retention(preset, minimum)
    check_retention(preset, None)  # kept forever: always allowed
    with pytest.raises(UserError) as refused:
        check_retention(preset, minimum - 1)
    assert f"the {preset.value} preset" in str(refused.value)
    assert f"at least {minimum} days (got {minimum - 1})" in str(refused.value)


def test_the_refusals_name_what_the_preset_keeps() -> None:
    with pytest.raises(
        UserError, match=r"^campaign retention_days: the us preset keeps dialing records 24 months"
    ):
        check_retention(USA, 365)
    with pytest.raises(UserError, match=r"the cn preset keeps recordings, numbers, times and consent proof"):
        check_retention(CN, 7)


def test_a_campaign_takes_a_retention_at_least_its_presets() -> None:
    assert config(retention_days=30).retention_days == 30
    assert config(retention_days="400").describe()["retention_days"] == 400
    assert config().retention_days is None and config().describe()["retention_days"] is None
    for forever in ("forever", "never", "None"):
        assert CampaignSpec.parse({"retention_days": forever}).retention_days is None
    assert config(preset="us", retention_days=730).retention_days == 730
    with pytest.raises(UserError, match=r"the us preset .* at least 730 days \(got 90\)"):
        config(preset="us", retention_days=90)
    with pytest.raises(
        UserError, match="campaign retention_days: Input should be greater than or equal to 1"
    ):
        CampaignSpec.parse({"retention_days": 0})
    with pytest.raises(UserError, match="campaign retention_days"):
        CampaignSpec.parse({"retention_days": "a year"})


def test_an_update_checks_against_the_campaigns_own_preset() -> None:
    """An update is a spec of its changes alone (preset unset): the merged spec is what is checked."""
    stored = CampaignSpec.parse({"preset": "us"})
    change = CampaignSpec.parse({"retention_days": 100})  # fine on its own: no config is built from it
    with pytest.raises(UserError, match="the us preset"):
        config(**stored.merged(change).given())


def test_the_cutoff_is_the_retention_before_now() -> None:
    assert cutoff(30, NOW) == datetime(2026, 10, 24, 1, 30, tzinfo=UTC)
    assert cutoff(730, NOW) == datetime(2024, 11, 23, 1, 30, tzinfo=UTC)  # 2024 is a leap year
    assert cutoff(None, NOW) is None


def retention(campaign_id: int, days: int | None, *lists: int) -> CampaignRetention:
    return CampaignRetention(campaign_id, f"c{campaign_id}", CN, days, frozenset(lists))


def test_a_shared_list_takes_the_longest_retention_and_forever_wins() -> None:
    campaigns = [retention(1, 30, 10, 11), retention(2, 90, 11, 12), retention(3, None, 12), retention(4, 60)]
    assert list_cutoffs(campaigns, NOW) == {10: NOW - 30 * DAY, 11: NOW - 90 * DAY, 12: None}
    assert lead_cutoff([]) is None
    assert lead_cutoff([NOW, NOW - DAY]) == NOW - DAY
    assert lead_cutoff([NOW, None]) is None


def test_each_list_is_purged_once_by_the_first_campaign_in_scope() -> None:
    campaigns = [retention(2, 90, 11, 12), retention(1, 30, 10, 11), retention(3, None, 12, 13)]
    assert lists_to_purge(campaigns, {1, 2, 3}) == {1: (10, 11), 2: (12,)}
    assert lists_to_purge(campaigns, {2}) == {2: (11, 12)}
    assert lists_to_purge(campaigns, {3}) == {}  # no retention: it purges nothing


LISTS = {10: NOW - 30 * DAY, 11: None}
CAMPAIGNS = {1: NOW - 30 * DAY, 2: NOW - 90 * DAY, 3: None}


def lead(**given: Any) -> LeadFacts:
    facts: dict[str, Any] = {"lead_id": 7, "list_id": 10, "last_attempt_at": None, "updated_at": NOW}
    return LeadFacts(**(facts | given))


def test_a_lead_is_due_once_inactive_since_before_the_cutoff() -> None:
    edge = NOW - 30 * DAY
    assert is_due(lead(last_attempt_at=edge - US), LISTS, CAMPAIGNS)
    assert not is_due(lead(last_attempt_at=edge), LISTS, CAMPAIGNS)
    # never dialled: when it last changed
    assert is_due(lead(updated_at=edge - DAY), LISTS, CAMPAIGNS)
    assert not is_due(lead(updated_at=edge + DAY), LISTS, CAMPAIGNS)
    # the last attempt counts, not a later change of the row
    assert is_due(lead(last_attempt_at=edge - DAY, updated_at=edge + DAY), LISTS, CAMPAIGNS)


def test_a_later_sms_restarts_the_clock() -> None:
    old = NOW - 100 * DAY
    assert is_due(lead(last_attempt_at=old, last_message_at=old + DAY), LISTS, CAMPAIGNS)
    assert not is_due(lead(last_attempt_at=old, last_message_at=NOW - 10 * DAY), LISTS, CAMPAIGNS)


def test_every_campaign_that_dialled_it_must_agree() -> None:
    old = NOW - 60 * DAY
    assert is_due(lead(last_attempt_at=old, attempt_campaigns=frozenset({1})), LISTS, CAMPAIGNS)
    assert not is_due(lead(last_attempt_at=old, attempt_campaigns=frozenset({1, 2})), LISTS, CAMPAIGNS)
    assert is_due(lead(last_attempt_at=NOW - 91 * DAY, attempt_campaigns=frozenset({2})), LISTS, CAMPAIGNS)
    assert not is_due(
        lead(last_attempt_at=NOW - 999 * DAY, attempt_campaigns=frozenset({3})), LISTS, CAMPAIGNS
    )
    assert not is_due(
        lead(last_attempt_at=NOW - 999 * DAY, attempt_campaigns=frozenset({9})), LISTS, CAMPAIGNS
    )


def test_kept_forever_unattached_or_with_open_business() -> None:
    old = NOW - 999 * DAY
    assert not is_due(lead(list_id=11, last_attempt_at=old), LISTS, CAMPAIGNS)  # a campaign keeps forever
    assert not is_due(lead(list_id=12, last_attempt_at=old), LISTS, CAMPAIGNS)  # no campaign attaches it
    assert not is_due(lead(last_attempt_at=old, open_business=True), LISTS, CAMPAIGNS)


def test_the_token_says_nothing_of_the_number_and_fits_the_columns() -> None:
    assert purge_token(1) == "purged:1"
    assert purge_token(48879) == "purged:beef"
    assert len(purge_token(16**9 - 1)) == 16
    with pytest.raises(ValueError, match="no purge token"):
        purge_token(16**9)
    assert is_purged(purge_token(5)) and not is_purged("+8613800138000")
