"""The dialer's database side (`campaigns.hopper`, `campaigns.dial_store`) on SQLite and PostgreSQL.

Hand-built cn-preset campaigns (09:00-21:00 in the callee's zone, 3 attempts a number a day, 3 %
abandoned a day) of a few leads, at one fixed instant: which leads the hopper takes and in what
order; what the dial-time check refuses and what each refusal does to the lead and the audit log;
the attempt of an allowed lead; how a call's end and the agent's disposition settle the lead; how
leads taken but never dialled go back; click-to-call leads; the lead counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from campaigns import campaign_store, dial_store, hopper
from campaigns.compliance import blocklist_store
from campaigns.compliance.abandonment import AttemptRecord, abandonment_rate
from campaigns.compliance.blocklist import BlockEntry
from campaigns.compliance.blocklist_store import Change
from campaigns.compliance.rules import RefusalReason
from campaigns.config import CampaignConfig, CampaignSpec
from campaigns.dial_store import AttemptInProgress, AttemptResult, OpenedAttempt, RefusedLead
from campaigns.hopper import LeadCounts, QueuedLead
from campaigns.list_shares import ListShares
from campaigns.persistence.db import Database
from campaigns.persistence.models import Attempt, AuditEntry, Callback, CampaignList, ContactList, Lead
from campaigns.persistence.models import Disposition as DispositionRow
from campaigns.persistence.models.enums import BlockKind, BlockMatch, CallbackState, CallOutcome
from campaigns.persistence.models.enums import LeadState as S
from ringcast.errors import UserError

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # Monday 09:30 in Shanghai, 01:30 in London
NINE_TOMORROW_SHANGHAI = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
NINE_TODAY_LONDON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)
LATER = NOW + 5 * MIN
BY = Change("li.wei", NOW)
PREFIX = "rc-call-"
SHANGHAI = ("Asia/Shanghai",)


def number(n: int) -> str:
    return f"+86138000000{n:02d}"


def row(n: int, state: S = S.NEW, due: timedelta | None = timedelta(0), **columns: Any) -> dict[str, Any]:
    """Lead `n` (`number(n)`, in Shanghai): `state`, due `due` from NOW (None: no next attempt)."""
    return {"e164": number(n), "state": state, "next_attempt_at": due if due is None else NOW + due} | columns


def add_list(database: Database, name: str, *leads: dict[str, Any]) -> list[int]:
    """A contact list of `leads` (`row`s); their ids."""
    with database.session() as session:
        contacts = ContactList(name=name, imported_at=NOW)
        session.add(contacts)
        session.flush()
        base = {"list_id": contacts.id, "time_zones": list(SHANGHAI)}
        rows = [Lead(**(base | {"raw_input": lead["e164"]} | lead)) for lead in leads]
        session.add_all(rows)
        session.flush()
        return [lead.id for lead in rows]


def create(database: Database, name: str = "秋季回访", **given: Any) -> CampaignConfig:
    ready = {"caller_id": "+862088881234", "lists": ["leads"]} | given
    return campaign_store.create(database, name, CampaignSpec.parse(ready), BY, trunks=("carrier",))


def add_callback(database: Database, lead_id: int, campaign: CampaignConfig, due: datetime) -> None:
    callback = Callback(lead_id=lead_id, campaign_id=campaign.id, due_at=due, time_zone="UTC", created_by="t")
    with database.session() as session:
        session.add(callback)


def add_attempt(database: Database, lead_id: int, campaign: CampaignConfig, outcome: CallOutcome) -> None:
    """An ended attempt to the lead's number, dialled an hour before NOW (08:30 in Shanghai, the same day)."""
    with database.session() as session:
        e164, at = session.get_one(Lead, lead_id).e164, NOW - HOUR
        attempt = Attempt(lead_id=lead_id, campaign_id=campaign.id, e164=e164, dialed_at=at, outcome=outcome)
        attempt.ended_at = at
        session.add(attempt)


def lead(database: Database, lead_id: int) -> tuple[S, int, datetime | None]:
    """The lead's state, attempt count and next attempt time."""
    with database.session() as session:
        found = session.get_one(Lead, lead_id)
        return found.state, found.attempt_count, found.next_attempt_at


