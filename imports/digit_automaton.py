"""Digit automata: phonenumbers' number patterns compiled to one lazily built DFA over '0'-'9'.

phonenumbers decides a number's type by full-matching its national number against up to eleven
regular expressions of the region's metadata, one after the other. Those patterns only use
digits, character classes, alternation, groups and counted repeats, so each denotes a regular
language over the ten digits; here they are translated (from the `re` module's own parse tree,
so the syntax is read exactly as `re` reads it) into one NFA with a tag per pattern, and walked
as a DFA whose states are built on first use. After reading a number, the DFA state says, for
every pattern at once, whether it full-matches: the same answer `re.fullmatch` gives, because for
these constructs `re` returns a match exactly when one exists. Anything else in a pattern
(anchors, look-arounds, back-references, possessive repeats) raises `Unsupported`, and the caller
keeps using phonenumbers itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_parser: Any = getattr(re, "_parser")  # noqa: B009  (the stdlib's regex parser, as `re` uses it)
_c: Any = getattr(re, "_constants")  # noqa: B009

DIGITS = "0123456789"
_ALL = (1 << 10) - 1


class Unsupported(ValueError):
    """A pattern uses a construct this module does not translate."""


class _Nfa:
    """States are ints; `eps[s]` lists epsilon moves, `moves[s]` (digit mask, target) pairs."""

    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.moves: list[list[tuple[int, int]]] = []
        self.tags: dict[int, int] = {}  # accepting state -> bit of the pattern it ends

    def new(self) -> int:
        self.eps.append([])
        self.moves.append([])
        return len(self.eps) - 1

    def sequence(self, items: Any, start: int) -> int:
        for op, arg in items:
            start = self._item(op, arg, start)
        return start

    def _item(self, op: Any, arg: Any, start: int) -> int:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN):
            end = self.new()
            self.moves[start].append((_mask(op, arg), end))
            return end
        if op is _c.SUBPATTERN:
            return self.sequence(arg[3], start)
        if op is _c.BRANCH:
            end = self.new()
            for alternative in arg[1]:
                first = self.new()
                self.eps[start].append(first)
                self.eps[self.sequence(alternative, first)].append(end)
            return end
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):  # greedy or lazy: same language
            low, high, body = arg
            for _ in range(low):
                start = self.sequence(body, start)
            if high is _c.MAXREPEAT:
                loop = self.new()
                self.eps[start].append(loop)
                self.eps[self.sequence(body, loop)].append(loop)
                return loop
            end = self.new()
            for _ in range(high - low):
                self.eps[start].append(end)
                start = self.sequence(body, start)
            self.eps[start].append(end)
            return end
        raise Unsupported(f"regex construct {op} is not translated")


def _mask(op: Any, arg: Any) -> int:
    if op is _c.ANY:
        return _ALL
    if op is _c.LITERAL:
        return _digit_bit(arg)
    if op is _c.NOT_LITERAL:
        return _ALL & ~_digit_bit(arg)
    mask, negate = 0, False
    for kind, value in arg:
        if kind is _c.NEGATE:
            negate = True
        elif kind is _c.LITERAL:
            mask |= _digit_bit(value)
        elif kind is _c.RANGE:
            mask |= sum(1 << d for d in range(10) if value[0] <= 48 + d <= value[1])
        elif kind is _c.CATEGORY and value in (_c.CATEGORY_DIGIT, _c.CATEGORY_WORD):
            mask |= _ALL
        elif kind is _c.CATEGORY and value in (_c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_WORD):
            pass
        else:
            raise Unsupported(f"character class item {kind} {value} is not translated")
    return _ALL & ~mask if negate else mask


def _digit_bit(code: int) -> int:
    return 1 << (code - 48) if 48 <= code <= 57 else 0


class DigitAutomaton:
    """One DFA for several patterns; `run(digits)` gives a state, `accepting(state)` a bit per pattern.

    Bit i of `accepting(state)` is set when `re.fullmatch(patterns[i], digits)` matches. States
    are built the first time they are reached, so memory grows with the prefixes seen, not with
    the patterns' size.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        nfa = _Nfa()
        start = nfa.new()
        for bit, pattern in enumerate(patterns):
            try:
                tree = _parser.parse(pattern)
            except re.error as error:
                raise Unsupported(f"pattern does not compile: {error}") from None
            first = nfa.new()
            nfa.eps[start].append(first)
            end = nfa.sequence(tree, first)
            nfa.tags[end] = nfa.tags.get(end, 0) | (1 << bit)
        self._nfa = nfa
        self._ids: dict[frozenset[int], int] = {}
        self._sets: list[frozenset[int]] = []
        self._accepting: list[int] = []
        self._rows: list[dict[str, int] | None] = []
        self._settled: dict[tuple[int, int], int | None] = {}
        self._intern(self._closure([start]))

    def run(self, digits: str, state: int = 0) -> int:
        """The state after reading `digits` (ASCII digits only) from `state` (the start state)."""
        rows = self._rows
        for char in digits:
            row = rows[state]
            if row is None:
                row = self._expand(state)
            state = row[char]
        return state

    def settled(self, state: int, steps: int) -> int | None:
        """The state reached from `state` after any `steps` more digits, if it is the same for all
        of them (every state on the way moves to one next state whatever the digit), else None."""
        key = (state, steps)
        if key not in self._settled:
            reached: int | None = state
            for _ in range(steps):
                assert reached is not None
                row = self._rows[reached] or self._expand(reached)
                targets = set(row.values())
                reached = targets.pop() if len(targets) == 1 else None
                if reached is None:
                    break
            self._settled[key] = reached
        return self._settled[key]

    def decide(self, digits: str, start: int = 0) -> tuple[int, int]:
        """(accepting bits for `digits[start:]`, end of the digits that decided them).

        Reads digits until the state is settled for the rest of the length (see `settled`):
        any digit string of the same length that agrees up to the returned end gets the same bits.
        """
        rows = self._rows
        state, size = 0, len(digits)
        for position in range(start, size):
            settled = self.settled(state, size - position)
            if settled is not None:
                return self._accepting[settled], position
            row = rows[state] or self._expand(state)
            state = row[digits[position]]
        return self._accepting[state], size

    def accepting(self, state: int) -> int:
        return self._accepting[state]

    @property
    def size(self) -> int:
        """How many DFA states have been built so far."""
        return len(self._sets)

    def _closure(self, states: Sequence[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(states)
        while stack:
            for target in self._nfa.eps[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return frozenset(seen)

    def _intern(self, states: frozenset[int]) -> int:
        known = self._ids.get(states)
        if known is not None:
            return known
        self._ids[states] = len(self._sets)
        self._sets.append(states)
        accepting = 0
        for nfa_state in states:
            accepting |= self._nfa.tags.get(nfa_state, 0)
        self._accepting.append(accepting)
        self._rows.append(None)
        return len(self._sets) - 1

    def _expand(self, state: int) -> dict[str, int]:
        moves = self._nfa.moves
        row: dict[str, int] = {}
        for digit, char in enumerate(DIGITS):
            bit = 1 << digit
            targets = [target for s in self._sets[state] for mask, target in moves[s] if mask & bit]
            row[char] = self._intern(self._closure(targets))
        self._rows[state] = row
        return row
