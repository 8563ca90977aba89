"""Opt-out keywords: whole-reply matching after normalisation, and 退订 anywhere in a reply."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ringcast.errors import UserError
from sms.optout import DEFAULT_OPT_OUT_KEYWORDS, normalised, opt_out_keyword


@pytest.mark.parametrize(
    ("reply", "keyword"),
    [
        ("STOP", "STOP"),
        (" stop! ", "STOP"),
        ("Ｓｔｏｐ", "STOP"),
        ("ＴＤ。", "TD"),
        ("t.d.", "TD"),
        ("t", "T"),
        ("【N】", "N"),
        ("unsubscribe\n", "UNSUBSCRIBE"),
        ("退订", "退订"),
        ("退订！", "退订"),
        ("请帮我退订，谢谢", "退订"),
        ("不要再发了 退訂", "退訂"),
    ],
)
def test_opt_out_replies(reply: str, keyword: str) -> None:
    assert opt_out_keyword(reply) == keyword


@pytest.mark.parametrize(
    "reply",
    ["Thanks", "No thanks", "NO", "Not now", "stopped", "TDD", "T1", "好的", "", " ！？", "👍", "STOP it"],
)
def test_other_replies_are_not_opt_outs(reply: str) -> None:
    assert opt_out_keyword(reply) is None


def test_configured_keywords_replace_the_defaults_but_not_the_tuiding_rule() -> None:
    keywords = ("取消", "Ｑｕｉｔ")
    assert opt_out_keyword("quit", keywords) == "Ｑｕｉｔ"
    assert opt_out_keyword("取消。", keywords) == "取消"
    assert opt_out_keyword("STOP", keywords) is None
    assert opt_out_keyword("我要退订", keywords) == "退订"


def test_a_keyword_without_letters_is_refused() -> None:
    with pytest.raises(UserError, match="SMS opt-out keyword '!!' has no letters"):
        opt_out_keyword("hello", ("STOP", "!!"))


_noise = st.text(st.sampled_from(" \t\n\u3000.,!?;:'\"()-~…。，！？；：、（）【】《》「」"), max_size=6)
_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _disguised(keyword: str, mixed_case: list[bool], full_width: list[bool]) -> str:
    chars = []
    for char, upper, wide in zip(keyword, mixed_case, full_width, strict=False):
        char = char.upper() if upper else char.lower()
        chars.append(_FULL_WIDTH.get(char, char) if wide else char)
    return "".join(chars)


@settings(max_examples=300, deadline=None)
@given(
    keyword=st.sampled_from(DEFAULT_OPT_OUT_KEYWORDS),
    before=_noise,
    after=_noise,
    mixed_case=st.lists(st.booleans(), min_size=11, max_size=11),
    full_width=st.lists(st.booleans(), min_size=11, max_size=11),
)
def test_any_keyword_in_any_disguise_matches(
    keyword: str, before: str, after: str, mixed_case: list[bool], full_width: list[bool]
) -> None:
    reply = before + _disguised(keyword, mixed_case, full_width) + after
    assert opt_out_keyword(reply) == keyword


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_texts_that_are_no_keyword_and_lack_tuiding_do_not_match(text: str) -> None:
    reply = normalised(text)
    assume(reply not in {normalised(k) for k in DEFAULT_OPT_OUT_KEYWORDS})
    assume("退订" not in reply and "退訂" not in reply)
    assert opt_out_keyword(text) is None


@settings(max_examples=300, deadline=None)
@given(
    keyword=st.sampled_from([k for k in DEFAULT_OPT_OUT_KEYWORDS if k != "退订"]),
    extra=st.text(st.sampled_from("abcxyz0123好的谢谢"), min_size=1, max_size=5),
    extra_first=st.booleans(),
)
def test_a_keyword_inside_a_longer_word_or_sentence_does_not_match(
    keyword: str, extra: str, extra_first: bool
) -> None:
    reply = extra + " " + keyword if extra_first else keyword + " " + extra
    assert opt_out_keyword(reply) is None