def callbacks(database: Database) -> list[tuple[Any, ...]]:
    with database.session() as session:
        query = select(Callback.lead_id, Callback.state, Callback.due_at).order_by(Callback.id)
        return [tuple(found) for found in session.execute(query)]


def refusals(database: Database) -> list[tuple[str | None, dict[str, Any]]]:
    """The `dial.refused` audit rows (each by the dialer, at NOW, of a lead): lead id and details."""
    with database.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == "dial.refused").order_by(AuditEntry.id)
        rows = session.scalars(query).all()
        assert all((found.actor, found.entity, found.at) == ("dialer", "lead", NOW) for found in rows)
        return [(found.entity_id, found.details) for found in rows]


def refusal(lead_id: int, n: int | str, reason: str, until: datetime | None) -> tuple[str, dict[str, Any]]:
    e164, when = number(n) if isinstance(n, int) else n, None if until is None else until.isoformat()
    return str(lead_id), {"campaign": "秋季回访", "e164": e164, "reason": reason, "also": [], "until": when}


def take(database: Database, campaign: CampaignConfig, limit: int = 10, **given: Any) -> list[int]:
    return [queued.lead_id for queued in hopper.take_leads(database, campaign, limit, NOW, **given)]


def dial(database: Database, campaign: CampaignConfig, **given: Any) -> list[Any]:
    leads = hopper.take_leads(database, campaign, 10, NOW)
    return dial_store.open_attempts(database, campaign, leads, NOW, channel_prefix=PREFIX, **given)


def answered_attempt(database: Database, campaign: CampaignConfig) -> int:
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, CallOutcome.ANSWERED, NOW, NOW, LATER)
    assert database.in_transaction(dial_store.close_attempt, campaign, result) is S.ANSWERED
    return int(opened.attempt_id)


def test_take_leads_gives_due_callbacks_first_then_by_list_and_lead_priority(database: Database) -> None:
    low = add_list(database, "low", row(1, due=-2 * HOUR, priority=9))
    a, b, c, done, late_cb, early_cb, future_cb = add_list(
        database, "leads", row(2, due=-HOUR), row(3, due=-10 * MIN, priority=3),
        row(4, S.RETRY, -30 * MIN, priority=3, attempt_count=2), row(5, S.DONE, priority=9),
        row(6, S.CALLBACK, None), row(7, S.CALLBACK, None), row(8, S.CALLBACK, None),
    )  # fmt: skip
    add_list(database, "unattached", row(9, priority=99))
    campaign = create(database, lists=["leads:5", "low:1"])
    for lead_id, due in ((late_cb, NOW - 5 * MIN), (early_cb, NOW - 20 * MIN), (future_cb, LATER)):
        add_callback(database, lead_id, campaign, due)

    assert take(database, campaign, callbacks_only=True) == [early_cb, late_cb]
    assert hopper.take_leads(database, campaign, 2, NOW) == [
        QueuedLead(c, number(4), SHANGHAI, 2),
        QueuedLead(b, number(3), SHANGHAI, 0),
    ]
    assert take(database, campaign) == [a, *low]
    assert take(database, campaign) == [] and take(database, campaign, 0) == []
    states = [lead(database, i)[0] for i in (a, b, c, *low, early_cb, late_cb, done, future_cb)]
    assert states == [S.QUEUED] * 6 + [S.DONE, S.CALLBACK]


def test_lists_of_equal_priority_share_the_dials_by_weight(database: Database) -> None:
    a = add_list(database, "a", *(row(n) for n in range(1, 7)))
    b = add_list(database, "b", *(row(n) for n in range(11, 13)))
    low = add_list(database, "low", *(row(n, priority=9) for n in range(21, 23)))
    campaign = create(database, lists=["a:5:2", "b:5:1", "low:1:9"])
    shares = ListShares(campaign.lists)
    assert take(database, campaign, 3, shares=shares) == [a[0], b[0], a[1]]
    assert take(database, campaign, 3, shares=shares) == [a[2], b[1], a[3]]  # the credit carried over
    assert take(database, campaign, 5, shares=shares) == [a[4], a[5], *low]  # b ran dry, then a


