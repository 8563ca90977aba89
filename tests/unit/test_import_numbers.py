"""Numbers as people type them: exact E.164, type, place, carrier and time zones (IMP-2, IMP-3)."""

from __future__ import annotations

import pytest

from campaigns.persistence.models.enums import NumberType
from imports.number_facts import Place
from imports.number_parse import DigitParser
from imports.numbers import NumberInfo, NumberNormaliser, NumberProblem, prepare
from imports.reasons import Reason

SHANGHAI = ("Asia/Shanghai",)


@pytest.fixture(scope="module")
def cn() -> NumberNormaliser:
    return NumberNormaliser("CN")


@pytest.mark.parametrize(
    "raw",
    [
        "15060181590",
        "+86-15060181590",
        "+8615060181590",
        "(+86) 15060181590",
        "86 15060181590",
        "008615060181590",
        "150-6018-1590",
        "150 6018 1590",
        " 15060181590\t",
        "１５０６０１８１５９０",
        "＋８６ １５０６０１８１５９０",
        "0150 6018 1590",  # a trunk 0 before a mobile
    ],
)
def test_every_way_of_writing_a_mobile_gives_one_number(cn: NumberNormaliser, raw: str) -> None:
    assert cn.normalise(raw) == NumberInfo(
        e164="+8615060181590",
        extension=None,
        number_type=NumberType.MOBILE,
        place=Place("福建省", "福州市", "Fujian", "Fuzhou", "中国移动", "China Mobile", SHANGHAI),
    )


@pytest.mark.parametrize(
    ("raw", "e164", "region_zh", "city_zh", "region_en", "city_en"),
    [
        ("027 78657975", "+862778657975", "湖北省", "武汉市", "Hubei", "Wuhan"),
        ("(025)57127684", "+862557127684", "江苏省", "南京市", "Jiangsu", "Nanjing"),
        ("(0755)27614365", "+8675527614365", "广东省", "深圳市", "Guangdong", "Shenzhen"),
        ("+86 571 38907866", "+8657138907866", "浙江省", "杭州市", "Zhejiang", "Hangzhou"),
        ("0086 0755 27614365", "+8675527614365", "广东省", "深圳市", "Guangdong", "Shenzhen"),
        ("010-65529988", "+861065529988", "北京市", None, "Beijing", None),
    ],
)
def test_landlines_with_area_codes(
    cn: NumberNormaliser,
    raw: str,
    e164: str,
    region_zh: str,
    city_zh: str | None,
    region_en: str,
    city_en: str | None,
) -> None:
    number = cn.normalise(raw)
    assert isinstance(number, NumberInfo)
    assert number.e164 == e164
    assert number.number_type is NumberType.FIXED_LINE
    assert number.place == Place(region_zh, city_zh, region_en, city_en, None, None, SHANGHAI)


def test_full_width_landline(cn: NumberNormaliser) -> None:
    number = cn.normalise("０２９-５５２８８２００")
    assert isinstance(number, NumberInfo)
    assert (number.e164, number.place.region_zh, number.place.city_en) == (
        "+862955288200",
        "陕西省",
        "XiAn/Xianyang",
    )


@pytest.mark.parametrize(
    ("raw", "extension"),
    [
        ("010-65529988转8001", "8001"),
        ("010 6552 9988 分机 8001", "8001"),
        ("010 6552 9988 ext. 12", "12"),
        ("+86 10 6552 9988 x 7", "7"),
    ],
)
def test_extensions_are_kept_apart(cn: NumberNormaliser, raw: str, extension: str) -> None:
    number = cn.normalise(raw)
    assert isinstance(number, NumberInfo)
    assert (number.e164, number.extension) == ("+861065529988", extension)


