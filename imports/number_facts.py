"""What a parsed number is: validity, type, region/city (Chinese and English), carrier, time zones.

`describe()` asks phonenumbers (geocoder, carrier, timezone) directly: the reference, and the
path for anything unusual. `FactFinder` gives the same answers for a (country code, national
number) pair in about a microsecond, from three facts about phonenumbers' own code:

- validity, type, the region of a shared calling code and the country name the geocoder falls
  back to depend only on the number's length and on which metadata patterns match it; a
  `DigitAutomaton` state holds the latter, so phonenumbers is asked once per (state, length)
  and the answer reused;
- geocoder, carrier and time-zone texts depend only on those and on the longest key of the
  prefix table (`GEOCODE_DATA`, ...) that starts the number; that key is found with a few dict
  probes (only the key lengths present for the country are tried) and its texts are computed
  once, with phonenumbers' `_find_lang` and its shorter-prefix fallback;
- country-level time zones depend on the calling code alone.

So the facts of a number hold for every number of the same length that starts with the same
digits, as far as the automaton state and the keys need them (`FactFinder.facts` says how
many): once no longer key of a table the number is looked up in starts with its first digits
(`_extended`, a binary search in the country's sorted keys), those digits decide the key. A
mobile number's block is its first seven digits; a landline's is its area code and the digits
its type needs, so every landline of an area after the first is one dict probe.

Calling codes whose geocoding strips a mobile token (+54) return None: the caller falls back to
`describe()`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType
from phonenumbers import carrier as pn_carrier
from phonenumbers import geocoder as pn_geocoder
from phonenumbers import timezone as pn_timezone
from phonenumbers.carrierdata import CARRIER_DATA
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    ValidationResult,
    _set_italian_leading_zeros_for_phone_number,
    country_mobile_token,
    is_number_type_geographical,
    is_possible_number_with_reason,
    is_valid_number,
    number_type,
)
from phonenumbers.prefix import _find_lang
from phonenumbers.tzdata import TIMEZONE_DATA

from campaigns.persistence.models.enums import NumberType
from imports.digit_automaton import DigitAutomaton, Unsupported

LANGUAGES = ("zh", "en")
UNKNOWN_TIME_ZONE = "Etc/Unknown"
_PATTERN_FIELDS = (  # every description phonenumbers' _number_type_helper looks at
    "general_desc",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_CARRIER_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER)
_NUMBER_TYPES = {
    getattr(PhoneNumberType, member.name): member
    for member in NumberType
    if hasattr(PhoneNumberType, member.name)
}
_WHY_INVALID = {
    ValidationResult.IS_POSSIBLE: "no such number range",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number: the area code is missing",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.TOO_LONG: "too long",
}
_ZH_PROVINCE = re.compile(r"(.+?(?:省|自治区|特别行政区))(.+)")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a number belongs and who runs it (号码归属地), as phonenumbers' prefix data says."""

    region_zh: str | None
    city_zh: str | None
    region_en: str | None
    city_en: str | None
    carrier_zh: str | None
    carrier_en: str | None
    time_zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Invalid:
    """A number that parsed but is not valid; `why` says how (too short, no such range, ...)."""

    why: str


Facts = tuple[NumberType, Place]


def phone_number(country_code: int, national: str) -> PhoneNumber:
    """The `PhoneNumber` phonenumbers.parse builds for these digits (leading zeros included)."""
    numobj = PhoneNumber(country_code=country_code, national_number=int(national))
    _set_italian_leading_zeros_for_phone_number(national, numobj)
    return numobj


def describe(numobj: PhoneNumber) -> Facts | Invalid:
    """The facts, straight from phonenumbers (the reference the fast path must equal)."""
    if not is_valid_number(numobj):
        return Invalid(_WHY_INVALID[is_possible_number_with_reason(numobj)])
    return _NUMBER_TYPES[number_type(numobj)], make_place(
        pn_geocoder.description_for_number(numobj, "zh"),
        pn_geocoder.description_for_number(numobj, "en"),
        pn_carrier.name_for_number(numobj, "zh"),
        pn_carrier.name_for_number(numobj, "en"),
        pn_timezone.time_zones_for_number(numobj),
    )


