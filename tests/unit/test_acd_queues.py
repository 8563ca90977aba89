"""Queue definitions: defaults, one-line errors for bad settings, overflow chains that always end."""

from __future__ import annotations

import pytest

from dialer.acd.board import Board
from dialer.acd.queues import (
    QueueConfig,
    QueueMember,
    ServiceLevel,
    Strategy,
    ToNumber,
    ToQueue,
    ToVoicemail,
    check_overflow_chains,
)
from ringcast.errors import UserError

MEMBERS = (QueueMember(7, skill=9), QueueMember(3), QueueMember(5, supervisor=True))


def test_defaults_are_the_documented_ones() -> None:
    queue = QueueConfig("sales", MEMBERS)
    assert queue.strategy is Strategy.LONGEST_IDLE
    assert queue.short_abandon_s == 5.0
    assert queue.service_level == ServiceLevel(0.8, 20.0)
    assert queue.announce_every_s is None
    assert queue.overflow_to == ToVoicemail("sales")  # the queue's own box


def test_members_keep_their_listed_order() -> None:
    queue = QueueConfig("sales", MEMBERS)
    assert [queue.position(agent) for agent in (7, 3, 5, 99)] == [0, 1, 2, None]
    assert queue.member(5) == QueueMember(5, supervisor=True)
    assert queue.member(99) is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"name": " "}, "queue ' ' name: must not be empty"),
        (
            {"members": (QueueMember(1), QueueMember(1))},
            "queue 'q' members: agent(s) [1] listed more than once",
        ),
        ({"members": (QueueMember(1, skill=11),)}, "queue 'q' skill: every member's level must be 1-10"),
        ({"max_wait_s": 0}, "queue 'q' max_wait_s: must be a positive number of seconds"),
        ({"max_wait_s": float("inf")}, "queue 'q' max_wait_s: must be a positive number of seconds"),
        ({"ring_timeout_s": -1}, "queue 'q' ring_timeout_s: must be a positive number of seconds"),
        ({"short_abandon_s": -1}, "queue 'q' short_abandon_s: must not be negative"),
        ({"service_level": ServiceLevel(1.5, 20)}, "queue 'q' service_level share: must be in (0, 1]"),
        (
            {"announce_every_s": 0},
            "queue 'q' announce_every_s: must be positive (or unset: no announcements)",
        ),
        ({"memory_days": -1}, "queue 'q' memory_days: must not be negative (0 turns caller memory off)"),
    ],
)
def test_a_bad_setting_is_one_line_naming_queue_and_setting(settings: dict, message: str) -> None:
    with pytest.raises(UserError) as error:
        QueueConfig(**({"name": "q", "members": ()} | settings))
    assert str(error.value) == message


def test_an_overflow_chain_ending_at_a_number_is_accepted() -> None:
    queues = [
        QueueConfig("a", (), overflow=ToQueue("b")),
        QueueConfig("b", (), overflow=ToQueue("c")),
        QueueConfig("c", (), overflow=ToNumber("+8613900000000")),
    ]
    assert list(check_overflow_chains(queues)) == ["a", "b", "c"]


def test_an_overflow_loop_is_refused_with_its_path() -> None:
    queues = [
        QueueConfig("a", (), overflow=ToQueue("b")),
        QueueConfig("b", (), overflow=ToQueue("c")),
        QueueConfig("c", (), overflow=ToQueue("a")),
    ]
    with pytest.raises(UserError, match=r"loops without end: a -> b -> c -> a"):
        Board(queues)


def test_a_queue_overflowing_to_itself_is_a_loop() -> None:
    with pytest.raises(UserError, match=r"a -> a"):
        check_overflow_chains([QueueConfig("a", (), overflow=ToQueue("a"))])


def test_an_overflow_to_an_unknown_queue_or_a_name_used_twice_is_refused() -> None:
    with pytest.raises(UserError, match="queue 'a' overflows to unknown queue 'nowhere'"):
        check_overflow_chains([QueueConfig("a", (), overflow=ToQueue("nowhere"))])
    with pytest.raises(UserError, match="queue 'a' is defined twice"):
        check_overflow_chains([QueueConfig("a", ()), QueueConfig("a", ())])
