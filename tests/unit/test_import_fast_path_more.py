"""The fast path equals phonenumbers where it got wider: transform-rule regions, landline blocks.

`imports.number_parse` parses the numbers of regions with a national-prefix transform rule (JP,
AR, BR, ...) wherever the rule does not apply, and `imports.number_facts` memoises a landline
by its area code rather than by seven digits. Both are checked here against
`reference_normalise`, with normalisers that live for the whole module (so later examples hit
the memos earlier ones filled: a memo entry must hold for every number it is later used for).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

from imports.numbers import NumberNormaliser, reference_normalise

TRANSFORMING = sorted(
    region
    for region in SUPPORTED_REGIONS
    if (metadata := PhoneMetadata.metadata_for_region(region)) is not None
    and metadata.national_prefix_transform_rule
)
DEFAULT_REGIONS = ("CN", "JP", "AR", "BR", "GG", "SM", "MG", "US")
NORMALISERS = {region: NumberNormaliser(region) for region in DEFAULT_REGIONS}
EXAMPLES = sorted(
    {
        (metadata.country_code, desc.example_number)
        for metadata in map(PhoneMetadata.metadata_for_region, TRANSFORMING)
        if metadata is not None
        for desc in (metadata.fixed_line, metadata.mobile, metadata.toll_free, metadata.voip)
        if desc is not None and desc.example_number
    }
)
# Chinese area codes (the geocoder's keys for fixed lines), e.g. "10", "571", "7311"
AREAS = sorted({key[2:] for key in GEOCODE_DATA if key.startswith("86") and not key.startswith("861")})


@settings(max_examples=500, deadline=None)
@given(
    region=st.sampled_from(DEFAULT_REGIONS),
    example=st.sampled_from(EXAMPLES),
    head=st.sampled_from(
        ["", "0", "00", "+{code}", "+{code} 0", "00{code}", "{code} ", "(+{code}) ", "010{code}"]
    ),
    cut=st.integers(0, 12),
    tail=st.text("0123456789", max_size=4),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_transform_rule_regions(
    region: str, example: tuple[int, str], head: str, cut: int, tail: str, separator: str
) -> None:
    code, national = example
    number = national[: len(national) - cut % 3] + tail if cut > 8 else national
    raw = head.format(code=code) + separator + number
    assert NORMALISERS[region].normalise(raw) == reference_normalise(raw, region)


@settings(max_examples=500, deadline=None)
@given(
    area=st.sampled_from(AREAS),
    local=st.text("0123456789", min_size=4, max_size=10),
    head=st.sampled_from(["0", "0", "+86 ", "0086", "86", "+860", ""]),
)
def test_landlines_of_every_area(area: str, local: str, head: str) -> None:
    raw = head + area + local
    assert NORMALISERS["CN"].normalise(raw) == reference_normalise(raw, "CN")
