"""How a campaign's dials are shared among its lists (CMP-4): higher priority first; lists of equal
priority by weight.

Weights share by smooth weighted round robin: each turn every list still in play earns its weight,
the richest list gets the lead and pays the total back. Over any run of dials each list gets its
share within one lead, interleaved (weights 2:1 give A B A A B A ...), and the credit carries from one
hopper refill to the next, so small refills share as exactly as large ones. Pure: the hopper asks
for the order, fetches that many leads of each list and drops lists that run dry.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from campaigns.config import ListShare


class ListShares:
    def __init__(self, lists: Sequence[ListShare]) -> None:
        self._weights = {entry.list_id: entry.weight for entry in lists}
        ordered = sorted(lists, key=lambda entry: (-entry.priority, entry.list_id))
        self.tiers: list[list[int]] = [
            [entry.list_id for entry in tier]
            for _, tier in groupby(ordered, key=lambda entry: entry.priority)
        ]
        self._credit: dict[int, int] = dict.fromkeys(self._weights, 0)

    def order(self, lists: Sequence[int], count: int) -> list[int]:
        """The list each of the next `count` leads comes from, among `lists` (one tier's, still in play)."""
        if not lists:
            return []
        total = sum(self._weights[list_id] for list_id in lists)
        chosen = []
        for _ in range(count):
            for list_id in lists:
                self._credit[list_id] += self._weights[list_id]
            best = max(lists, key=lambda list_id: (self._credit[list_id], -list_id))
            self._credit[best] -= total
            chosen.append(best)
        return chosen
