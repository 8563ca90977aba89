"""SMS parts and encodings: GSM 7-bit against UCS-2, single messages against split ones."""

from __future__ import annotations

from campaigns.persistence.models.enums import SmsEncoding
from sms.segments import segments


def test_plain_latin_text_is_seven_bit_with_160_in_one_and_153_per_part() -> None:
    assert segments("a" * 160) == (SmsEncoding.GSM7, 1)
    assert segments("a" * 161) == (SmsEncoding.GSM7, 2)
    assert segments("a" * 306) == (SmsEncoding.GSM7, 2)
    assert segments("a" * 307) == (SmsEncoding.GSM7, 3)


def test_extension_characters_count_twice() -> None:
    assert segments("€" * 80) == (SmsEncoding.GSM7, 1)
    assert segments("€" * 81) == (SmsEncoding.GSM7, 2)


def test_chinese_text_is_ucs2_with_70_in_one_and_67_per_part() -> None:
    assert segments("退" * 70) == (SmsEncoding.UCS2, 1)
    assert segments("退" * 71) == (SmsEncoding.UCS2, 2)
    assert segments("退" * 134) == (SmsEncoding.UCS2, 2)
    assert segments("😀" * 35) == (SmsEncoding.UCS2, 1)  # two UTF-16 units each
    assert segments("😀" * 36) == (SmsEncoding.UCS2, 2)
