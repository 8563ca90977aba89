"""The import's decisions for a chunk of rows with valid numbers: scrub, then de-duplicate (IMP-4/5/6).

Pure: the database adapter looks up what this chunk's numbers need (exact DNC/blacklist entries,
SMS opt-outs, leads already in the list or the campaign) and hands it over as `Lookups`; the
file's own earlier rows are in `SeenNumbers`. For each row, in order:

1. blocked by a DNC or blacklist entry in force for one of the list's campaigns: `dnc` or
   `blacklisted` (every row of a blocked number, so compliance sees each one);
2. the same number earlier in this file: `duplicate` (the first row wins);
3. a lead of the list with this number that this same file made, from this same line: accepted
   again, nothing written (this is what makes a re-import idempotent);
4. any other lead with this number in the list or another list of its campaigns: `duplicate`;
5. otherwise a new lead (its candidate as it is), flagged `sms_opt_out` if the number has opted
   out of SMS (`Decision.opted_out`).

Rows travel as tuples (`Candidate`, `Reject`): chunks cross a process boundary,
and pickling plain tuples of strings and ints costs a tenth of pickling richer objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from campaigns.compliance.blocklist import Blocklist
from campaigns.persistence.models.enums import BlockKind
from imports.reasons import Reason
from imports.seen import Keys, Lines, SeenNumbers, number_key

# A row with a valid number: line, the cell as written, E.164, extension, a NumberType value,
# its place (an index into the import's list of `Place`s), attributes (a JSON object)
Candidate = tuple[int, str, str, str | None, str, int, str]


Reject = tuple[int, str, str, str]  # line, the cell as written, a Reason value, detail

_LINE, _NUMBER = itemgetter(0), itemgetter(2)  # a candidate's line and E.164


@dataclass(frozen=True, slots=True)
class ExistingLead:
    """A lead already stored with one of the chunk's numbers, in the list or a sibling list."""

    list_id: int
    source_line: int | None
    import_id: int | None


@dataclass(frozen=True)
class Context:
    """What holds for the whole import."""

    list_id: int
    import_id: int
    campaigns: frozenset[int]
    list_names: dict[int, str]  # every list searched for duplicates, by id
    now: datetime


@dataclass(frozen=True)
class Lookups:
    """What the database holds about one chunk's numbers."""

    blocklist: Blocklist
    listed: frozenset[str] | None = None  # the numbers some entry matches (None: check every one)
    existing: dict[str, ExistingLead] = field(default_factory=dict)
    opted_out: frozenset[str] = frozenset()


@dataclass
class Decision:
    new: list[Candidate] = field(default_factory=list)  # the rows that become new leads
    opted_out: frozenset[str] = frozenset()  # the numbers of those that opted out of SMS
    kept: int = 0  # accepted rows whose lead this file already made
    rejects: list[Reject] = field(default_factory=list)


def decide(
    candidates: Sequence[Candidate], lookups: Lookups, context: Context, seen: SeenNumbers
) -> Decision:
    """Decide every candidate of a chunk, and remember the accepted numbers in `seen`.

    The rows of one number must come in line order (the first one wins); the importer gives
    them sorted by number, so the new leads come out in that order, ready to write. The
    rejects come out in line order.

    Most numbers concern no lookup (no entry lists them, no lead holds them): their rows are
    decided by the earlier lines alone, with a few array operations for the whole chunk. The
    rows of the other numbers go through the steps one by one (`_one_by_one`).
    """
    decision = Decision()
    if not candidates:
        return decision
    count = len(candidates)
    keys = np.fromiter(map(number_key, map(_NUMBER, candidates)), np.int64, count)
    lines = np.fromiter(map(_LINE, candidates), np.int64, count)
    earlier = seen.lines_of(keys)
    concerned = _concerned(keys, lookups)
    first = np.where(earlier >= 0, earlier, _first_lines(keys, lines))  # the line each row repeats
    fresh = ~concerned & (first == lines)
    repeated = ~concerned & ~fresh
    duplicate = Reason.DUPLICATE.value
    for index, line in zip(np.flatnonzero(repeated).tolist(), first[repeated].tolist(), strict=True):
        candidate = candidates[index]
        decision.rejects.append((candidate[0], candidate[1], duplicate, f"same number as line {line}"))
    new = np.flatnonzero(fresh).tolist()
    accepted = list(new)
    _one_by_one(
        candidates, np.flatnonzero(concerned).tolist(), earlier, lookups, context, decision, new, accepted
    )
    seen.add(keys[accepted], lines[accepted])
    decision.new = list(map(candidates.__getitem__, sorted(new)))
    if lookups.opted_out:
        decision.opted_out = lookups.opted_out.intersection(map(_NUMBER, decision.new))
    decision.rejects.sort()  # by line: no two rows share one
    return decision


def _concerned(keys: Keys, lookups: Lookups) -> npt.NDArray[np.bool_]:
    """Which rows have a number some lookup concerns (all, when every number needs a `check`)."""
    if lookups.listed is None:
        return np.ones(len(keys), dtype=bool)
    numbers = [*lookups.listed, *lookups.existing]
    return np.isin(keys, np.fromiter(map(number_key, numbers), np.int64, len(numbers)))


def _first_lines(keys: Keys, lines: Lines) -> Lines:
    """For each row, the line of the chunk's first row with its number."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    first = np.empty_like(lines)
    first[order] = np.repeat(lines[order[starts]], np.diff(np.append(starts, len(keys))))
    return first


def _one_by_one(
    candidates: Sequence[Candidate],
    indexes: list[int],
    earlier: Lines,
    lookups: Lookups,
    context: Context,
    decision: Decision,
    new: list[int],
    accepted: list[int],
) -> None:
    """The steps of the module doc for the rows at `indexes`, in order: the rejects and the kept
    rows go into `decision`, the indexes of the new and of the accepted rows into `new` and
    `accepted`."""
    in_chunk: dict[str, int] = {}
    check, campaigns, now, listed = lookups.blocklist.check, context.campaigns, context.now, lookups.listed
    for index, before in zip(indexes, earlier[indexes].tolist(), strict=True):
        line, raw, e164 = candidates[index][:3]
        entry = check(e164, campaigns, now) if listed is None or e164 in listed else None
        if entry is not None:
            reason = Reason.DNC if entry.kind is BlockKind.DNC else Reason.BLACKLISTED
            decision.rejects.append((line, raw, reason.value, entry.describe()))
            continue
        first = in_chunk.get(e164, before)
        if first >= 0:
            decision.rejects.append((line, raw, Reason.DUPLICATE.value, f"same number as line {first}"))
            continue
        existing = lookups.existing.get(e164)
        if existing is not None:
            if not _made_by_this_row(existing, line, context):
                decision.rejects.append(
                    (line, raw, Reason.DUPLICATE.value, _already_there(existing, context))
                )
                continue
            decision.kept += 1
        else:
            new.append(index)
        in_chunk[e164] = line
        accepted.append(index)


def _made_by_this_row(existing: ExistingLead, line: int, context: Context) -> bool:
    return (
        existing.list_id == context.list_id
        and existing.import_id == context.import_id
        and existing.source_line == line
    )


def _already_there(existing: ExistingLead, context: Context) -> str:
    name = context.list_names.get(existing.list_id, f"#{existing.list_id}")
    where = f"line {existing.source_line}" if existing.source_line is not None else "a lead"
    if existing.list_id == context.list_id:
        return f"already in list {name} ({where} of an earlier import)"
    return f"already in list {name} of the same campaign ({where})"
