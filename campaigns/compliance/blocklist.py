"""DNC and blacklist decisions (CMPL-1, IMP-5): is this number blocked for this campaign now, and why;
and the lists kept in the same table that block nothing: the outbound whitelist (DIAL-8) and the
VIP list of inbound callers (ACD-3). `entry_of` answers for one list: is the number on it, and by
which entry.

`Blocklist` is built from entries (exact numbers and prefixes, global or per campaign, with an
optional expiry) and answers `check(e164, campaign_id, now)` with no I/O and without reading the
clock, so the importer and the live dialer share it. Exact entries sit in a dict by number;
prefix entries in one dict per prefix length, so a check costs one probe per distinct prefix
length (a handful), however many entries there are. When several entries match, the answer is
the first of: DNC before blacklist, exact before prefix, longer prefix before shorter.
`with_exact()` adds exact entries to a copy sharing the prefix index: the importer loads all
prefix entries once and only the exact entries a chunk of numbers needs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope

_KIND_RANK = {BlockKind.DNC: 0, BlockKind.BLACKLIST: 1}  # the kinds that block; whitelist and vip do not


@dataclass(frozen=True, slots=True)
class BlockEntry:
    """One entry of a list (DNC, blacklist, whitelist, VIP), as stored in `blocklist_entries`."""

    kind: BlockKind
    value: str  # an E.164 number (exact) or the start of numbers (prefix), "+" included
    match: BlockMatch = BlockMatch.EXACT
    scope: BlockScope = BlockScope.GLOBAL
    campaign_id: int | None = None
    reason: str | None = None
    source: str | None = None
    expires_at: datetime | None = None

    def applies(self, campaigns: Collection[int], now: datetime) -> bool:
        """In force at `now` for a call in one of `campaigns` (global entries apply to every call)."""
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return self.scope is BlockScope.GLOBAL or self.campaign_id in campaigns

    def describe(self) -> str:
        """One line: 'dnc, exact +8613800138000, global, reason: 客户投诉, source: hotline, until ...'."""
        scope = "global" if self.scope is BlockScope.GLOBAL else f"campaign {self.campaign_id}"
        parts = [f"{self.kind.value}", f"{self.match.value} {self.value}", scope]
        if self.reason:
            parts.append(f"reason: {self.reason}")
        if self.source:
            parts.append(f"source: {self.source}")
        if self.expires_at is not None:
            parts.append(f"until {self.expires_at.isoformat(timespec='seconds')}")
        return ", ".join(parts)


def blocks(kind: BlockKind) -> bool:
    """Whether an entry of `kind` keeps a number from being called (DNC, blacklist)."""
    return kind in _KIND_RANK


def _rank(entry: BlockEntry) -> tuple[int, int, int]:
    return _KIND_RANK[entry.kind], *_match_rank(entry)


def _match_rank(entry: BlockEntry) -> tuple[int, int]:
    """Exact before prefix, a longer prefix before a shorter one."""
    return entry.match is BlockMatch.PREFIX, -len(entry.value)


class Blocklist:
    """Entries indexed for fast checks; immutable once built."""

    def __init__(self, entries: Iterable[BlockEntry] = ()) -> None:
        self._exact: dict[str, tuple[BlockEntry, ...]] = {}
        self._prefixes: dict[int, dict[str, tuple[BlockEntry, ...]]] = {}
        for entry in entries:
            if entry.match is BlockMatch.EXACT:
                self._exact[entry.value] = (*self._exact.get(entry.value, ()), entry)
            else:
                by_value = self._prefixes.setdefault(len(entry.value), {})
                by_value[entry.value] = (*by_value.get(entry.value, ()), entry)
        self._lengths = sorted(self._prefixes, reverse=True)

    def __len__(self) -> int:
        return sum(map(len, self._exact.values())) + sum(
            len(entries) for by_value in self._prefixes.values() for entries in by_value.values()
        )

    def with_exact(self, entries: Iterable[BlockEntry]) -> Blocklist:
        """A copy with these exact entries added (prefix entries are shared, not copied)."""
        copy = Blocklist()
        copy._prefixes, copy._lengths = self._prefixes, self._lengths
        copy._exact = dict(self._exact)
        for entry in entries:
            if entry.match is not BlockMatch.EXACT:
                raise ValueError(f"not an exact entry: {entry.describe()}")
            copy._exact[entry.value] = (*copy._exact.get(entry.value, ()), entry)
        return copy

    def listed(self, numbers: Sequence[str]) -> frozenset[str]:
        """Those of `numbers` (sorted) that some entry matches, in force or not: the others need
        no `check`. Prefix entries are matched by a binary search each, not per number."""
        found = self._exact.keys() & numbers  # a new set
        for by_value in self._prefixes.values():
            for prefix in by_value:
                at = bisect_left(numbers, prefix)
                while at < len(numbers) and numbers[at].startswith(prefix):
                    found.add(numbers[at])
                    at += 1
        return frozenset(found)

    def check(self, e164: str, campaign_id: int | Collection[int] | None, now: datetime) -> BlockEntry | None:
        """The entry that blocks calling `e164` in the campaign(s) at `now`, or None if it may be called.

        `campaign_id` is the campaign of the call; the importer passes every campaign the list
        belongs to, and None checks global entries only. An expired entry never blocks.
        """
        blocking = [entry for entry in self._applicable(e164, campaign_id, now) if entry.kind in _KIND_RANK]
        return min(blocking, key=_rank) if blocking else None

    def whitelisted(self, e164: str, campaign_id: int | None, now: datetime) -> bool:
        """On the outbound whitelist (外呼白名单) for the campaign at `now` (DIAL-8)."""
        return self.entry_of(BlockKind.WHITELIST, e164, campaign_id, now) is not None

    def entry_of(
        self, kind: BlockKind, e164: str, campaign_id: int | None, now: datetime
    ) -> BlockEntry | None:
        """The entry of list `kind` that holds `e164` for the campaign (None: global entries only) at
        `now`, exact before prefix and the longest prefix first; None when the number is not on it."""
        found = [entry for entry in self._applicable(e164, campaign_id, now) if entry.kind is kind]
        return min(found, key=_match_rank) if found else None

    def _applicable(
        self, e164: str, campaign_id: int | Collection[int] | None, now: datetime
    ) -> list[BlockEntry]:
        found = self._exact.get(e164, ())
        size = len(e164)
        for length in self._lengths:
            if length <= size:
                found += self._prefixes[length].get(e164[:length], ())
        if not found:
            return []
        if campaign_id is None:
            campaigns: Collection[int] = ()
        elif isinstance(campaign_id, int):
            campaigns = (campaign_id,)
        else:
            campaigns = campaign_id
        return [entry for entry in found if entry.applies(campaigns, now)]
