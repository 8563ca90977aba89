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
   those digits (see `NumberNormaliser`), so the next number of the same block is a dict probe.

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
    """Outcomes stored under the leading digits that decided them, per group (e.g. sign and length).

    `put(group, digits, width, value)` says: every digit string of this group that starts with
    `digits[:width]` has this outcome. `get` tries the widths seen for the group (one or two).
    """

    def __init__(self) -> None:
        self.groups: dict[Any, tuple[list[int], dict[str, Any]]] = {}  # group -> (widths, values)
        self._size = 0

    def get(self, group: Any, digits: str) -> Any:
        found = self.groups.get(group)
        if found is not None:
            widths, values = found
            for width in widths:
                value = values.get(digits[:width])
                if value is not None:
                    return value
        return None

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


class _Number(NamedTuple):
    """A parsed number that is not valid, apart from its digits: the E.164 head (`+86`), where
    its national number starts in the digits, and why it is not valid."""

    head: str
    offset: int
    outcome: Invalid


_Valid = tuple[str, int, NumberType, Place]  # a valid number, apart from its digits: head, offset, facts
_Known = _Valid | _Number | NumberProblem  # what the digits of a block come to


def _known(code: int, offset: int, outcome: Facts | Invalid) -> _Valid | _Number:
    head = f"+{code}"
    if isinstance(outcome, Invalid):
        return _Number(head, offset, outcome)
    return (head, offset, *outcome)


class NumberNormaliser:
    """`reference_normalise` for one default region, with the fast path; keep one per import.

    Digit strings are memoised by blocks: `imports.number_parse` says how many leading digits
    decided a parse, `imports.number_facts` how many leading national digits decided the facts,
    and the whole outcome is stored under the digits that decided both (with the sign and
    length), so that every number of a block (all of 138 0013 xxxx typed the same way) after the
    first is one dict probe. The facts are also memoised on their own, by national digits (with
    the calling code and length), so that the first number of a block typed another way (+86,
    0086...) only costs a parse. Texts the fast path does not handle are memoised whole.
    """

    def __init__(self, region: str) -> None:
        self.region = region.upper()
        self._parser = DigitParser(self.region)
        self._facts = FactFinder()
        self._numbers = _PrefixMemo()  # sign and length -> _Known
        self._groups = self._numbers.groups  # the same dict for good: emptying it clears it
        self._parses = _PrefixMemo()  # sign and length -> Parsed
        self._outcomes = _PrefixMemo()  # (calling code, length) -> (facts or Invalid, digits decided)
        self._texts: dict[str, Normalised] = {}

    def normalise(self, raw: str) -> Normalised:
        # Every row comes through here: the memo probe and `_result` are written out inline.
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
        known: _Known | None = None
        memo = self._groups.get(group)
        if memo is not None:
            for width in memo[0]:
                known = memo[1].get(digits[:width])
                if known is not None:
                    break
        if known is None:
            known = self._work_out(group, digits)
            if known is None:
                return self._text(raw)
        if isinstance(known, NumberProblem):
            return known
        if isinstance(known, _Number):
            return _result(known.head + digits[known.offset :], None, known.outcome)
        head, offset, number_type, place = known
        return _new_info(NumberInfo, (head + digits[offset:], None, number_type, place))

    def _work_out(self, group: int, digits: str) -> _Known | None:
        """Parse and describe `digits` (None: phonenumbers must), and memoise what it can."""
        parsed = self._parses.get(group, digits)
        if parsed is None:
            try:
                parsed = self._parser.parse(bool(group & 1), digits)
            except ParseError as error:
                problem = _parse_problem(error.error_type)
                self._numbers.put(group, digits, error.window, problem)
                return problem
            if parsed is None:
                return None
            self._parses.put(group, digits, parsed.window, parsed)
        code, offset = parsed.country_code, parsed.offset
        national = digits[offset:]
        kind = (code, len(national))
        found = self._outcomes.get(kind, national)
        if found is None:
            outcome, decided = self._facts.facts(code, national)
            if outcome is None:
                return _known(code, offset, describe(phone_number(code, national)))
            self._outcomes.put(kind, national, decided, (outcome, decided))
        else:
            outcome, decided = found
        known = _known(code, offset, outcome)
        if parsed.window is not None and decided is not None:
            self._numbers.put(group, digits, max(parsed.window, offset + decided), known)
        return known

    def _text(self, raw: str) -> Normalised:
        known = self._texts.get(raw)
        if known is None:
            if len(self._texts) >= MEMO_SIZE:
                self._texts.clear()
            known = self._texts[raw] = reference_normalise(raw, self.region)
        return known
