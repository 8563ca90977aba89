"""The lists that share the blocklist's table but block nothing (outbound whitelist, VIP list):
`Blocklist.entry_of` finds a number's entry on one list; only DNC and blacklist entries block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.compliance.blocklist import BlockEntry, Blocklist, blocks
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NUMBER = "+8613800138000"


def test_a_vip_entry_blocks_no_call() -> None:
    listed = Blocklist([BlockEntry(BlockKind.VIP, NUMBER)])
    assert listed.check(NUMBER, None, NOW) is None
    assert listed.check(NUMBER, 3, NOW) is None
    assert not listed.whitelisted(NUMBER, None, NOW)
    assert [kind for kind in BlockKind if blocks(kind)] == [BlockKind.DNC, BlockKind.BLACKLIST]


def test_entry_of_finds_the_numbers_entry_on_one_list_only() -> None:
    vip = BlockEntry(BlockKind.VIP, NUMBER, reason="大客户")
    blacklisted = BlockEntry(BlockKind.BLACKLIST, "+86138", BlockMatch.PREFIX)
    lists = Blocklist([vip, blacklisted])
    assert lists.entry_of(BlockKind.VIP, NUMBER, None, NOW) == vip
    assert lists.entry_of(BlockKind.BLACKLIST, NUMBER, None, NOW) == blacklisted
    assert lists.entry_of(BlockKind.WHITELIST, NUMBER, None, NOW) is None
    assert lists.entry_of(BlockKind.VIP, "+8613900139000", None, NOW) is None


def test_entry_of_prefers_the_exact_entry_then_the_longest_prefix() -> None:
    short = BlockEntry(BlockKind.VIP, "+86138", BlockMatch.PREFIX)
    long = BlockEntry(BlockKind.VIP, "+8613800", BlockMatch.PREFIX)
    exact = BlockEntry(BlockKind.VIP, NUMBER)
    assert Blocklist([short, long]).entry_of(BlockKind.VIP, NUMBER, None, NOW) == long
    assert Blocklist([short, exact, long]).entry_of(BlockKind.VIP, NUMBER, None, NOW) == exact


def test_entry_of_skips_expired_entries_and_other_campaigns() -> None:
    expired = BlockEntry(BlockKind.VIP, NUMBER, expires_at=NOW - timedelta(seconds=1))
    assert Blocklist([expired]).entry_of(BlockKind.VIP, NUMBER, None, NOW) is None
    until_later = BlockEntry(BlockKind.VIP, NUMBER, expires_at=NOW + timedelta(days=1))
    assert Blocklist([until_later]).entry_of(BlockKind.VIP, NUMBER, None, NOW) == until_later
    campaign = BlockEntry(BlockKind.WHITELIST, NUMBER, scope=BlockScope.CAMPAIGN, campaign_id=3)
    assert Blocklist([campaign]).entry_of(BlockKind.WHITELIST, NUMBER, None, NOW) is None
    assert Blocklist([campaign]).entry_of(BlockKind.WHITELIST, NUMBER, 3, NOW) == campaign
    assert Blocklist([campaign]).whitelisted(NUMBER, 3, NOW)
