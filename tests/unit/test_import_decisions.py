"""The import's pure decisions: scrub first, then de-duplicate within the file, the list and the campaign."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from campaigns.compliance.blocklist import BlockEntry, Blocklist
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from imports.decisions import Candidate, Context, ExistingLead, Lookups, decide
from imports.seen import SeenNumbers, number_key
from reports.files import neutralise

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONTEXT = Context(
    list_id=1, import_id=10, campaigns=frozenset({5}), list_names={1: "广州", 2: "深圳"}, now=NOW
)


def row(line: int, e164: str) -> Candidate:
    return (line, e164[3:], e164, None, "mobile", 0, "{}")


def test_blocked_rows_are_rejected_each_time_then_duplicates() -> None:
    blocklist = Blocklist(
        [
            BlockEntry(BlockKind.DNC, "+8613800000001", reason="本人要求"),
            BlockEntry(BlockKind.BLACKLIST, "+86170", match=BlockMatch.PREFIX),
            BlockEntry(BlockKind.DNC, "+8613800000003", scope=BlockScope.CAMPAIGN, campaign_id=5),
            BlockEntry(BlockKind.DNC, "+8613800000004", scope=BlockScope.CAMPAIGN, campaign_id=6),
        ]
    )
    rows = [
        row(2, "+8613800000001"),
        row(3, "+8617000000009"),
        row(4, "+8613800000001"),
        row(5, "+8613800000003"),
        row(6, "+8613800000004"),
        row(7, "+8613800000004"),
    ]
    decision = decide(rows, Lookups(blocklist), CONTEXT, SeenNumbers())
    assert [(line, reason) for line, _, reason, _ in decision.rejects] == [
        (2, "dnc"),
        (3, "blacklisted"),
        (4, "dnc"),
        (5, "dnc"),
        (7, "duplicate"),
    ]
    assert decision.rejects[0][3] == "dnc, exact +8613800000001, global, reason: 本人要求"
    assert decision.rejects[4][3] == "same number as line 6"
    assert [lead[0] for lead in decision.new] == [6]


def test_duplicates_across_chunks_point_at_the_first_line() -> None:
    seen = SeenNumbers()
    first = decide([row(2, "+8613800000001"), row(3, "+8613800000002")], Lookups(Blocklist()), CONTEXT, seen)
    second = decide(
        [row(9, "+8613800000002"), row(10, "+8613800000005")], Lookups(Blocklist()), CONTEXT, seen
    )
    assert len(first.new) == 2 and not first.rejects
    assert second.rejects == [(9, "13800000002", "duplicate", "same number as line 3")]
    assert [lead[2] for lead in second.new] == ["+8613800000005"]


def test_leads_already_stored_are_duplicates_unless_this_file_made_them_there() -> None:
    existing = {
        "+8613800000001": ExistingLead(list_id=1, source_line=2, import_id=10),  # this file, this line
        "+8613800000002": ExistingLead(list_id=1, source_line=3, import_id=9),  # an earlier file
        "+8613800000003": ExistingLead(list_id=2, source_line=8, import_id=4),  # a sibling list
    }
    rows = [row(2, "+8613800000001"), row(3, "+8613800000002"), row(4, "+8613800000003")]
    decision = decide(rows, Lookups(Blocklist(), existing=existing), CONTEXT, SeenNumbers())
    assert decision.kept == 1 and decision.new == []
    assert [detail for *_, detail in decision.rejects] == [
        "already in list 广州 (line 3 of an earlier import)",
        "already in list 深圳 of the same campaign (line 8)",
    ]


def test_opted_out_numbers_are_imported_and_flagged() -> None:
    lookups = Lookups(Blocklist(), opted_out=frozenset({"+8613800000001"}))
    decision = decide([row(2, "+8613800000001"), row(3, "+8613800000002")], lookups, CONTEXT, SeenNumbers())
    assert [lead[0] for lead in decision.new] == [2, 3] and decision.opted_out == {"+8613800000001"}


def test_seen_numbers_merge_runs_and_remember_lines() -> None:
    seen = SeenNumbers()
    for start in range(0, 1000, 100):
        keys = np.arange(start, start + 100, dtype=np.int64) * 7
        seen.add(keys, keys // 7 + 2)
    assert len(seen) == 1000
    assert seen.lines_of(np.array([0, 7 * 999, 5, 7 * 1000], dtype=np.int64)).tolist() == [2, 1001, -1, -1]
    assert number_key("+8613800138000") == 8613800138000


@given(
    st.lists(st.lists(st.integers(0, 300), max_size=40), max_size=8),
    st.lists(st.integers(0, 300), max_size=60),
)
def test_seen_numbers_answer_as_a_dict_would(chunks: list[list[int]], asked: list[int]) -> None:
    seen, oracle, line = SeenNumbers(), dict[int, int](), 0
    for chunk in chunks:
        new = [key for key in dict.fromkeys(chunk) if key not in oracle]
        lines = list(range(line, line + len(new)))
        line += len(new)
        seen.add(np.array(new, dtype=np.int64), np.array(lines, dtype=np.int64))
        oracle.update(zip(new, lines, strict=True))
    found = seen.lines_of(np.array(asked, dtype=np.int64)).tolist()
    assert found == [oracle.get(key, -1) for key in asked]


def test_formula_cells_are_neutralised() -> None:
    assert [neutralise(text) for text in ("=SUM(A1:A2)", "+1", "-2", "@x", "\tx", "VIP", "")] == [
        "'=SUM(A1:A2)",
        "'+1",
        "'-2",
        "'@x",
        "'\tx",
        "VIP",
        "",
    ]


NUMBERS = [f"+861380000{n:04d}" for n in range(12)]


@given(
    st.lists(st.lists(st.sampled_from(NUMBERS), max_size=30), min_size=1, max_size=4),
    st.sets(st.sampled_from(NUMBERS)),
    st.dictionaries(st.sampled_from(NUMBERS), st.tuples(st.sampled_from([1, 2]), st.integers(1, 40))),
    st.sets(st.sampled_from(NUMBERS)),
    st.booleans(),
)
def test_numbers_no_lookup_concerns_are_decided_as_row_by_row(
    chunks: list[list[str]],
    blocked: set[str],
    stored: dict[str, tuple[int, int]],
    opted_out: set[str],
    by_number: bool,
) -> None:
    """The array path for plain numbers gives what the steps give row by row (`listed=None`)."""
    blocklist = Blocklist([BlockEntry(BlockKind.DNC, number) for number in blocked])
    existing = {number: ExistingLead(list_id, line, 10) for number, (list_id, line) in stored.items()}
    fast, slow = SeenNumbers(), SeenNumbers()
    line = 2
    for chunk in chunks:
        rows = [row(line + offset, number) for offset, number in enumerate(chunk)]
        line += len(chunk)
        if by_number:
            rows.sort(key=lambda candidate: candidate[2])
        numbers = sorted(set(chunk))
        decided = decide(
            rows, Lookups(blocklist, blocklist.listed(numbers), existing, frozenset(opted_out)), CONTEXT, fast
        )
        oracle = decide(rows, Lookups(blocklist, None, existing, frozenset(opted_out)), CONTEXT, slow)
        assert decided == oracle
