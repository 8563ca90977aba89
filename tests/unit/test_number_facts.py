"""One phone number's facts (`campaigns.number_facts`): a caller ID, a stored caller, a typed number."""

from __future__ import annotations

import pytest

from campaigns.number_facts import E164_ONLY, NumberFacts, number_facts
from campaigns.persistence.models.enums import NumberType
from imports.number_facts import Place

BEIJING_MOBILE = NumberFacts(
    "+8613800138000",
    NumberType.MOBILE,
    Place("北京市", None, "Beijing", None, "中国移动", "China Mobile", ("Asia/Shanghai",)),
)


@pytest.mark.parametrize(
    "caller_id", ["", "anonymous", "Anonymous", "unknown", "无", "10086", "+86 10 1234", "1"]
)
def test_a_withheld_anonymous_or_invalid_caller_id_has_no_facts(caller_id: str) -> None:
    assert number_facts(caller_id, "CN") is None


@pytest.mark.parametrize("written", ["+8613800138000", "13800138000", "008613800138000", "138 0013 8000"])
def test_a_chinese_mobile_however_written(written: str) -> None:
    assert number_facts(written, "CN") == BEIJING_MOBILE


def test_a_landline_with_its_area_code() -> None:
    facts = number_facts("020-8888-1234", "CN")
    assert facts is not None
    assert (facts.e164, facts.number_type) == ("+862088881234", NumberType.FIXED_LINE)
    assert (facts.place.region_zh, facts.place.city_zh, facts.place.carrier_zh) == ("广东省", "广州市", None)
    assert number_facts("88881234", "CN") is None  # no area code: no such number


def test_a_foreign_number_with_its_country_code_or_in_its_own_default_region() -> None:
    facts = number_facts("+44 20 7946 0018", "CN")
    assert facts is not None
    assert (facts.e164, facts.number_type) == ("+442079460018", NumberType.FIXED_LINE)
    assert (facts.place.region_en, facts.place.time_zones) == ("London", ("Europe/London",))
    assert number_facts("020 7946 0018", "GB") == facts
    assert number_facts("020 7946 0018", "CN") != facts  # the region decides a national number


def test_stored_numbers_are_read_as_e164_only() -> None:
    assert number_facts("+8613800138000", E164_ONLY) == BEIJING_MOBILE
    assert number_facts("13800138000", E164_ONLY) is None  # never guessed in some region
    assert number_facts("008613800138000", E164_ONLY) is None