@cache
def make_place(geo_zh: str, geo_en: str, carrier_zh: str, carrier_en: str, zones: tuple[str, ...]) -> Place:
    """A `Place` from phonenumbers' texts; one shared object per distinct set of texts."""
    region_zh, city_zh = _split_zh(geo_zh)
    region_en, city_en = _split_en(geo_en)
    return Place(region_zh, city_zh, region_en, city_en, carrier_zh or None, carrier_en or None, tuple(zones))


def _split_zh(text: str) -> tuple[str | None, str | None]:
    """'江苏省连云港市' -> ('江苏省', '连云港市'); '北京市' -> ('北京市', None)."""
    if ", " in text:
        return _split_en(text)
    match = _ZH_PROVINCE.fullmatch(text)
    return (match[1], match[2]) if match else (text or None, None)


def _split_en(text: str) -> tuple[str | None, str | None]:
    """'Lianyungang, Jiangsu' -> ('Jiangsu', 'Lianyungang'); 'Beijing' -> ('Beijing', None)."""
    city, _, region = text.rpartition(", ")
    return region or None, city or None


_TABLES: Mapping[str, Mapping[str, object]] = {
    "geo": GEOCODE_DATA,
    "carrier": CARRIER_DATA,
    "tz": TIMEZONE_DATA,
}


@cache
def _sorted_keys(table: str) -> list[str]:
    """Every key of a prefix table, sorted (a few milliseconds: phonenumbers lists them in order)."""
    return sorted(_TABLES[table])


@cache
def _keys_of(table: str, country_code: int) -> list[str]:
    """The keys of a prefix table that can start a number of this country, sorted: those that
    start with its calling code (a slice of the sorted keys), after any shorter key that starts
    the code (calling codes are prefix-free, but a key of one or two digits may be shared)."""
    code, data, keys = str(country_code), _TABLES[table], _sorted_keys(table)
    shorter = [code[:length] for length in (1, 2) if length < len(code) and code[:length] in data]
    return shorter + keys[bisect_left(keys, code) : bisect_left(keys, code + ":")]  # ':' follows '9'


def _key_lengths(table: str, country_code: int) -> tuple[int, ...]:
    """Lengths of the keys in a prefix table that can start a number of this country, longest first."""
    return tuple(sorted({len(key) for key in _keys_of(table, country_code)}, reverse=True))


def _extended(table: str, country_code: int, digits: str) -> bool:
    """Whether a key of the prefix table is longer than `digits` (which start with the calling
    code) and starts with them: a number starting with `digits` may then match a longer key."""
    keys = _keys_of(table, country_code)
    at = bisect_right(keys, digits)  # the first key after `digits`: one that extends it, if any
    return at < len(keys) and keys[at].startswith(digits)


def _longest_key(data: Mapping[str, object], lengths: tuple[int, ...], digits: str) -> str | None:
    size = len(digits)
    for length in lengths:
        if length <= size:
            prefix = digits[:length]
            if prefix in data:
                return prefix
    return None


def _prefix_text(data: Mapping[str, dict[str, str]], key: str | None, lang: str) -> str:
    """phonenumbers' `_prefix_description_for_number` once the longest matching key is known."""
    if key is None:
        return ""
    names = data[key]
    if lang in names:  # what `_find_lang` returns first for a bare language with no script or region
        return names[lang]
    for length in range(len(key), 0, -1):
        found = data.get(key[:length])
        if found is not None:
            name = _find_lang(found, lang, None, None)
            if name is not None:
                return str(name)
    return ""


@cache
def _texts(table: str, key: str | None) -> tuple[str, ...]:
    """The texts of one prefix-table key in every language of `LANGUAGES`."""
    data: Any = _TABLES[table]
    return tuple(_prefix_text(data, key, lang) for lang in LANGUAGES)


