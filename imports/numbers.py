"""Phone numbers as people type them in, E.164 and what the number is out (IMP-2, IMP-3).

`reference_normalise(raw, region)` is the plain way: `phonenumbers.parse`, then validity, type,
geocoder (Chinese and English), carrier and time zones, one call each. `NumberNormaliser` gives
exactly the same result, about ten times faster:

1. text that is only digits (ASCII or full-width), spaces, dashes, dots and brackets, with an
   optional leading `+`, at most 100 characters and at least three digits, is reduced to
   (plus?, digits): for such text phonenumbers' extraction, viability and extension steps keep
   every digit and drop every separator, so `imports.number_parse` parses the digits instead;
2. the parsed number's validity, type, region, carrier and time zones come from
   `imports.number_facts`, which asks phonenumbers once per automaton state or prefix key;
3. both say how many leading digits decided their answer, and the answers are memoised under
   those digits (see `NumberNormaliser`), so the next number of the same block costs two dict
   probes, however it is spelled.

Anything else (letters, extensions, other scripts' digits, national-prefix transform rules...)
goes to the reference path, memoised by text. Both paths first turn the Chinese extension words
(转, 分机) into " ext. ", which phonenumbers understands, and tell an empty cell or a placeholder
(无, N/A, ---) apart from a wrong number. `tests/unit/test_import_equivalence.py` checks with
hypothesis that the fast path equals the reference on messy input of every shape.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import NumberParseException

from campaigns.persistence.models.enums import NumberType
from imports.number_facts import FactFinder, Facts, Invalid, Place, describe, phone_number
from imports.number_parse import DigitParser, ParseError
from imports.reasons import Reason

MEMO_SIZE = 500_000  # entries per memo (a few hundred bytes each); a memo is emptied when full
_MAX_FAST_TEXT = 100
_EXTENSION_WORD = re.compile(r"\s*(?:转|分机号?|分機號?)\s*")
_DIGIT = re.compile(r"\d")
_FILLER = " \t\r\n\u3000\u00a0-－_—–.·。,，/\\|()（）[]【】*#'\"?？"
_PLACEHOLDERS = frozenset(
    {"", "无", "暂无", "没有", "空", "未知", "不详", "na", "n/a", "null", "none", "nil", "nan", "unknown"}
)
_EDGE_SPACE = " \t\r\n\u3000\u00a0"
_FIRST_DIGITS = frozenset("0123456789０１２３４５６７８９")
_SEPARATORS = " -－.()（）\u3000"
_TO_DIGITS = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, **dict.fromkeys(_SEPARATORS)})
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown or missing country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class NumberInfo(NamedTuple):
    """A valid number: E.164, the extension typed after it, its type and place."""

    e164: str
    extension: str | None
    number_type: NumberType
    place: Place


_new_info = tuple.__new__  # `_new_info(NumberInfo, values)`: a NumberInfo without the Python-level __new__


class NumberProblem(NamedTuple):
    """Why a cell holds no usable number: `missing_number` or `invalid_number`, and a detail."""

    reason: Reason
    detail: str


Normalised = NumberInfo | NumberProblem


def prepare(raw: str) -> str:
    """The text phonenumbers is given: Chinese extension words (转, 分机) written as " ext. "."""
    if "转" in raw or "分" in raw:
        return _EXTENSION_WORD.sub(" ext. ", raw)
    return raw


def _simple(raw: str) -> tuple[bool, str] | None:
    """(plus?, its digits in ASCII) when `raw` is a plain number, else None.

    Plain: optional spaces and opening brackets, an optional `+` (ASCII or full-width), then a
    digit, then only digits and the separators space, dash, dot, brackets (ASCII or full-width)
    and ideographic space; at most 100 characters. phonenumbers skips what comes before the
    `+` or first digit, accepts those separators inside a number, trims trailing ones, and finds
    no extension in such text, so its parse depends on the sign and the digits alone.
    """
    if len(raw) > _MAX_FAST_TEXT:
        return None
    text = raw.strip(_EDGE_SPACE).lstrip("(（")
    plus = text[:1] in ("+", "＋")
    if plus:
        text = text[1:]
    if text[:1] in _FIRST_DIGITS:
        digits = text.translate(_TO_DIGITS)  # full-width digits made ASCII, separators dropped
        if digits.isascii() and digits.isdigit():
            return plus, digits
    return None


def _without_digits(text: str) -> NumberProblem | None:
    """A problem for text with no digit at all (phonenumbers would reject it anyway), else None."""
    if _DIGIT.search(text):
        return None
    if text.strip(_FILLER).lower() in _PLACEHOLDERS:
        return NumberProblem(Reason.MISSING_NUMBER, "no number in the cell")
    return NumberProblem(Reason.INVALID_NUMBER, "not a phone number: it has no digits")


def _result(e164: str, extension: str | None, outcome: Facts | Invalid) -> Normalised:
    if isinstance(outcome, Invalid):
        return NumberProblem(Reason.INVALID_NUMBER, f"not a valid number ({outcome.why}): {e164}")
    number_type, place = outcome
    return NumberInfo(e164, extension, number_type, place)


def _parse_problem(error_type: int) -> NumberProblem:
    return NumberProblem(Reason.INVALID_NUMBER, f"cannot read a number: {_PARSE_ERRORS[error_type]}")


def reference_normalise(raw: str, region: str) -> Normalised:
    """The plain phonenumbers way, row by row: the oracle of the tests and the benchmark's baseline."""
    text = prepare(raw)
    problem = _without_digits(text)
    if problem is not None:
        return problem
    try:
        numobj = phonenumbers.parse(text, region)
    except NumberParseException as error:
        return _parse_problem(error.error_type)
    national = phonenumbers.national_significant_number(numobj)
    e164 = f"+{numobj.country_code or 0}{national}"
    return _result(e164, numobj.extension or None, describe(numobj))


