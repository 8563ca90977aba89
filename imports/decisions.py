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
5. otherwise a new lead, flagged `sms_opt_out` if the number has opted out of SMS.

Rows travel as tuples (`Candidate`, `NewLead`, `Reject`): chunks cross a process boundary,
and pickling plain tuples of strings and ints costs a tenth of pickling richer objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from campaigns.compliance.blocklist import Blocklist
from campaigns.persistence.models.enums import BlockKind
from imports.reasons import Reason
from imports.seen import SeenNumbers, number_key

# A row with a valid number: line, the cell as written, E.164, extension, a NumberType value,
# its place (an index into the import's list of `Place`s), attributes (a JSON object)
Candidate = tuple[int, str, str, str | None, str, int, str]


NewLead = tuple[int, str, str, str | None, str, int, str, bool]  # a Candidate, then sms_opt_out


Reject = tuple[int, str, str, str]  # line, the cell as written, a Reason value, detail


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
    new: list[NewLead] = field(default_factory=list)
    kept: int = 0  # accepted rows whose lead this file already made
    rejects: list[Reject] = field(default_factory=list)


def decide(
    candidates: Sequence[Candidate], lookups: Lookups, context: Context, seen: SeenNumbers
) -> Decision:
    """Decide every candidate of a chunk, and remember the accepted numbers in `seen`."""
    keys = [number_key(candidate[2]) for candidate in candidates]
    earlier = seen.lines_of(np.array(keys, dtype=np.int64)).tolist()
    decision = Decision()
    new, rejects = decision.new, decision.rejects
    in_chunk: dict[str, int] = {}
    accepted_keys: list[int] = []
    accepted_lines: list[int] = []
    check, campaigns, now = lookups.blocklist.check, context.campaigns, context.now
    existing_leads, opted_out, listed = lookups.existing, lookups.opted_out, lookups.listed
    for index, candidate in enumerate(candidates):
        line, raw, e164 = candidate[0], candidate[1], candidate[2]
        entry = check(e164, campaigns, now) if listed is None or e164 in listed else None
        if entry is not None:
            reason = Reason.DNC if entry.kind is BlockKind.DNC else Reason.BLACKLISTED
            rejects.append((line, raw, reason.value, entry.describe()))
            continue
        first = in_chunk.get(e164, earlier[index])
        if first >= 0:
            rejects.append((line, raw, Reason.DUPLICATE.value, f"same number as line {first}"))
            continue
        existing = existing_leads.get(e164) if existing_leads else None
        if existing is not None:
            if not _made_by_this_row(existing, line, context):
                rejects.append((line, raw, Reason.DUPLICATE.value, _already_there(existing, context)))
                continue
            decision.kept += 1
        else:
            new.append((*candidate, e164 in opted_out))
        in_chunk[e164] = line
        accepted_keys.append(keys[index])
        accepted_lines.append(line)
    seen.add(np.array(accepted_keys, dtype=np.int64), np.array(accepted_lines, dtype=np.int64))
    return decision


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
