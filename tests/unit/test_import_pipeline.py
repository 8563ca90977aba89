"""A chunk's candidates cross the pipe from the stage's worker process by column, and come back whole."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from imports.decisions import Candidate
from imports.pipeline import _packed, _unpacked

candidates = st.lists(
    st.tuples(
        st.integers(1, 10**7),
        st.text(),
        st.text(),
        st.none() | st.text(min_size=1),
        st.sampled_from(["mobile", "fixed_line"]),
        st.integers(0, 99),
        st.text(),
    ),
    max_size=20,
)


@given(candidates)
def test_candidates_come_back_as_they_went(chunk: list[Candidate]) -> None:
    sent = pickle.loads(pickle.dumps(_packed(chunk)))
    assert _unpacked(sent) == chunk


def test_long_texts_are_joined_unless_one_holds_a_nul() -> None:
    row: Candidate = (2, "138 0013 8000", "+8613800138000", None, "mobile", 0, '{"姓名":"张三"}')
    chunk = [row] * 3
    packed = _packed(chunk)
    assert isinstance(packed, tuple) and packed[-1][0] == "\0".join(["138 0013 8000"] * 3)
    with_nul: list[Candidate] = [*chunk, (5, "a\0b", "+8613800138001", None, "mobile", 0, "{}")]
    assert _packed(with_nul) is with_nul