@pytest.mark.parametrize(
    ("raw", "e164", "number_type", "region_zh", "region_en", "carrier_en", "zones"),
    [
        ("+81 90-1234-5678", "+819012345678", NumberType.MOBILE, "日本", "Japan", "KDDI", ("Asia/Tokyo",)),
        ("+852 9123 4567", "+85291234567", NumberType.MOBILE, "香港", "Hong Kong", "3", ("Asia/Hong_Kong",)),
        (
            "+1 650 253 0000",
            "+16502530000",
            NumberType.FIXED_LINE_OR_MOBILE,
            "美国",
            "CA",
            None,
            ("America/Los_Angeles",),
        ),
    ],
)
def test_foreign_numbers(
    cn: NumberNormaliser,
    raw: str,
    e164: str,
    number_type: NumberType,
    region_zh: str,
    region_en: str,
    carrier_en: str | None,
    zones: tuple[str, ...],
) -> None:
    number = cn.normalise(raw)
    assert isinstance(number, NumberInfo)
    assert (number.e164, number.number_type, number.place.region_zh) == (e164, number_type, region_zh)
    assert (number.place.region_en, number.place.carrier_en, number.place.time_zones) == (
        region_en,
        carrier_en,
        zones,
    )


@pytest.mark.parametrize(
    ("raw", "number_type"),
    [("4008001234", NumberType.SHARED_COST), ("8008101234", NumberType.TOLL_FREE)],
)
def test_service_numbers_are_classified(cn: NumberNormaliser, raw: str, number_type: NumberType) -> None:
    number = cn.normalise(raw)
    assert isinstance(number, NumberInfo)
    assert number.number_type is number_type
    assert (number.place.region_zh, number.place.region_en) == ("中国", "China")


@pytest.mark.parametrize("raw", ["", "   ", "无", "暂无", "N/A", "n/a", "---", "-", "NULL", "（空）"])
def test_placeholders_are_missing_numbers(cn: NumberNormaliser, raw: str) -> None:
    assert cn.normalise(raw) == NumberProblem(Reason.MISSING_NUMBER, "no number in the cell")


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("abc", "not a phone number: it has no digits"),
        ("+86 138", "not a valid number (too short): +86138"),
        ("138123456789", "not a valid number (no such number range): +86138123456789"),
        ("95588", "not a valid number (a local number: the area code is missing): +8695588"),
        ("+999 1234567", "cannot read a number: unknown or missing country code"),
        ("+44 7700 900123", "not a valid number (no such number range): +447700900123"),
        ("12", "not a valid number (too short): +8612"),
        ("1", "cannot read a number: not a phone number"),
    ],
)
def test_invalid_numbers_say_why(cn: NumberNormaliser, raw: str, detail: str) -> None:
    assert cn.normalise(raw) == NumberProblem(Reason.INVALID_NUMBER, detail)


def test_the_default_region_decides_numbers_without_a_country_code() -> None:
    hong_kong = NumberNormaliser("HK")
    number = hong_kong.normalise("9123 4567")
    assert isinstance(number, NumberInfo)
    assert number.e164 == "+85291234567"


def test_chinese_extension_words_become_what_phonenumbers_reads() -> None:
    assert prepare("010-65529988转8001") == "010-65529988 ext. 8001"
    assert prepare("010 6552 9988 分机号 8001") == "010 6552 9988 ext. 8001"
    assert prepare("13800138000") == "13800138000"


@pytest.mark.parametrize(("plus", "digits"), [(False, "13800138000"), (True, "8613800138000")])
def test_a_mobile_parse_is_decided_by_its_first_digits(plus: bool, digits: str) -> None:
    """China's prefixes take carrier codes (1790x...): one that cannot start the number is ruled
    out after two digits, so every number of the same length and start shares the parse."""
    parsed = DigitParser("CN").parse(plus, digits)
    assert parsed is not None and parsed.window is not None and parsed.window <= 4
    assert parsed.country_code == 86 and digits[parsed.offset :] == "13800138000"


def test_every_spelling_of_a_block_shares_its_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The facts are asked once per block of numbers, whatever the spelling and the number."""
    normaliser = NumberNormaliser("CN")
    asked: list[str] = []
    facts = normaliser._facts.facts

    def counted(code: int, national: str) -> object:
        asked.append(national)
        return facts(code, national)

    monkeypatch.setattr(normaliser._facts, "facts", counted)
    spellings = ["15060181590", "+86 150 6018 1591", "0086-150-6018-1592", "86 15060181593", "(150)60181594"]
    results = [normaliser.normalise(raw) for raw in spellings]
    assert [result.e164 for result in results if isinstance(result, NumberInfo)] == [
        f"+861506018159{n}" for n in range(5)
    ]
    assert asked == ["15060181590"]