def test_take_leads_skips_leads_not_due_and_other_campaigns_leads(database: Database) -> None:
    add_list(database, "leads", row(1, due=HOUR))
    (theirs,) = add_list(database, "theirs", row(2, S.RETRY, attempt_count=1))
    create(database, "春节促销", lists=["theirs"])
    assert take(database, create(database)) == []
    assert lead(database, theirs)[0] is S.RETRY


def test_dnc_and_blacklisted_numbers_are_blocked_and_lose_their_callback(database: Database) -> None:
    dnc, blacklisted, fine = add_list(
        database, "leads", row(1, S.CALLBACK, None), row(2, e164="+8613990001234"), row(3)
    )
    campaign = create(database)
    add_callback(database, dnc, campaign, NOW - MIN)
    blocklist_store.add(database, BlockEntry(BlockKind.DNC, number(1), reason="投诉"), BY)
    blocklist_store.add(database, BlockEntry(BlockKind.BLACKLIST, "+861399", BlockMatch.PREFIX), BY)

    assert [type(r) for r in dial(database, campaign)] == [RefusedLead, RefusedLead, OpenedAttempt]
    assert [lead(database, i) for i in (dnc, blacklisted)] == [
        (S.DNC_BLOCKED, 0, None),
        (S.DNC_BLOCKED, 0, NOW),
    ]
    assert lead(database, fine)[:2] == (S.DIALING, 1)
    assert callbacks(database) == [(dnc, CallbackState.CANCELLED, NOW - MIN)]
    assert refusals(database) == [
        refusal(dnc, 1, "dnc", None),
        refusal(blacklisted, "+8613990001234", "blacklisted", None),
    ]


def test_outbound_reach_and_whitelist_are_enforced_at_dial_time(database: Database) -> None:
    london, beijing = add_list(database, "leads", row(1, e164="+442079461201"), row(2))  # Shanghai zones
    campaign = create(database)  # reach national from a Guangzhou caller ID
    refused, opened = dial(database, campaign)
    assert isinstance(refused, RefusedLead) and refused.verdict.reason is RefusalReason.OUTSIDE_REACH
    assert isinstance(opened, OpenedAttempt) and opened.lead.lead_id == beijing
    assert lead(database, london)[0] is S.NEW  # waits: a whitelist entry may come

    blocklist_store.add(database, BlockEntry(BlockKind.WHITELIST, "+44", BlockMatch.PREFIX), BY)
    later = NOW + 2 * HOUR
    leads = hopper.take_leads(database, campaign, 10, later)
    (allowed,) = dial_store.open_attempts(database, campaign, leads, later, channel_prefix=PREFIX)
    assert isinstance(allowed, OpenedAttempt) and allowed.lead.lead_id == london

    (other,) = add_list(database, "more", row(3))
    changes = CampaignSpec.parse({"whitelist_only": True, "lists": ["more"]})
    only = campaign_store.update(database, campaign.name, changes, BY, trunks=("carrier",))
    (not_listed,) = dial(database, only)
    assert isinstance(not_listed, RefusedLead) and not_listed.lead.lead_id == other
    assert not_listed.verdict.reason is RefusalReason.NOT_WHITELISTED


def test_outside_calling_hours_the_lead_waits_until_they_open(database: Database) -> None:
    (london,) = add_list(database, "leads", row(1, S.RETRY, attempt_count=1, time_zones=["Europe/London"]))
    campaign = create(database)
    (refused,) = dial(database, campaign)
    assert isinstance(refused, RefusedLead) and refused.verdict.until == NINE_TODAY_LONDON
    assert lead(database, london) == (S.RETRY, 1, NINE_TODAY_LONDON)
    assert refusals(database) == [refusal(london, 1, "outside_calling_hours", NINE_TODAY_LONDON)]
    assert dial_store.calls_in_progress(database, campaign.id) == 0