@dataclass(frozen=True, slots=True)
class _Kind:
    """What the automaton state and length of a valid number fix: its type, the tables that apply
    and the country name the geocoder falls back to (which, for a shared calling code, depends on
    the region the number belongs to)."""

    number_type: NumberType
    geographical: bool
    has_carrier: bool
    country_names: tuple[str, ...]  # per language of LANGUAGES
    heads: dict[str, tuple[str | None, str | None]]  # number start -> (carrier key, time-zone key)


class _Country:
    """One calling code's compiled metadata (all its regions) and the answers found so far.

    For a calling code shared by several regions (+1, +7, +44, ...), phonenumbers picks the
    region by each region's leading-digits pattern (a prefix match: here the pattern followed by
    any digits) or, without one, by whether the region's patterns accept the number; both are
    decided by the automaton state too, so one automaton over every region's patterns serves.
    """

    def __init__(self, country_code: int) -> None:
        if country_mobile_token(country_code):
            raise Unsupported(f"+{country_code} geocodes without its mobile token")
        patterns: list[str] = []
        for region in COUNTRY_CODE_TO_REGION_CODE[country_code]:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
            if metadata is None:
                raise Unsupported(f"+{country_code} has no metadata for {region}")
            patterns += [
                desc.national_number_pattern
                for desc in (getattr(metadata, field) for field in _PATTERN_FIELDS)
                if desc is not None and desc.national_number_pattern
            ]
            if metadata.leading_digits:
                patterns.append(f"(?:{metadata.leading_digits})[0-9]*")
        self.code = country_code
        self.prefix = str(country_code)
        self.automaton = DigitAutomaton(patterns)
        self.kinds: dict[tuple[int, int], _Kind | Invalid] = {}
        self.places: dict[tuple[Any, ...], Place] = {}
        self.geo_lengths = _key_lengths("geo", country_code)
        self.carrier_lengths = _key_lengths("carrier", country_code)
        self.tz_lengths = _key_lengths("tz", country_code)
        self.head_length = max(self.carrier_lengths[:1] + self.tz_lengths[:1], default=0)
        # the national digits the prefix tables can look at
        self.span = max(
            max(self.geo_lengths[:1] + self.carrier_lengths[:1] + self.tz_lengths[:1], default=0)
            - len(self.prefix),
            0,
        )
        sample = PhoneNumber(country_code=country_code, national_number=0)
        self.country_zones = tuple(pn_timezone._country_level_time_zones_for_number(sample))

    def kind(self, national: str) -> tuple[_Kind | Invalid, int | None]:
        """Type and validity, asked of phonenumbers once per (automaton state, length); and how
        many leading digits decide them and the place (None: all of them).

        When the automaton state after the first `span` digits moves the same way whatever the
        remaining digits are, the outcome is decided by those first digits and the length.
        """
        size, span = len(national), self.span
        if size <= span:
            state, decided = self.automaton.run(national), size
        else:
            head = self.automaton.run(national[:span])
            settled = self.automaton.settled(head, size - span)
            if settled is None:
                state, decided = self.automaton.run(national[span:], head), None
            else:
                state, decided = settled, span
        key = (state, size)
        found = self.kinds.get(key)
        if found is None:
            numobj = phone_number(self.code, national)
            if is_valid_number(numobj):
                ptype = number_type(numobj)
                found = _Kind(
                    _NUMBER_TYPES[ptype],
                    is_number_type_geographical(ptype, self.code),
                    ptype in _CARRIER_TYPES,
                    tuple(pn_geocoder.country_name_for_number(numobj, lang) for lang in LANGUAGES),
                    {},
                )
            else:
                found = Invalid(_WHY_INVALID[is_possible_number_with_reason(numobj)])
            self.kinds[key] = found
        return found, decided

    def narrower(self, national: str, floor: int, decided: int) -> int:
        """The fewest leading digits, at least `floor` and at most `decided` (which `kind` found
        enough), after which the automaton's state is settled for the rest of the number."""
        automaton, size = self.automaton, len(national)
        state = automaton.run(national[:floor])
        for position in range(floor, decided):
            if automaton.settled(state, size - position) is not None:
                return position
            state = automaton.run(national[position], state)
        return decided

    def place(self, kind: _Kind, national: str, decided: int | None) -> tuple[Place, int | None]:
        """The place of a valid number: a few probes of the prefix tables, then a memo; and how
        many leading digits decide the prefix-table keys found, if fewer than `decided` (else
        `decided`): no longer key of a table the place is read from starts with them."""
        digits = self.prefix + national
        head = kind.heads.get(digits[: self.head_length])
        if head is None:
            head = kind.heads[digits[: self.head_length]] = (
                _longest_key(CARRIER_DATA, self.carrier_lengths, digits) if kind.has_carrier else None,
                _longest_key(TIMEZONE_DATA, self.tz_lengths, digits) if kind.geographical else None,
            )
        area = _longest_key(GEOCODE_DATA, self.geo_lengths, digits) if kind.geographical else None
        areas = _texts("geo", area) if kind.geographical else None
        key = (kind.country_names, head, areas)
        found = self.places.get(key)
        if found is None:
            found = self.places[key] = self._place(kind, areas, *head)
        if decided is None:
            return found, None
        return found, self._keys_window(kind, digits, (area, *head), decided)

    def _keys_window(
        self, kind: _Kind, digits: str, keys: tuple[str | None, str | None, str | None], decided: int
    ) -> int:
        """The national digits that decide the (geo, carrier, time-zone) keys found, or `decided`."""
        prefix, longest = len(self.prefix), 0
        for key in keys:
            if key is not None and len(key) > longest:
                longest = len(key)
        window = max(longest - prefix, 0)
        if window >= decided:  # the commonest case: a mobile number's block
            return decided
        tables = [("geo", kind.geographical), ("carrier", kind.has_carrier), ("tz", kind.geographical)]
        for table, used in tables:
            while used and window < decided and _extended(table, self.code, digits[: prefix + window]):
                window += 1
        return window

    def _place(
        self, kind: _Kind, areas: tuple[str, ...] | None, operator: str | None, zone: str | None
    ) -> Place:
        """`areas` are the geocoder's texts (None: the type is not geographical)."""
        texts = [area or name for area, name in zip(areas or ("", ""), kind.country_names, strict=True)]
        carriers = _texts("carrier", operator)
        if areas is None:
            zones = self.country_zones
        else:
            zones = tuple(TIMEZONE_DATA[zone]) if zone is not None else (UNKNOWN_TIME_ZONE,)
        return make_place(texts[0], texts[1], carriers[0], carriers[1], zones)


class FactFinder:
    """`describe()` for (country code, national number), fast; None where it must not guess."""

    def __init__(self) -> None:
        self._countries: dict[int, _Country | None] = {}

    def facts(self, country_code: int, national: str) -> tuple[Facts | Invalid | None, int | None]:
        """The facts (None: ask `describe()`), and how many leading digits of `national` decide
        them for any number of the same length (None: all of them)."""
        if country_code not in self._countries:
            self._countries[country_code] = self._country(country_code)
        country = self._countries[country_code]
        if country is None:
            return None, None
        kind, decided = country.kind(national)
        if isinstance(kind, Invalid):
            if decided is not None:
                decided = country.narrower(national, 0, decided)
            return kind, decided
        place, window = country.place(kind, national, decided)
        if decided is not None and window is not None and window < decided:
            decided = country.narrower(national, window, decided)  # e.g. a landline: its area code
        return (kind.number_type, place), decided

    @staticmethod
    def _country(country_code: int) -> _Country | None:
        if country_code not in COUNTRY_CODE_TO_REGION_CODE:
            return None
        try:
            return _Country(country_code)
        except Unsupported:
            return None
