"""Sharing dials among a campaign's lists: priority tiers, weights by smooth weighted round robin."""

from __future__ import annotations

from collections import Counter

from campaigns.config import ListShare
from campaigns.list_shares import ListShares


def test_tiers_go_by_priority_then_list() -> None:
    shares = ListShares([ListShare(3, 1, 1), ListShare(1, 5, 2), ListShare(2, 5, 1), ListShare(4, 0, 1)])
    assert shares.tiers == [[1, 2], [3], [4]]


def test_weights_interleave_and_share_exactly() -> None:
    shares = ListShares([ListShare(1, 0, 2), ListShare(2, 0, 1)])
    assert shares.order([1, 2], 6) == [1, 2, 1, 1, 2, 1]
    assert Counter(shares.order([1, 2], 300)) == {1: 200, 2: 100}


def test_credit_carries_over_small_refills() -> None:
    shares = ListShares([ListShare(1, 0, 3), ListShare(2, 0, 1)])
    one_at_a_time = [shares.order([1, 2], 1)[0] for _ in range(40)]
    assert Counter(one_at_a_time) == {1: 30, 2: 10}


def test_a_dry_list_leaves_its_share_to_the_others() -> None:
    shares = ListShares([ListShare(1, 0, 1), ListShare(2, 0, 1), ListShare(3, 0, 2)])
    assert Counter(shares.order([1, 3], 30)) == {1: 10, 3: 20}
    assert shares.order([], 5) == []
