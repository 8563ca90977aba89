"""The fast path gives exactly what phonenumbers gives, on messy input of every shape.

`NumberNormaliser` (memos, digit parser, automata, prefix caches) against `reference_normalise`
(phonenumbers' parse, validity, type, geocoder, carrier and time zones, row by row). The
normalisers live for the whole module, so later examples hit memos that earlier ones filled,
which is the point: a memo entry must hold for every number it is later used for.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

from imports import number_facts
from imports.digit_automaton import DigitAutomaton, Unsupported
from imports.numbers import NumberNormaliser, reference_normalise

DEFAULT_REGIONS = ("CN", "HK", "US", "GB", "DE", "AR")  # AR: a national-prefix transform rule (fallback)
NORMALISERS = {region: NumberNormaliser(region) for region in DEFAULT_REGIONS}
DESCS = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "uan")
EXAMPLES = sorted(
    (metadata.country_code, desc.example_number)
    for metadata in map(PhoneMetadata.metadata_for_region, sorted(SUPPORTED_REGIONS))
    if metadata is not None
    for desc in (getattr(metadata, name) for name in DESCS)
    if desc is not None and desc.example_number
)
# China weighs more: most of what ringcast imports is Chinese
CHINESE = [example for example in EXAMPLES if example[0] == 86] * 20
SEPARATORS = [" ", " ", "-", "-", ".", "(", ")", "－", "（", "）", "\u3000", "/", "\t", "~", "x"]
FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


@st.composite
def national_numbers(draw: st.DrawFn) -> tuple[int, str]:
    """A (calling code, national number): an example number, often with digits changed or cut."""
    code, number = draw(st.sampled_from(EXAMPLES + CHINESE))
    keep = draw(st.integers(0, len(number)))
    tail = draw(st.text("0123456789", min_size=0, max_size=len(number) - keep + 2))
    return code, number[:keep] + tail if draw(st.booleans()) else number


@st.composite
def messy_numbers(draw: st.DrawFn) -> str:
    """How people type a number: prefixes, separators, brackets, full-width digits, spaces, junk."""
    code, national = draw(national_numbers())
    prefix = draw(
        st.sampled_from(["", "", "0", f"+{code}", f"+{code} ", f"00{code}", f"{code} ", f"(+{code}) "])
    )
    text = prefix + national
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(SEPARATORS)) + text[at:]
    if draw(st.integers(0, 5)) == 0:
        text = text.translate(FULL_WIDTH)
    ending = draw(st.sampled_from(["", "", "", "", " ", "\t", " 转123", " ext. 45", "#", "abc", ";ext=9"]))
    return draw(st.sampled_from(["", "", "", " ", "(", "Tel: "])) + text + ending


ANYTHING = st.text(alphabet="0123456789０１２３４５+＋ -()（）.转分机xX#abc无\t", max_size=24)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region=st.sampled_from(DEFAULT_REGIONS), raw=messy_numbers())
def test_fast_path_equals_phonenumbers_on_messy_numbers(region: str, raw: str) -> None:
    assert NORMALISERS[region].normalise(raw) == reference_normalise(raw, region)


@settings(max_examples=400, deadline=None)
@given(region=st.sampled_from(DEFAULT_REGIONS), raw=ANYTHING)
def test_fast_path_equals_phonenumbers_on_any_text(region: str, raw: str) -> None:
    assert NORMALISERS[region].normalise(raw) == reference_normalise(raw, region)


@settings(max_examples=300, deadline=None)
@given(national=st.text("0123456789", min_size=8, max_size=9))
def test_every_block_of_a_warm_normaliser_stays_exact(national: str) -> None:
    """Many numbers of the same blocks, in several spellings: memo hits must stay exact."""
    normaliser = NORMALISERS["CN"]
    for mobile in (f"13{national}", f"15{national[:-1]}9", f"18{national}"):
        for raw in (mobile, f"+86 {mobile}", f"0086{mobile}", f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"):
            assert normaliser.normalise(raw) == reference_normalise(raw, "CN")


@settings(max_examples=300, deadline=None)
@given(
    head=st.sampled_from(["", "+", "+86", "0086", "86", "0", "010", "021", "0571", "+1", "+852", "+44"]),
    digits=st.lists(st.text("0123456789", min_size=3, max_size=12), min_size=2, max_size=6),
)
def test_one_memo_serves_every_outcome_of_a_sign_and_length(head: str, digits: list[str]) -> None:
    """Strings of one sign and length, valid, invalid or unparsable, share a memo group: each
    entry must hold only for the leading digits that decided it."""
    normaliser = NORMALISERS["CN"]
    width = max(map(len, digits))
    for tail in digits:
        raw = head + tail.rjust(width, "1")
        for spelling in (raw, raw.translate(FULL_WIDTH), f"({raw[:4]}) {raw[4:]}"):
            assert normaliser.normalise(spelling) == reference_normalise(spelling, "CN")


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(sorted(SUPPORTED_REGIONS)), data=st.data())
def test_the_automaton_full_matches_like_re(region: str, data: st.DataObject) -> None:
    metadata = PhoneMetadata.metadata_for_region(region)
    patterns = [
        desc.national_number_pattern
        for desc in (getattr(metadata, name) for name in ("general_desc", *DESCS))
        if desc is not None and desc.national_number_pattern
    ]
    automaton = DigitAutomaton(patterns)
    examples = [e for _, e in EXAMPLES] or ["0"]
    start = data.draw(st.sampled_from(examples))
    digits = start[: data.draw(st.integers(0, len(start)))] + data.draw(st.text("0123456789", max_size=6))
    expected = sum(1 << bit for bit, pattern in enumerate(patterns) if re.fullmatch(pattern, digits))
    assert automaton.accepting(automaton.run(digits)) == expected
    accepting, end = automaton.decide(digits)
    assert accepting == expected and end <= len(digits)


@pytest.mark.parametrize("pattern", [r"^1\d", r"(?=1)\d+", r"(\d)\1", r"\d++"])
def test_the_automaton_refuses_what_it_cannot_translate(pattern: str) -> None:
    with pytest.raises(Unsupported):
        DigitAutomaton([pattern])


@pytest.mark.parametrize("table", ["geo", "carrier", "tz"])
@pytest.mark.parametrize("calling_code", [1, 7, 44, 86, 852, 886, 998])
def test_a_calling_codes_prefix_keys_are_every_key_that_can_start_its_numbers(
    table: str, calling_code: int
) -> None:
    """Those starting with the code, and a shorter one the code starts with (calling codes are
    prefix-free; a key of one or two digits may be shared by several)."""
    code = str(calling_code)
    every_key = number_facts._TABLES[table]
    can_start = sorted(
        key for key in every_key if key.startswith(code) or (len(key) < 3 and code.startswith(key))
    )
    assert number_facts._keys_of(table, calling_code) == can_start
