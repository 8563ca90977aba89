"""What goes wrong in an IVR document, said one line per problem with its place (`nodes.main.keys.1`).

`FlowError` carries every problem of a flow or of a DID's time plan; `read_mapping` reads YAML
(JSON is YAML too) into the mapping the models validate, and `place` spells a validation error's
location the way people point into the document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from ringcast.errors import UserError


class FlowError(UserError):
    """An IVR document with problems: `problems` holds one line per problem, with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s): " + "; ".join(problems))


def read_mapping(text: str, source: str) -> dict[str, Any]:
    """The mapping `text` holds; a `FlowError` for bad YAML or anything but a mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise FlowError(
            source, [f"line {mark.line + 1}: not valid YAML or JSON" if mark else "not valid YAML or JSON"]
        ) from None
    if not isinstance(data, Mapping):
        raise FlowError(source, ["the document must be a mapping (name, start, nodes)"])
    return dict(data)


def place(loc: Sequence[str | int], message: str) -> str:
    """`nodes.main.keys.1: message`, with list items as `[n]`; `document` for the whole of it."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return f"{path or 'document'}: {message.removeprefix('Value error, ')}"
