"""SMS templates (SMS-2): `{variable}` syntax, save-time checks, rendering, length, marketing marks (pure).

Syntax: `{variable}` is replaced by the variable's value, `{variable|default text}` by the value
or, when there is none, by the default (which may be empty: `{name|}` renders nothing). `{{` and
`}}` are literal braces. The variables are those of `KNOWN_VARIABLES`, plus `attr.<column>` for
any column of the lead's attributes (`{attr.车型}`). Spaces around a variable's name are ignored;
a default is kept exactly as written.

`parse_template` checks a text when it is saved: an unknown variable, an unbalanced or empty
brace, an empty text, or fixed text that alone exceeds the length limit is a `UserError` naming
the 1-based character position. `render` fills a parsed template in at send time; a variable with
neither a value nor a default raises `TemplateValueMissing` (a `UserError`: the operator fixes the
lead or the template) so the outbox records "missing value for {name}" instead of sending a hole.
A value that is None, empty or only whitespace counts as no value.

`marketing_text` adds the marks a marketing message carries (the sender's name as a signature, the
opt-out text); it is idempotent, so marking a text that already carries them changes nothing.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeGuard

from ringcast.errors import UserError
from sms.segments import segments

ATTR_PREFIX = "attr."
MAX_SEGMENTS = 10
NAME_ATTRIBUTES = ("姓名", "name")  # lead attribute columns `{name}` is read from, first found wins

KNOWN_VARIABLES: Mapping[str, str] = {
    "name": "the customer's name (the lead's 姓名 or name column)",
    "number": "the customer's number in E.164 (+8613812345678)",
    "city": "the number's city (号码归属地)",
    "region": "the number's province or state",
    "agent": "the agent's id or name",
    "callback_number": "the number the customer can call back",
    "campaign": "the campaign's name",
    "link": "a short link",
    f"{ATTR_PREFIX}<column>": "any column of the lead's attributes, e.g. {attr.车型}",
}
_PLAIN_VARIABLES = frozenset(name for name in KNOWN_VARIABLES if not name.startswith(ATTR_PREFIX))


class SignatureStyle(StrEnum):
    """How the sender's name is put at the front of a marketing message."""

    CJK = "cjk"  # 【华信科技】 (Chinese carriers' 短信签名)
    LATIN = "latin"  # "Acme: "


class TemplateValueMissing(UserError):
    """Rendering needs a value for `variables` and neither the lead nor the template gives one."""

    def __init__(self, variables: tuple[str, ...]) -> None:
        names = ", ".join(f"{{{name}}}" for name in variables)
        super().__init__(
            f"missing value for {names}", hint="give the lead a value or the template a default: {name|...}"
        )
        self.variables = variables


@dataclass(frozen=True, slots=True)
class Slot:
    """A `{variable}` or `{variable|default}` in a template."""

    variable: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template: its source `text` and its pieces, fixed text and slots in order."""

    text: str
    pieces: tuple[str | Slot, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables it uses, each once, in order of first use."""
        return tuple(dict.fromkeys(piece.variable for piece in self.pieces if isinstance(piece, Slot)))

    @property
    def fixed_text(self) -> str:
        """The text without its slots: the least any rendering of it contains."""
        return "".join(piece for piece in self.pieces if isinstance(piece, str))


def parse_template(text: str, max_segments: int = MAX_SEGMENTS) -> Template:
    """Check `text` as a template (see the module docstring) and return it parsed."""
    if not text.strip():
        raise UserError("SMS template is empty", hint="write the message text")
    pieces: list[str | Slot] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if text.startswith(("{{", "}}"), position):
            literal.append(char)
            position += 2
        elif char == "}":
            raise UserError(
                f"SMS template: unmatched }} at character {position + 1}", hint="write }} for a brace"
            )
        elif char == "{":
            if literal:
                pieces.append("".join(literal))
                literal.clear()
            slot, position = _slot(text, position)
            pieces.append(slot)
        else:
            literal.append(char)
            position += 1
    if literal:
        pieces.append("".join(literal))
    template = Template(text, tuple(pieces))
    _check_fixed_length(template, max_segments)
    return template


def _slot(text: str, start: int) -> tuple[Slot, int]:
    """The slot opening at `start` and the position after it."""
    end = text.find("}", start + 1)
    nested = text.find("{", start + 1)
    if end < 0 or 0 <= nested < end:
        raise UserError(
            f"SMS template: {{ at character {start + 1} is not closed", hint="write {{ for a brace"
        )
    name, bar, default = text[start + 1 : end].partition("|")
    if not name.strip():
        raise UserError(f"SMS template: empty {{}} at character {start + 1}", hint="name a variable inside")
    return Slot(_known_variable(name, start), default if bar else None), end + 1


