"""A number a person typed (an agent's click-to-call, an SMS recipient): its E.164 form and time zones.

Pure: phonenumbers' data only. The list import has its own faster path (`imports.numbers`) for
millions of rows; this is for one number at a time, with a one-line error a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

from ringcast.errors import UserError

_NO_SMS = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE})


@dataclass(frozen=True, slots=True)
class TypedNumber:
    e164: str
    zones: tuple[str, ...]  # IANA names; empty when phonenumbers knows none
    valid: bool  # phonenumbers knows the number's range (a digit short or too many: not)
    takes_sms: bool  # not a fixed line, toll-free or premium number (those cannot receive SMS)


def typed_number(number: str, region: str) -> TypedNumber:
    """`number` read as a number of `region` when it has no country code; `UserError` if it is none."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise UserError(f"number {number!r}: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise UserError(f"number {number!r}: not a possible phone number in {region} or abroad")
    zones = tuple(zone for zone in timezone.time_zones_for_number(parsed) if zone != "Etc/Unknown")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    valid = phonenumbers.is_valid_number(parsed)
    return TypedNumber(e164, zones, valid, phonenumbers.number_type(parsed) not in _NO_SMS)