def test_a_callback_refused_outside_calling_hours_waits_until_they_open(database: Database) -> None:
    (london,) = add_list(database, "leads", row(1, S.CALLBACK, None, time_zones=["Europe/London"]))
    campaign = create(database)
    add_callback(database, london, campaign, NOW - 5 * MIN)
    dial(database, campaign)
    assert lead(database, london)[0] is S.CALLBACK
    assert hopper.take_leads(database, campaign, 10, LATER) == []


def test_the_day_cap_counts_the_numbers_attempts_in_every_campaign(database: Database) -> None:
    (capped,) = add_list(database, "leads", row(1))
    (elsewhere,) = add_list(database, "other", row(1, S.DONE))
    other = create(database, "春节促销", lists=["other"])
    for _ in range(3):
        add_attempt(database, elsewhere, other, CallOutcome.NO_ANSWER)
    (refused,) = dial(database, create(database))
    assert isinstance(refused, RefusedLead)
    # the cap lifts at midnight, the calling hours open at 09:00
    assert lead(database, capped) == (S.NEW, 0, NINE_TOMORROW_SHANGHAI)
    assert refusals(database) == [refusal(capped, 1, "number_day_cap", NINE_TOMORROW_SHANGHAI)]


def test_at_the_abandon_cap_only_calls_for_free_agents_are_placed(database: Database) -> None:
    served, for_agent, held = add_list(database, "leads", row(1, S.DONE), row(2, due=-HOUR), row(3))
    campaign = create(database)
    add_attempt(database, served, campaign, CallOutcome.ABANDONED)  # 1 abandoned of 1 live call today
    figures = dial_store.abandonment_figures(database, campaign, NOW)
    assert (figures.live, figures.abandoned, figures.rate) == (1.0, 1.0, 1.0)

    assert [type(r) for r in dial(database, campaign, agent_free=1)] == [OpenedAttempt, RefusedLead]
    assert lead(database, for_agent)[:2] == (S.DIALING, 1)
    assert lead(database, held) == (S.NEW, 0, NOW)  # the campaign is held back, not the lead: due now
    assert [type(r) for r in dial(database, campaign)] == [RefusedLead]
    # the cap resets at midnight in Shanghai, the calling hours open at 09:00
    assert refusals(database) == [refusal(held, 3, "abandon_cap", NINE_TOMORROW_SHANGHAI)] * 2


def test_an_allowed_lead_gets_its_attempt_and_its_callback_is_done_when_the_call_ends(
    database: Database,
) -> None:
    (first,) = add_list(database, "leads", row(1, S.CALLBACK, attempt_count=2))
    (twin,) = add_list(database, "more", row(1, due=-HOUR))
    campaign = create(database, lists=["leads", "more"])
    add_callback(database, first, campaign, NOW)
    opened, refused = dial(database, campaign)
    assert isinstance(opened, OpenedAttempt) and isinstance(refused, RefusedLead)
    assert (opened.lead.lead_id, opened.channel_id) == (first, f"{PREFIX}{opened.attempt_id:012d}")
    with database.session() as session:
        attempt = session.get_one(Attempt, opened.attempt_id)
        assert (attempt.lead_id, attempt.campaign_id, attempt.e164) == (first, campaign.id, number(1))
        assert (attempt.trunk, attempt.caller_id, attempt.dialed_at) == ("carrier", "+862088881234", NOW)
        assert (attempt.uniqueid, attempt.ended_at) == (opened.channel_id, None)
        assert attempt.time_zones == list(SHANGHAI)  # the callee's, as the calling window was checked
        assert session.get_one(Lead, first).last_attempt_at == NOW
    assert lead(database, first)[:2] == (S.DIALING, 3)
    assert callbacks(database) == [(first, CallbackState.PENDING, NOW)]  # until the call ends
    # the same number in another list may not ring while this call is up; looked at again in an hour
    assert refusals(database) == [refusal(twin, 1, "number_in_call", None)]
    assert lead(database, twin) == (S.NEW, 0, NOW + HOUR)
    assert dial_store.calls_in_progress(database, campaign.id) == 1
    in_progress = AttemptInProgress(opened.attempt_id, campaign.id, opened.channel_id)
    assert dial_store.attempts_in_progress(database) == [in_progress]
    busy = AttemptResult(opened.attempt_id, CallOutcome.BUSY, None, None, LATER)
    assert database.in_transaction(dial_store.close_attempt, campaign, busy) is S.RETRY
    assert callbacks(database) == [(first, CallbackState.DONE, NOW)]  # this call was the callback