def _known_variable(name: str, start: int) -> str:
    """`name` as a known variable (spaces dropped, also around an attribute's column), else a `UserError`."""
    variable = name.strip()
    column = variable.removeprefix(ATTR_PREFIX).strip()
    if variable.startswith(ATTR_PREFIX) and column:
        return ATTR_PREFIX + column
    if variable in _PLAIN_VARIABLES:
        return variable
    close = difflib.get_close_matches(variable, sorted(_PLAIN_VARIABLES), n=1)
    guess = f"did you mean {{{close[0]}}}? " if close else ""
    raise UserError(
        f"SMS template: unknown variable {{{variable}}} at character {start + 1}",
        hint=f"{guess}known: {', '.join(KNOWN_VARIABLES)}",
    )


def _check_fixed_length(template: Template, max_segments: int) -> None:
    _, parts = segments(template.fixed_text)
    if parts > max_segments:
        raise UserError(
            f"SMS template: its fixed text alone takes {parts} message parts, more than {max_segments}",
            hint="shorten it",
        )


def render(template: Template, values: Mapping[str, str | None]) -> str:
    """The template with each slot replaced by its value, else its default (see the module docstring)."""
    parts: list[str] = []
    missing: list[str] = []
    for piece in template.pieces:
        if isinstance(piece, str):
            parts.append(piece)
        elif (text := _value(piece, values)) is not None:
            parts.append(text)
        else:
            missing.append(piece.variable)
    if missing:
        raise TemplateValueMissing(tuple(dict.fromkeys(missing)))
    return "".join(parts)


def _value(slot: Slot, values: Mapping[str, str | None]) -> str | None:
    value = values.get(slot.variable)
    return value if _has_value(value) else slot.default


def _has_value(value: str | None) -> TypeGuard[str]:
    return value is not None and bool(value.strip())


def template_values(
    e164: str,
    attributes: Mapping[str, Any],
    *,
    city: str | None = None,
    region: str | None = None,
    agent: str | None = None,
    callback_number: str | None = None,
    campaign: str | None = None,
    link: str | None = None,
) -> dict[str, str | None]:
    """The values `render` takes for a lead: its number, facts and attributes, and the message's context."""
    texts = {column: _text(value) for column, value in attributes.items()}
    name = next((texts[column] for column in NAME_ATTRIBUTES if _has_value(texts.get(column))), None)
    values: dict[str, str | None] = {f"{ATTR_PREFIX}{column}": text for column, text in texts.items()}
    values.update(
        name=name,
        number=e164,
        city=city,
        region=region,
        agent=agent,
        callback_number=callback_number,
        campaign=campaign,
        link=link,
    )
    return values


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def check_length(text: str, max_segments: int = MAX_SEGMENTS) -> int:
    """How many message parts `text` takes; a `UserError` when it is empty or needs over `max_segments`."""
    if not text.strip():
        raise UserError("SMS text is empty", hint="write the message text")
    encoding, parts = segments(text)
    if parts > max_segments:
        raise UserError(
            f"SMS text takes {parts} message parts ({len(text)} characters, {encoding.value}),"
            f" more than {max_segments}",
            hint="shorten it",
        )
    return parts


def signature(sender_name: str, style: SignatureStyle) -> str:
    """The sender's name as it starts a marketing message."""
    name = sender_name.strip()
    if not name or any(bracket in name for bracket in "【】"):
        raise UserError(f"SMS sender name {sender_name!r}: give a name without 【】", hint="e.g. 华信科技")
    return f"【{name}】" if style is SignatureStyle.CJK else f"{name}:"


def marketing_text(body: str, *, sender_name: str, opt_out_text: str | None, style: SignatureStyle) -> str:
    """`body` signed with the sender's name at the front, unless it starts with that signature, and
    ending in `opt_out_text` unless the body already contains it (None: no opt-out text).

    Idempotent: marking a marked text changes nothing. Spaces around the body are dropped. The
    opt-out text follows the body after a space (LATIN) or directly (CJK), with a "，" added when a
    CJK body does not already end in punctuation: "【华信】周末八折，回复TD退订".
    """
    mark = signature(sender_name, style)
    content = body.strip().removeprefix(mark).strip()
    opt_out = (opt_out_text or "").strip()
    if opt_out and opt_out not in content:
        content = _joined(content, opt_out, style)
    return f"{mark}{content}" if style is SignatureStyle.CJK else f"{mark} {content}".rstrip()


def _joined(content: str, opt_out: str, style: SignatureStyle) -> str:
    if not content:
        return opt_out
    if style is SignatureStyle.LATIN:
        return f"{content} {opt_out}"
    ends_in_punctuation = unicodedata.category(content[-1]).startswith("P")
    return f"{content}{'' if ends_in_punctuation else '，'}{opt_out}"
