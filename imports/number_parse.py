"""`phonenumbers.parse`, for a number already reduced to its digits (and whether a `+` led them).

`phonenumbers.parse(text, region)` spends most of its time finding the number inside free text
(extraction, viability, extensions, RFC 3966, letters). `imports.numbers` only calls this
module for text that is plain digits and separators, where that work changes nothing but the
separators; what is left is the country-code and national-prefix logic, done here step by step
as `phonenumbers.parse` and `_maybe_extract_country_code` do it, with the region's metadata
patterns compiled once. Where a region's national prefix would be rewritten by its transform
rule (its last group matched), the parse is not made here (`None`: the caller asks
phonenumbers); where it is stripped or absent, the rule changes nothing and the parse is made.

Every parse also reports its `window`: how many leading digits decided it. Prefix patterns
(international and national prefixes) look at most at their maximum width past where they
start; a prefix that does not start the number is settled sooner, where its `DigitAutomaton`
(the prefix followed by any digits) dies: after "13" for China's, whose prefixes also take
carrier codes (1790x, 1790x00), so that a mobile number's parse is decided by its first few
digits, not by seven. A full match of the region's general pattern is run on its automaton, which says
after how many digits the answer was settled for the number's length (None, the whole number,
only if a pattern cannot be made an automaton). Since the outcome is a function of those digits
and of the length (which the length tests use), any number of the same length and sign that
agrees on the window has the same outcome: `imports.numbers` memoises on that. The national
number is always a suffix of the digits, so it is returned as an offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from phonenumbers import NumberParseException, PhoneMetadata
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    ValidationResult,
    _test_number_length,
    region_code_for_country_code,
)

from imports.digit_automaton import DigitAutomaton, Unsupported

MIN_NSN = 2  # phonenumbers' _MIN_LENGTH_FOR_NSN
MAX_NSN = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
MAX_DIGITS = 64  # longer digit strings are left to phonenumbers
_KEEP_UNSTRIPPED = (
    ValidationResult.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ValidationResult.INVALID_LENGTH,
)
_parser: Any = getattr(re, "_parser")  # noqa: B009  (the stdlib's own regex parser)


class ParseError(Exception):
    """What `phonenumbers.parse` would raise: `error_type` is a `NumberParseException` code."""

    def __init__(self, error_type: int, window: int | None) -> None:
        super().__init__(error_type)
        self.error_type = error_type
        self.window = window


class _Transformed(Exception):
    """A national-prefix transform rule would rewrite the number: phonenumbers must parse it."""


class Parsed(NamedTuple):
    """A parse: the calling code, where the national number starts, and the digits looked at."""

    country_code: int
    offset: int
    window: int | None  # None: the whole number was looked at


class _Trace:
    """The window of one parse."""

    def __init__(self) -> None:
        self.window: int | None = 0

    def saw(self, end: int) -> None:
        if self.window is not None and end > self.window:
            self.window = end

    def saw_all(self) -> None:
        self.window = None

    def fail(self, error_type: int) -> ParseError:
        return ParseError(error_type, self.window)


def _width(pattern: str) -> int:
    """The most characters a match of `pattern` can span (capped beyond any number's length)."""
    return min(int(_parser.parse(pattern).getwidth()[1]), MAX_DIGITS + 1)


@dataclass(frozen=True)
class _Rules:
    """One region's parsing metadata, compiled."""

    metadata: PhoneMetadata
    country_code: int
    idd: re.Pattern[str] | None
    idd_width: int
    idd_automaton: DigitAutomaton | None  # the prefix, then any digits
    national_prefix: re.Pattern[str] | None
    national_prefix_width: int
    national_prefix_automaton: DigitAutomaton | None  # the prefix, then any digits
    general: re.Pattern[str] | None
    general_automaton: DigitAutomaton | None
    length_results: tuple[int, ...]  # _test_number_length by length: it only looks at the length
    transforms: bool  # the region has a national-prefix transform rule

    @classmethod
    def of(cls, metadata: PhoneMetadata) -> _Rules | None:
        idd, prefix = metadata.international_prefix, metadata.national_prefix_for_parsing
        general = metadata.general_desc.national_number_pattern if metadata.general_desc else None
        return cls(
            metadata=metadata,
            country_code=metadata.country_code or 0,
            idd=re.compile(idd) if idd else None,
            idd_width=_width(idd) if idd else 0,
            idd_automaton=_prefix_automaton(idd),
            national_prefix=re.compile(prefix) if prefix else None,
            national_prefix_width=_width(prefix) if prefix else 0,
            national_prefix_automaton=_prefix_automaton(prefix),
            general=re.compile(general) if general else None,
            general_automaton=_automaton(general),
            length_results=tuple(_test_number_length("0" * n, metadata) for n in range(MAX_DIGITS + 1)),
            transforms=bool(metadata.national_prefix_transform_rule),
        )

    def viable(self, digits: str, start: int, trace: _Trace) -> bool:
        """phonenumbers' `_match_national_number(digits[start:], general_desc, False)`.

        The general pattern's automaton says how far it had to read before the answer was
        settled; that is what the window grows to.
        """
        if self.general is None:
            return False
        if self.general_automaton is None:  # a pattern the automaton cannot take: ask `re`
            trace.saw_all()
            return self.general.fullmatch(digits, start) is not None
        accepting, end = self.general_automaton.decide(digits, start)
        trace.saw(end)
        return bool(accepting)

    def strip_national_prefix(self, digits: str, offset: int, trace: _Trace) -> int:
        """phonenumbers' `_maybe_strip_national_prefix_carrier_code` on `digits[offset:]`: the
        offset of the number it leaves. Raises `_Transformed` where the region's transform rule
        would rewrite the number (phonenumbers applies it when the prefix's last group matched)."""
        if offset >= len(digits) or self.national_prefix is None:
            return offset
        if not _may_start(self.national_prefix_automaton, digits, offset, trace):
            return offset
        trace.saw(offset + self.national_prefix_width)
        match = self.national_prefix.match(digits, offset)
        if match is None:
            return offset
        if self.transforms and (not match.re.groups or match.group(match.re.groups) is not None):
            raise _Transformed
        if self.viable(digits, offset, trace) and not self.viable(digits, match.end(), trace):
            return offset
        return match.end()


def _prefix_automaton(pattern: str | None) -> DigitAutomaton | None:
    """An automaton that accepts the digit strings `pattern` matches the start of."""
    return _automaton(f"(?:{pattern})[0-9]*" if pattern else None)


def _may_start(prefix: DigitAutomaton | None, digits: str, offset: int, trace: _Trace) -> bool:
    """False when the prefix cannot match at `offset` (seen as soon as its automaton dies), so
    that its pattern need not be run; True when it may (the caller runs it)."""
    if prefix is None:
        return True
    starts, end = prefix.decide(digits, offset)
    if not starts:
        trace.saw(end)
    return bool(starts)


def _automaton(pattern: str | None) -> DigitAutomaton | None:
    if not pattern:
        return None
    try:
        return DigitAutomaton([pattern])
    except Unsupported:
        return None


@cache
def _rules_for_region(region: str) -> _Rules | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    return _Rules.of(metadata) if metadata is not None else None


@cache
def _rules_for_country_code(country_code: int) -> _Rules | None:
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    return _Rules.of(metadata) if metadata is not None else None


def _split_country_code(digits: str, offset: int, trace: _Trace) -> tuple[int, int]:
    """phonenumbers' `_extract_country_code` on `digits[offset:]`: (code, offset after it) or (0, offset)."""
    trace.saw(min(offset + 3, len(digits)))
    if offset >= len(digits) or digits[offset] == "0":
        return 0, offset
    for length in range(1, min(len(digits) - offset, 3) + 1):
        code = int(digits[offset : offset + length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code, offset + length
    return 0, offset


class DigitParser:
    """Parses digit strings for one default region; `parse()` is `phonenumbers.parse` for them."""

    def __init__(self, region: str) -> None:
        self.region = region.upper()
        self._default = _rules_for_region(self.region)
        # the calling code whose numbers phonenumbers parses with this region's own metadata
        self._home = self._default.country_code if self._default is not None else 0
        if region_code_for_country_code(self._home) != self.region:  # e.g. CA: +1 numbers use US rules
            self._home = -1

    def parse(self, plus: bool, digits: str) -> Parsed | None:
        """The parse, or None when phonenumbers must decide.

        `digits` are ASCII, at least three of them (so phonenumbers finds them viable). Raises
        `ParseError` where phonenumbers raises `NumberParseException`.
        """
        try:
            return self._parse(plus, digits)
        except _Transformed:
            return None

    def _parse(self, plus: bool, digits: str) -> Parsed | None:
        default = self._default
        if default is None or len(digits) > MAX_DIGITS:
            return None
        trace = _Trace()
        if plus:
            if len(digits) <= MIN_NSN:
                raise trace.fail(NumberParseException.TOO_SHORT_AFTER_IDD)
            country_code, offset = _split_country_code(digits, 0, trace)
            if country_code == 0:  # phonenumbers retries without the plus sign
                country_code, offset = self._from_default_region(default, digits, trace)
                if country_code == 0:
                    raise trace.fail(NumberParseException.INVALID_COUNTRY_CODE)
        else:
            country_code, offset = self._from_default_region(default, digits, trace)
        if country_code == 0:
            country_code, offset, rules = default.country_code, 0, default
        elif country_code == self._home:
            rules = default
        else:
            found = _rules_for_country_code(country_code)
            if found is None:
                return None
            rules = found
        if len(digits) - offset < MIN_NSN:
            raise trace.fail(NumberParseException.TOO_SHORT_NSN)
        stripped = rules.strip_national_prefix(digits, offset, trace)
        if rules.length_results[len(digits) - stripped] not in _KEEP_UNSTRIPPED:
            offset = stripped
        if len(digits) - offset < MIN_NSN:
            raise trace.fail(NumberParseException.TOO_SHORT_NSN)
        if len(digits) - offset > MAX_NSN:
            raise trace.fail(NumberParseException.TOO_LONG)
        return Parsed(country_code, offset, trace.window)

    @staticmethod
    def _from_default_region(default: _Rules, digits: str, trace: _Trace) -> tuple[int, int]:
        """`_maybe_extract_country_code` for a number without a plus sign: IDD, else the region's code."""
        if default.idd is not None and _may_start(default.idd_automaton, digits, 0, trace):
            trace.saw(default.idd_width)
            match = default.idd.match(digits)
            if match is not None:
                end = match.end()
                trace.saw(end + 1)
                if not digits.startswith("0", end):
                    if len(digits) - end <= MIN_NSN:
                        raise trace.fail(NumberParseException.TOO_SHORT_AFTER_IDD)
                    country_code, offset = _split_country_code(digits, end, trace)
                    if country_code == 0:
                        raise trace.fail(NumberParseException.INVALID_COUNTRY_CODE)
                    return country_code, offset
        code = str(default.country_code)
        trace.saw(len(code))
        if digits.startswith(code):
            potential = default.strip_national_prefix(digits, len(code), trace)
            # the length test first: when it decides, the full-number pattern tests are not needed
            if default.length_results[len(digits)] == ValidationResult.TOO_LONG or (
                not default.viable(digits, 0, trace) and default.viable(digits, potential, trace)
            ):
                return default.country_code, potential
        return 0, 0
