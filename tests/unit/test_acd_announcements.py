"""What a waiting caller is told (ACD-8): the wait in minutes, the parts a queue says, the sentences,
and the hold dialplan that repeats them."""

from __future__ import annotations

import pytest

from campaigns.persistence.models.enums import AgentState
from dialer.acd.announcements import OVER_AN_HOUR, Announcement, announcement, phrases, wait_minutes
from dialer.acd.board import Board
from dialer.acd.commands import Announce
from dialer.acd.queues import Announced, QueueConfig, QueueMember
from dialer.agents.selection import Candidate
from dialer.agents.state import AgentStatus
from dialer.asterisk.confgen import dialplan
from ringcast.errors import UserError
from ringcast.settings import Settings
from tests.unit.test_agent_selection import NOW


@pytest.mark.parametrize(
    ("ewt_s", "minutes"),
    [(None, None), (0.0, 1), (59.0, 1), (61.0, 2), (600.0, 10), (3600.0, 60), (3601.0, OVER_AN_HOUR)],
)
def test_wait_is_said_in_whole_minutes_rounded_up(ewt_s: float | None, minutes: int | None) -> None:
    assert wait_minutes(ewt_s) == minutes


def test_a_queue_says_what_it_announces() -> None:
    command = Announce("c1", 3, 250.0)
    assert announcement(command, Announced.BOTH) == Announcement(3, 5)
    assert announcement(command, Announced.POSITION) == Announcement(3, None)
    assert announcement(command, Announced.WAIT) == Announcement(None, 5)
    assert announcement(Announce("c1", 2, None), Announced.WAIT).empty  # nobody staffed: nothing to say


def test_sentences_in_each_language() -> None:
    assert phrases(Announcement(3, 5), "zh") == ("您现在排在第3位。", "预计等待约5分钟。")
    assert phrases(Announcement(1, 1), "en") == (
        "You are number 1 in the queue.",
        "Your estimated wait is about one minute.",
    )
    assert phrases(Announcement(None, OVER_AN_HOUR), "zh") == ("预计等待超过一小时。",)
    assert phrases(Announcement(None, None), "en") == ()


def test_announcement_language_is_checked() -> None:
    with pytest.raises(UserError, match="queue 'sales' announce_language: give zh or en"):
        QueueConfig("sales", (), announce_language="fr")


def test_hold_dialplan_repeats_the_announcement_between_music() -> None:
    text = dialplan(Settings())
    hold = text[text.index("[ringcast-queue-hold]") :].split("\n\n")[0].splitlines()
    assert hold[2] == " same => n,MusicOnHold(${RINGCAST_MOH},2)"
    assert hold[3] == ' same => n(announce),GotoIf($["${RINGCAST_ANNOUNCEMENT}" = ""]?music)'
    assert hold[4] == " same => n,Playback(${RINGCAST_ANNOUNCEMENT})"
    assert "RingcastQueueAnnounced,Position: ${RINGCAST_POSITION}" in hold[5]
    assert hold[6].endswith("?${RINGCAST_ANNOUNCE_EVERY}:3600)})")
    assert hold[7].endswith("?announce)")


def test_voicemail_plays_the_boxs_greeting_else_the_stock_one() -> None:
    text = dialplan(Settings())
    box = text[text.index("[ringcast-voicemail]") :].split("\n\n")[0].splitlines()
    assert box[1:5] == [
        'exten => s,1,GotoIf($["${RINGCAST_GREETING}" = ""]?stock)',
        " same => n,Playback(${RINGCAST_GREETING})",
        " same => n,Goto(record)",
        " same => n(stock),Playback(vm-intro)",
    ]


def test_the_board_says_when_an_agent_step_changes_the_staffing_the_estimates_rest_on() -> None:
    board = Board([QueueConfig("sales", (QueueMember(1),))])
    assert board.update_agent(Candidate(AgentStatus(1, AgentState.READY, NOW)))  # logged in, staffed
    assert not board.update_agent(Candidate(AgentStatus(1, AgentState.RESERVED, NOW)))  # still staffed
    assert not board.update_agent(Candidate(AgentStatus(1, AgentState.ON_CALL, NOW)))
    assert board.update_agent(Candidate(AgentStatus(1, AgentState.NOT_READY, NOW)))  # paused: not staffed
    assert not board.update_agent(Candidate(AgentStatus(1, AgentState.LOGGED_OUT, NOW)))  # nor now
