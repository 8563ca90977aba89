"""How an offer reaches its agents' phones, and how the phones rung for one call decide who takes
it (ACD-6): persistent connections first, the first answer wins, no answer sets agents apart."""

from __future__ import annotations

from dialer.acd.ringing import ConnectNow, RingOffer, RingPhones, phones_for


def test_an_agent_on_a_persistent_connection_takes_the_call_at_once() -> None:
    assert phones_for((7,), ring_mode=()) == ConnectNow(7)
    assert phones_for((7, 8, 9), ring_mode={7}) == ConnectNow(8), "the first one not in ring mode"


def test_ring_mode_agents_phones_all_ring() -> None:
    assert phones_for((7,), ring_mode={7}) == RingPhones((7,))
    assert phones_for((9, 7), ring_mode={7, 9}) == RingPhones((9, 7))


def test_the_first_phone_to_answer_takes_the_call_and_the_others_stop() -> None:
    offer, stop = RingOffer.rung((7, 8, 9)).answer(8)
    assert (offer.answered_by, offer.ringing, stop) == (8, frozenset(), {7, 9})
    assert not offer.over
    late, stop = offer.answer(9)
    assert (late, stop) == (offer, frozenset()), "too late: nothing changes, its phone is hung up"


def test_phones_that_stop_or_ring_out_did_not_answer_and_end_the_offer_when_none_rings() -> None:
    offer = RingOffer.rung((7, 8, 9)).stopped(8)
    assert (offer.ringing, offer.unanswered, offer.over) == ({7, 9}, (8,), False)
    offer = offer.timed_out()
    assert (offer.ringing, offer.unanswered, offer.over) == (frozenset(), (8, 7, 9), True)
    assert offer.stopped(7) == offer, "a phone already out changes nothing"


def test_a_phone_that_answered_then_dropped_before_the_caller_joined_did_not_answer() -> None:
    offer, _ = RingOffer.rung((7,)).answer(7)
    offer = offer.stopped(7)
    assert (offer.answered_by, offer.unanswered, offer.over) == (None, (7,), True)


def test_a_phone_that_could_not_be_rung_leaves_without_having_failed_to_answer() -> None:
    offer = RingOffer.rung((7, 8)).withdrawn(7)
    assert (offer.ringing, offer.unanswered, offer.over) == ({8}, (), False)
    offer = offer.withdrawn(8)
    assert (offer.unanswered, offer.over) == ((), True)


def test_an_answered_offer_is_not_timed_out() -> None:
    offer, _ = RingOffer.rung((7, 8)).answer(7)
    assert offer.timed_out() == offer and not offer.over
