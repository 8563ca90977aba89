"""How many SMS parts a text takes, and in which encoding (pure).

A text in the GSM 03.38 alphabet is sent 7-bit: 160 characters in one message, 153 per part when
split (the extension characters such as `€ [ ] { }` count twice). Anything else (Chinese text) is
sent UCS-2: 70 characters in one message, 67 per part; characters outside the Basic Multilingual
Plane (emoji) take two UCS-2 units.
"""

from __future__ import annotations

import math

from campaigns.persistence.models.enums import SmsEncoding

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_SINGLE = {SmsEncoding.GSM7: 160, SmsEncoding.UCS2: 70}
_PART = {SmsEncoding.GSM7: 153, SmsEncoding.UCS2: 67}


def encoding_of(text: str) -> SmsEncoding:
    return SmsEncoding.GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else SmsEncoding.UCS2


def units(text: str, encoding: SmsEncoding) -> int:
    """The text's length in the encoding's units (septets, or UTF-16 code units)."""
    if encoding is SmsEncoding.GSM7:
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> tuple[SmsEncoding, int]:
    """The encoding `text` is sent in and how many message parts it takes (at least one)."""
    encoding = encoding_of(text)
    length = units(text, encoding)
    if length <= _SINGLE[encoding]:
        return encoding, 1
    return encoding, math.ceil(length / _PART[encoding])