class _PrefixMemo:
    """Values stored under the leading digits that decided them, per group (e.g. sign and length).

    `put(group, digits, width, value)` says: every digit string of this group that starts with
    `digits[:width]` has this value. A reader (`NumberNormaliser.normalise`, inline) tries the
    widths seen for the group (one or two) in `groups[group]`.
    """

    def __init__(self) -> None:
        self.groups: dict[Any, tuple[list[int], dict[str, Any]]] = {}  # group -> (widths, values)
        self._size = 0

    def put(self, group: Any, digits: str, width: int | None, value: Any) -> None:
        if width is None:
            return
        if self._size >= MEMO_SIZE:
            self.groups.clear()
            self._size = 0
        widths, values = self.groups.setdefault(group, ([], {}))
        if width not in widths:
            widths.append(width)
        values[digits[:width]] = value
        self._size += 1


_Parse = tuple[str, int, int] | NumberProblem  # (E.164 head, national offset, outcome group) or why not


class NumberNormaliser:
    """`reference_normalise` for one default region, with the fast path; keep one per import.

    Digit strings are memoised at two levels, each under the leading digits that decided it, so
    that a number of a block seen before costs two dict probes. `imports.number_parse` says how
    many leading digits decided a parse (with the sign and length: `+86 138...`, `0086138...`
    and `138...` are three parses, each decided by its first few digits), and the parse is
    memoised as the E.164 head, where the national number starts, and the group of its outcome
    (calling code and national length). `imports.number_facts` says how many leading national
    digits decided the facts (a mobile number's block: 138 0013), and the outcome is memoised
    under those: every way of typing the block then shares it. Texts the fast path does not
    handle are memoised whole.
    """

    def __init__(self, region: str) -> None:
        self.region = region.upper()
        self._parser = DigitParser(self.region)
        self._facts = FactFinder()
        self._parses = _PrefixMemo()  # sign and length -> _Parse
        self._parse_groups = self._parses.groups  # the same dict for good: emptying it clears it
        self._outcomes = _PrefixMemo()  # calling code and national length -> Facts or Invalid
        self._outcome_groups = self._outcomes.groups
        self._texts: dict[str, Normalised] = {}

    def normalise(self, raw: str) -> Normalised:
        # Every row comes through here: the memo probes and `_result` are written out inline.
        if raw.isascii() and raw.isdigit():  # the commonest cell: plain digits
            plus, digits = False, raw
        else:
            simple = _simple(raw)
            if simple is None:
                return self._text(raw)
            plus, digits = simple
        if len(digits) < 3:
            return self._text(raw)
        group = len(digits) << 1 | plus  # the sign and the length, as one int (cheaper than a tuple)
        parse: _Parse | None = None
        memo = self._parse_groups.get(group)
        if memo is not None:
            for width in memo[0]:
                parse = memo[1].get(digits[:width])
                if parse is not None:
                    break
        if parse is None:
            parse = self._parse(group, digits)
            if parse is None:
                return self._text(raw)
        if isinstance(parse, NumberProblem):
            return parse
        head, offset, kind = parse
        national = digits[offset:]
        outcome: Facts | Invalid | None = None
        memo = self._outcome_groups.get(kind)
        if memo is not None:
            for width in memo[0]:
                outcome = memo[1].get(national[:width])
                if outcome is not None:
                    break
        if outcome is None:
            outcome = self._describe(kind, national)
        if isinstance(outcome, Invalid):
            return _result(head + national, None, outcome)
        return _new_info(NumberInfo, (head + national, None, *outcome))

    def _parse(self, group: int, digits: str) -> _Parse | None:
        """Parse `digits` (None: phonenumbers must), and memoise what it can."""
        try:
            parsed = self._parser.parse(bool(group & 1), digits)
        except ParseError as error:
            problem = _parse_problem(error.error_type)
            self._parses.put(group, digits, error.window, problem)
            return problem
        if parsed is None:
            return None
        code, offset = parsed.country_code, parsed.offset
        parse = (f"+{code}", offset, code << 5 | (len(digits) - offset))  # national numbers: < 32 digits
        self._parses.put(group, digits, parsed.window, parse)
        return parse

    def _describe(self, kind: int, national: str) -> Facts | Invalid:
        """The facts of a national number of calling code `kind >> 5`, memoised where they can be."""
        code = kind >> 5
        outcome, decided = self._facts.facts(code, national)
        if outcome is None:
            return describe(phone_number(code, national))
        self._outcomes.put(kind, national, decided, outcome)
        return outcome

    def _text(self, raw: str) -> Normalised:
        known = self._texts.get(raw)
        if known is None:
            if len(self._texts) >= MEMO_SIZE:
                self._texts.clear()
            known = self._texts[raw] = reference_normalise(raw, self.region)
        return known