@pytest.mark.parametrize(
    ("outcome", "max_attempts", "state", "attempts", "due"),
    [
        (CallOutcome.BUSY, 5, S.RETRY, 1, LATER + 10 * MIN),  # the default rules' busy delay
        (CallOutcome.BUSY, 1, S.EXHAUSTED, 1, NOW),  # that was its last attempt
        (CallOutcome.ABANDONED, 5, S.RETRY, 1, LATER + HOUR),
        (CallOutcome.ANSWERED, 5, S.ANSWERED, 1, NOW),  # waits for the agent's disposition
        (CallOutcome.CANCELLED, 5, S.NEW, 0, LATER),  # the attempt is given back
    ],
)
def test_close_attempt_settles_the_lead(
    database: Database, outcome: CallOutcome, max_attempts: int, state: S, attempts: int, due: datetime
) -> None:
    (lead_id,) = add_list(database, "leads", row(1))
    campaign = create(database, max_attempts=max_attempts)
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, outcome, None, None, LATER, hangup_cause=16)
    assert database.in_transaction(dial_store.close_attempt, campaign, result) is state
    assert lead(database, lead_id) == (state, attempts, due)
    with database.session() as session:
        attempt = session.get_one(Attempt, opened.attempt_id)
        assert (attempt.outcome, attempt.ended_at, attempt.hangup_cause) == (outcome, LATER, 16)
        assert attempt.abandoned is (outcome is CallOutcome.ABANDONED)
        last = None if outcome is CallOutcome.CANCELLED else outcome
        assert session.get_one(Lead, lead_id).last_outcome == last
    again = AttemptResult(opened.attempt_id, CallOutcome.FAILED, None, None, LATER + HOUR)
    assert (
        database.in_transaction(dial_store.close_attempt, campaign, again) is state
    )  # closed already: no change
    assert lead(database, lead_id) == (state, attempts, due)
    assert dial_store.calls_in_progress(database, campaign.id) == 0


def test_a_cancelled_callback_call_goes_back_to_its_callback(database: Database) -> None:
    (lead_id,) = add_list(database, "leads", row(1, S.CALLBACK, None, attempt_count=1))
    campaign = create(database)
    add_callback(database, lead_id, campaign, NOW)
    (opened,) = dial(database, campaign)
    result = AttemptResult(opened.attempt_id, CallOutcome.CANCELLED, None, None, LATER)
    assert database.in_transaction(dial_store.close_attempt, campaign, result) is S.CALLBACK
    assert callbacks(database) == [(lead_id, CallbackState.PENDING, NOW)]


@pytest.mark.parametrize(
    ("code", "callback_at", "state", "due", "stored"),
    [
        ("sale", None, S.DONE, NOW, "sale"),
        ("call_back_later", None, S.RETRY, LATER + 24 * HOUR, "call_back_later"),  # the rules' `answered`
        ("later", None, S.RETRY, LATER + 2 * HOUR, "later"),  # its own delay
        ("undisposed", None, S.RETRY, LATER + 24 * HOUR, None),  # the engine's own code, no row
        ("call_back_later", NOW + 3 * HOUR, S.CALLBACK, NOW, "call_back_later"),
    ],
)
def test_dispose_attempt(
    database: Database, code: str, callback_at: datetime | None, state: S, due: datetime, stored: str | None
) -> None:
    (lead_id,) = add_list(database, "leads", row(1))
    campaign = create(database, dispositions=["sale:final", "call_back_later:retry", "later:retry=2h"])
    attempt_id = answered_attempt(database, campaign)
    disposed = dial_store.dispose_attempt(
        database, campaign, attempt_id, code, LATER, callback_at=callback_at, actor="agent1"
    )
    assert disposed is state and lead(database, lead_id) == (state, 1, due)
    with database.session() as session:
        given = select(DispositionRow.code).join(Attempt, Attempt.disposition_id == DispositionRow.id)
        assert session.scalar(given) == stored
        query = select(Callback.due_at, Callback.time_zone, Callback.created_by, Callback.state)
        expected = [(callback_at, "Asia/Shanghai", "agent1", CallbackState.PENDING)] if callback_at else []
        assert [tuple(found) for found in session.execute(query)] == expected


