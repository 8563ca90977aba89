"""Outbound permission classes (DIAL-8): how far a call reaches from the campaign's caller ID.

A number is `local` when it lies in the caller ID's country and geographic area (phonenumbers'
geocoding of both, e.g. "Guangzhou, Guangdong"), `national` elsewhere in that country, and
`international` in any other country. A campaign's `reach` is the widest class it may dial
(`national` by default: international calls are barred unless asked for, the usual defence
against toll fraud); numbers on the outbound whitelist may be dialled whatever their class.

A caller ID in national format is read in the preset's country (`PRESET_REGIONS`); one without a
geographic area (400/800 numbers, mobiles elsewhere) makes no number local. Pure: phonenumbers'
data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

import phonenumbers

from campaigns.persistence.models.enums import CompliancePreset

PRESET_REGIONS = {
    CompliancePreset.CN: "CN",
    CompliancePreset.US: "US",
    CompliancePreset.UK: "GB",
    CompliancePreset.CUSTOM: "CN",  # the market's default
}


class Reach(StrEnum):
    """Outbound permission classes, narrowest first."""

    LOCAL = "local"
    NATIONAL = "national"
    INTERNATIONAL = "international"

    def covers(self, other: Reach) -> bool:
        order = list(Reach)
        return order.index(other) <= order.index(self)


@dataclass(frozen=True, slots=True)
class Home:
    """Where a campaign's calls come from: its caller ID's country and area."""

    country_code: int
    area: str | None  # None: no geographic area, so no number is local

    @classmethod
    @cache  # asked at every dial batch; a campaign has one caller ID
    def of(cls, caller_id: str | None, region: str) -> Home:
        """The home of `caller_id` (national format read in `region`); `region` alone without one."""
        try:
            number = phonenumbers.parse(caller_id or "", region)
        except phonenumbers.NumberParseException:
            return cls(phonenumbers.country_code_for_region(region), None)
        return cls(number.country_code or phonenumbers.country_code_for_region(region), _area(number))

    def reach_of(self, e164: str) -> Reach:
        """The class a call to `e164` belongs to."""
        country_code, area = _place(e164)
        if country_code != self.country_code:
            return Reach.INTERNATIONAL
        if self.area is not None and area == self.area:
            return Reach.LOCAL
        return Reach.NATIONAL


@lru_cache(maxsize=65_536)
def _place(e164: str) -> tuple[int | None, str | None]:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None, None
    return number.country_code, _area(number)


def _area(number: phonenumbers.PhoneNumber) -> str | None:
    from phonenumbers import geocoder  # its data takes a third of a second to load: on first use

    description = geocoder.description_for_number(number, "en")
    return (
        description if description and description != geocoder.country_name_for_number(number, "en") else None
    )
