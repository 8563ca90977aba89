"""`Blocklist.check` (exact and longest-prefix matches, scope, expiry, priority) and `listed`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.compliance.blocklist import BlockEntry, Blocklist
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NUMBER = "+8613800138000"


def dnc(value: str, **fields: object) -> BlockEntry:
    return BlockEntry(BlockKind.DNC, value, **fields)  # type: ignore[arg-type]


def blacklisted(value: str, **fields: object) -> BlockEntry:
    return BlockEntry(BlockKind.BLACKLIST, value, **fields)  # type: ignore[arg-type]


def test_an_exact_entry_blocks_only_its_number() -> None:
    blocklist = Blocklist([dnc(NUMBER, reason="客户投诉")])
    assert blocklist.check(NUMBER, None, NOW) == dnc(NUMBER, reason="客户投诉")
    assert blocklist.check("+8613800138001", None, NOW) is None
    assert blocklist.check("+861380013800", None, NOW) is None


def test_a_prefix_entry_blocks_every_number_it_starts() -> None:
    entry = blacklisted("+86170", match=BlockMatch.PREFIX)
    blocklist = Blocklist([entry])
    assert blocklist.check("+8617012345678", None, NOW) == entry
    assert blocklist.check("+86170", None, NOW) == entry
    assert blocklist.check("+8617112345678", None, NOW) is None
    assert blocklist.check("+8617", None, NOW) is None


def test_the_longest_prefix_is_the_reason() -> None:
    short = blacklisted("+861", match=BlockMatch.PREFIX, reason="all mobiles")
    long = blacklisted("+86138001", match=BlockMatch.PREFIX, reason="one block")
    assert Blocklist([short, long]).check(NUMBER, None, NOW) == long


def test_dnc_comes_before_blacklist_and_exact_before_prefix() -> None:
    entries = [
        blacklisted(NUMBER),
        dnc("+86138", match=BlockMatch.PREFIX),
        dnc(NUMBER, reason="asked"),
        blacklisted("+8613800", match=BlockMatch.PREFIX),
    ]
    assert Blocklist(entries).check(NUMBER, None, NOW) == dnc(NUMBER, reason="asked")
    assert Blocklist(entries[:2]).check(NUMBER, None, NOW) == dnc("+86138", match=BlockMatch.PREFIX)


def test_a_campaign_entry_blocks_only_in_its_campaign() -> None:
    entry = dnc(NUMBER, scope=BlockScope.CAMPAIGN, campaign_id=7)
    blocklist = Blocklist([entry])
    assert blocklist.check(NUMBER, 7, NOW) == entry
    assert blocklist.check(NUMBER, 8, NOW) is None
    assert blocklist.check(NUMBER, None, NOW) is None
    assert blocklist.check(NUMBER, frozenset({3, 7}), NOW) == entry
    assert blocklist.check(NUMBER, frozenset({3}), NOW) is None


def test_a_global_entry_blocks_in_every_campaign() -> None:
    entry = dnc(NUMBER)
    assert Blocklist([entry]).check(NUMBER, 7, NOW) == entry
    assert Blocklist([entry]).check(NUMBER, frozenset(), NOW) == entry


@pytest.mark.parametrize(
    ("expires_at", "blocked"),
    [
        (None, True),
        (NOW + timedelta(seconds=1), True),
        (NOW, False),  # it stops blocking at its expiry
        (NOW - timedelta(days=1), False),
    ],
)
def test_expiry(expires_at: datetime | None, blocked: bool) -> None:
    entry = dnc(NUMBER, expires_at=expires_at)
    assert (Blocklist([entry]).check(NUMBER, None, NOW) == entry) is blocked


def test_an_expired_entry_gives_way_to_one_in_force() -> None:
    expired = dnc(NUMBER, expires_at=NOW - timedelta(hours=1))
    in_force = blacklisted("+86138", match=BlockMatch.PREFIX)
    assert Blocklist([expired, in_force]).check(NUMBER, None, NOW) == in_force


def test_with_exact_adds_entries_and_shares_the_prefixes() -> None:
    prefix = blacklisted("+86170", match=BlockMatch.PREFIX)
    base = Blocklist([prefix])
    more = base.with_exact([dnc(NUMBER)])
    assert more.check(NUMBER, None, NOW) == dnc(NUMBER)
    assert more.check("+8617000000000", None, NOW) == prefix
    assert base.check(NUMBER, None, NOW) is None
    assert len(base) == 1 and len(more) == 2
    with pytest.raises(ValueError, match="not an exact entry"):
        base.with_exact([prefix])


def test_describe_says_why() -> None:
    entry = dnc(
        NUMBER,
        scope=BlockScope.CAMPAIGN,
        campaign_id=3,
        reason="本人要求",
        source="hotline",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert entry.describe() == (
        "dnc, exact +8613800138000, campaign 3, reason: 本人要求, source: hotline,"
        " until 2027-01-01T00:00:00+00:00"
    )


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=6)


@given(
    exact=st.lists(_DIGITS, max_size=8),
    prefixes=st.lists(_DIGITS, max_size=4),
    numbers=st.lists(_DIGITS, min_size=1, max_size=30),
)
def test_listed_holds_exactly_the_numbers_some_entry_matches(
    exact: list[str], prefixes: list[str], numbers: list[str]
) -> None:
    entries = [BlockEntry(BlockKind.DNC, "+86" + value) for value in exact]
    entries += [BlockEntry(BlockKind.BLACKLIST, "+86" + value, BlockMatch.PREFIX) for value in prefixes]
    blocklist = Blocklist(entries)
    candidates = sorted({"+86" + number for number in numbers})

    def matches(number: str, entry: BlockEntry) -> bool:
        return number == entry.value if entry.match is BlockMatch.EXACT else number.startswith(entry.value)

    matched = {number for number in candidates if any(matches(number, entry) for entry in entries)}
    assert blocklist.listed(candidates) == matched
    for number in set(candidates) - matched:
        assert blocklist.check(number, None, NOW) is None