def test_dispose_attempt_refuses_an_unknown_code_or_a_callback_after_a_final_one(database: Database) -> None:
    (lead_id,) = add_list(database, "leads", row(1))
    campaign = create(database)
    attempt_id = answered_attempt(database, campaign)
    with pytest.raises(UserError) as unknown:
        dial_store.dispose_attempt(database, campaign, attempt_id, "maybe", LATER)
    known = "sale, not_interested, call_back_later, wrong_number"
    assert str(unknown.value) == f"disposition 'maybe': not one of campaign 秋季回访's ({known})"
    with pytest.raises(UserError, match=r"^disposition sale is final: no callback can be scheduled$"):
        dial_store.dispose_attempt(database, campaign, attempt_id, "sale", LATER, callback_at=LATER)
    assert lead(database, lead_id) == (S.ANSWERED, 1, NOW) and callbacks(database) == []


def test_a_callback_is_created_at_the_time_given(database: Database) -> None:
    add_list(database, "leads", row(1))
    campaign = create(database)
    attempt_id = answered_attempt(database, campaign)
    dial_store.dispose_attempt(
        database, campaign, attempt_id, "call_back_later", LATER, callback_at=NOW + HOUR
    )
    with database.session() as session:
        assert session.scalar(select(Callback.created_at)) == LATER


def test_leads_taken_but_not_dialled_go_back(database: Database) -> None:
    fresh, retried, called_back = add_list(
        database, "leads", row(1, due=-HOUR), row(2, S.RETRY, attempt_count=2), row(3, S.CALLBACK, None)
    )
    campaign = create(database)
    add_callback(database, called_back, campaign, NOW - 30 * MIN)
    taken = hopper.take_leads(database, campaign, 10, NOW)
    assert [queued.lead_id for queued in taken] == [called_back, fresh, retried]
    hopper.give_back(database, taken[:1], LATER)
    hopper.give_back(database, [], LATER)
    assert lead(database, called_back) == (S.CALLBACK, 0, None)  # its callback keeps its due time
    assert callbacks(database) == [(called_back, CallbackState.PENDING, NOW - 30 * MIN)]
    # after a restart: what the previous run left queued goes back, due now
    assert hopper.requeue_abandoned_hopper(database, LATER) == 2
    assert [lead(database, i) for i in (fresh, retried)] == [(S.NEW, 0, LATER), (S.RETRY, 2, LATER)]
    assert hopper.requeue_abandoned_hopper(database, LATER) == 0
    hopper.give_back(database, taken, LATER + HOUR)  # no longer queued: left alone
    assert lead(database, fresh) == (S.NEW, 0, LATER)


def test_manual_lead_is_the_listed_lead_or_one_of_its_own_manual_list(database: Database) -> None:
    listed, blocked = add_list(database, "leads", row(1), row(2, S.DNC_BLOCKED))
    campaign = create(database)
    queued = hopper.manual_lead(database, campaign, number(1), ("Asia/Urumqi",), NOW)
    assert queued == QueuedLead(listed, number(1), SHANGHAI, 0)
    new = hopper.manual_lead(database, campaign, number(9), SHANGHAI, NOW)
    hopper.give_back(database, [new], NOW)
    reloaded = campaign_store.load_campaign(database, "秋季回访")
    for config in (campaign, reloaded):  # found through the manual list, or through the campaign's lists
        again = hopper.manual_lead(database, config, number(9), (), NOW)
        assert again == QueuedLead(new.lead_id, number(9), SHANGHAI, 0)
        hopper.give_back(database, [again], NOW)
    with database.session() as session:
        manual = session.scalars(select(ContactList).where(ContactList.name == "manual-秋季回访")).one()
        assert (manual.source_file, manual.imported_at) == ("click-to-call", NOW)
        assert session.scalar(select(func.count()).where(Lead.list_id == manual.id)) == 1
        assert session.get_one(CampaignList, (campaign.id, manual.id)).priority == 0
    with pytest.raises(UserError, match=r"^\+8613800000002 cannot be dialled now: its lead is dnc_blocked$"):
        hopper.manual_lead(database, campaign, number(2), (), NOW)
    assert lead(database, blocked)[0] is S.DNC_BLOCKED


