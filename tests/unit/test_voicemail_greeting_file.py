"""A recorded greeting's file is unique per box, however the box's name spells."""

from __future__ import annotations

from campaigns.voicemail_store import Box
from cli.voicemail import _greeting_file


def test_boxes_whose_names_differ_only_in_unsafe_characters_get_different_files() -> None:
    boxes = (Box("agent", "li.wei"), Box("agent", "li_wei"), Box("queue", "销售"), Box("queue", "客服"))
    names = [_greeting_file(box) for box in boxes]
    assert len(set(names)) == 4
    assert names[0].startswith("voicemail/agent-li_wei-")
    assert _greeting_file(Box("agent", "li.wei")) == names[0], "the same box keeps its file"