def test_lead_counts(database: Database) -> None:
    add_list(
        database, "leads", row(1), row(2, S.RETRY, 2 * HOUR), row(3, due=HOUR), row(4, S.DONE), row(5, S.DONE)
    )
    add_list(database, "unattached", row(6))
    assert hopper.lead_counts(database, create(database), NOW) == LeadCounts(
        {"new": 2, "retry": 1, "done": 2}, due=1, later=2, next_due_at=NOW + HOUR
    )


def test_lead_counts_of_a_campaign_without_lists(database: Database) -> None:
    assert hopper.lead_counts(database, create(database, lists=[]), NOW) == LeadCounts({}, 0, 0, None)


def test_an_undisposed_settlement_applies_once_and_never_after_the_lead_moved_on(database: Database) -> None:
    (lead_id,) = add_list(database, "leads", row(1))
    campaign = create(database)
    attempt_id = answered_attempt(database, campaign)
    assert database.in_transaction(dial_store.settle_undisposed, campaign, attempt_id, LATER) is True
    assert lead(database, lead_id) == (S.RETRY, 1, LATER + 24 * HOUR)  # the rules' `answered` delay
    assert (
        database.in_transaction(dial_store.settle_undisposed, campaign, attempt_id, LATER) is False
    )  # already settled


def test_an_undisposed_settlement_does_not_override_the_agents_disposition(database: Database) -> None:
    (lead_id,) = add_list(database, "leads", row(1))
    campaign = create(database)
    attempt_id = answered_attempt(database, campaign)
    assert dial_store.dispose_attempt(database, campaign, attempt_id, "sale", LATER) is S.DONE
    assert database.in_transaction(dial_store.settle_undisposed, campaign, attempt_id, LATER) is False
    assert lead(database, lead_id) == (S.DONE, 1, NOW)


@pytest.mark.parametrize("window", ["day", "30_days", "campaign"])
def test_abandonment_counted_in_sql_equals_the_pure_rule(database: Database, window: str) -> None:
    (lead_id,) = add_list(database, "leads", row(1, S.DONE))
    spec = CampaignSpec.parse(
        {"caller_id": "+442079460000", "lists": ["leads"], "preset": "uk", "abandon_window": window}
        | {"amd_false_positive_share": 0.25}
    )
    campaign = campaign_store.create(database, "uk", spec, BY, trunks=("carrier",), override_reason="test")
    outcomes = [CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.MACHINE, CallOutcome.BUSY]
    records = []
    with database.session() as session:
        for n in range(120):  # one in the future, some today, then every 9 hours back to 44 days ago
            at = NOW - (timedelta(minutes=2 * n - 1) if n < 40 else timedelta(hours=9 * n))
            outcome = outcomes[n % 4]  # answered but joined too late: abandoned too
            abandoned = n % 7 == 0 and outcome in (CallOutcome.ANSWERED, CallOutcome.ABANDONED)
            attempt = Attempt(lead_id=lead_id, campaign_id=campaign.id, e164=number(1), dialed_at=at)
            attempt.outcome, attempt.abandoned, attempt.ended_at = outcome, abandoned, at
            session.add(attempt)
            records.append(AttemptRecord(at, outcome, abandoned))
    expected = abandonment_rate(records, campaign.compliance, ZoneInfo(campaign.time_zone), NOW)
    got = dial_store.abandonment_figures(database, campaign, NOW)
    assert got == expected and got.live > 0
