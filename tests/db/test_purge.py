"""Retention purge (CMPL-6) on SQLite and PostgreSQL: `campaigns.purge_store.run_purge` and `ringcast purge`.

One cn campaign keeping finished leads 30 days, at one fixed instant, with leads on both sides of
the cutoff: finished and not, dialled and texted, blocked, one still to be texted, one texted
lately, one dialled by a campaign that keeps everything, one on a list shared with such a
campaign. A dry run changes nothing; a run anonymises exactly the due leads everywhere their
number or personal text is, leaves the DNC entry, survey answers and other leads alone, is
audited, can be repeated and resumed. Batches of 2 so that every list takes several.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from freezegun import freeze_time
from sqlalchemy import select

import cli.main
import cli.purge
from campaigns import campaign_store, purge_store
from campaigns.compliance.blocklist_store import Change
from campaigns.config import CampaignConfig, CampaignSpec
from campaigns.persistence.db import Database
from campaigns.persistence.models import (
    Attempt,
    AuditEntry,
    Base,
    BlocklistEntry,
    Callback,
    ContactList,
    Lead,
    SmsMessage,
)
from campaigns.persistence.models.enums import BlockKind, CallbackState, CallOutcome, SmsState
from campaigns.persistence.models.enums import LeadState as S
from campaigns.place_store import NO_PLACE, PlaceTexts, place_id, place_of
from campaigns.purge_store import PurgeCounts, run_purge
from campaigns.retention import purge_token
from cli.campaign import campaign_app
from tests.db.importing import Run, cli_on
from tests.db.sms_rows import add_message

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
DAY = timedelta(days=1)
CUTOFF = NOW - 30 * DAY
BY = Change("li.wei", NOW - 400 * DAY)
GUANGZHOU = PlaceTexts("广东", "广州", "中国移动", None, None, None)  # every lead's place


def number(n: int) -> str:
    return f"+86138000000{n:02d}"


def create(database: Database, name: str, lists: list[str], **given: Any) -> CampaignConfig:
    spec = CampaignSpec.parse({"lists": lists} | given)
    return campaign_store.create(database, name, spec, BY, trunks=())


def add_leads(database: Database, list_name: str, *leads: dict[str, Any]) -> list[int]:
    """A list of `leads` (columns; `n` names the number), each with some personal data; their ids."""
    with database.session() as session:
        contacts = ContactList(name=list_name, imported_at=NOW - 400 * DAY)
        session.add(contacts)
        session.flush()
        rows = []
        guangzhou = place_id(session.connection(), GUANGZHOU)
        for given in leads:
            n = given.pop("n")
            personal = {
                "raw_input": f"138-0000-00{n:02d}",
                "attributes": {"姓名": f"王{n}"},
                "place_id": guangzhou,
            }
            base = {"list_id": contacts.id, "e164": number(n), "time_zones": ["Asia/Shanghai"]}
            rows.append(Lead(**(base | personal | {"extension": "8"} | given)))
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def finished(n: int, days_ago: float, state: S = S.DONE, **columns: Any) -> dict[str, Any]:
    """Lead `n`, last dialled `days_ago` (and changed since, at NOW - 1 day)."""
    return {
        "n": n,
        "state": state,
        "last_attempt_at": NOW - days_ago * DAY,
        "updated_at": NOW - DAY,
    } | columns


def add_attempt(session: Any, lead_id: int, campaign_id: int, days_ago: float) -> None:
    at = NOW - days_ago * DAY
    e164 = session.get_one(Lead, lead_id).e164
    session.add(
        Attempt(
            lead_id=lead_id,
            campaign_id=campaign_id,
            e164=e164,
            dialed_at=at,
            ended_at=at,
            outcome=CallOutcome.ANSWERED,
        )
    )


@pytest.fixture
def world(database: Database) -> dict[str, Any]:
    """The campaigns and leads (see the module docstring); names to ids."""
    ids = add_leads(
        database,
        "leads",
        finished(1, 31),  # due: dialled twice, texted, called back, refused once
        finished(2, 29),  # not yet
        finished(3, 40, S.EXHAUSTED),  # due
        # due: blocked, never dialled, with no place
        {"n": 4, "state": S.DNC_BLOCKED, "updated_at": NOW - 60 * DAY, "place_id": None},
        finished(5, 100, S.RETRY, next_attempt_at=NOW),  # not finished
        finished(6, 40),  # an SMS still queued for it
        finished(7, 40),  # texted 10 days ago
        finished(8, 40),  # also dialled by the keep-everything campaign
        finished(9, 30),  # exactly at the cutoff: not before it
    )
    shared = add_leads(database, "shared", finished(10, 400), finished(11, 400))
    autumn = create(database, "秋季回访", ["leads", "shared"], retention_days=30)
    keeper = create(database, "长期保存", ["shared"])
    lead = dict(zip(range(1, 10), ids, strict=True)) | {10: shared[0], 11: shared[1]}
    with database.session() as session:
        add_attempt(session, lead[1], autumn.id, 33)
        add_attempt(session, lead[1], autumn.id, 31)
        add_attempt(session, lead[2], autumn.id, 29)
        add_attempt(session, lead[3], autumn.id, 40)
        add_attempt(session, lead[8], keeper.id, 40)
        texts = {1: (SmsState.DELIVERED, 32), 6: (SmsState.QUEUED, 40), 7: (SmsState.SENT, 10)}
        for n, (state, days_ago) in texts.items():
            add_message(
                session,
                f"hangup-{n}",
                to=number(n),
                body=f"王{n}您好，回复TD退订",
                state=state,
                created_at=NOW - days_ago * DAY,
                lead_id=lead[n],
                campaign_id=autumn.id,
                params={"name": f"王{n}"},
                last_error=f"{number(n)} busy" if n == 1 else None,
            )
        session.add(
            Callback(
                lead_id=lead[1],
                campaign_id=autumn.id,
                due_at=NOW - 32 * DAY,
                time_zone="Asia/Shanghai",
                state=CallbackState.DONE,
                note="王1 下午三点后方便",
                created_by="agent1",
            )
        )
        session.add(BlocklistEntry(kind=BlockKind.DNC, value=number(4), added_by="agent1", reason="本人要求"))
        session.add(
            AuditEntry(
                at=NOW - 35 * DAY,
                actor="dialer",
                action="dial.refused",
                entity="lead",
                entity_id=str(lead[1]),
                details={"campaign": "秋季回访", "e164": number(1), "reason": "outside_hours"},
            )
        )
    return {"lead": lead, "autumn": autumn, "keeper": keeper}


def everything(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a purge may touch (but the audit rows of purges)."""
    with database.session() as session:
        tables = ("leads", "attempts", "sms_messages", "callbacks", "blocklist_entries")
        rows = {
            name: [tuple(row) for row in session.execute(select(Base.metadata.tables[name]))]
            for name in tables
        }
        audit = select(AuditEntry.id, AuditEntry.details).where(AuditEntry.action != purge_store.ACTION)
        rows["audit_log"] = [tuple(row) for row in session.execute(audit.order_by(AuditEntry.id))]
        return rows


def numbers(database: Database) -> dict[int, str]:
    with database.session() as session:
        return {lead_id: e164 for lead_id, e164 in session.execute(select(Lead.id, Lead.e164))}


def purge_rows(database: Database) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with database.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == purge_store.ACTION).order_by(AuditEntry.id)
        return [(row.actor, row.entity, row.entity_id, row.details) for row in session.scalars(query)]


DUE = (1, 3, 4)
DUE_COUNTS = PurgeCounts(leads=3, attempts=3, sms_messages=1, callbacks=1, audit_entries=1)


def test_a_dry_run_counts_and_changes_nothing(database: Database, world: dict[str, Any]) -> None:
    before = everything(database)
    plan, kept = run_purge(database, NOW, "dpo", dry_run=True, batch_size=2)
    assert (kept.campaign.name, kept.cutoff, kept.counts) == ("长期保存", None, PurgeCounts())
    assert (plan.campaign.name, plan.cutoff, plan.counts) == ("秋季回访", CUTOFF, DUE_COUNTS)
    assert set(plan.list_ids) == {world["autumn"].lists[0].list_id, world["autumn"].lists[1].list_id}
    assert everything(database) == before
    assert purge_rows(database) == []


def test_a_run_anonymises_exactly_the_due_leads(database: Database, world: dict[str, Any]) -> None:
    lead = world["lead"]
    before = numbers(database)
    done, _ = run_purge(database, NOW, "dpo", batch_size=2)
    assert done.counts == DUE_COUNTS
    after = numbers(database)
    assert after == before | {lead[n]: purge_token(lead[n]) for n in DUE}
    with database.session() as session:
        for n in DUE:
            row = session.get_one(Lead, lead[n])
            assert (row.raw_input, row.attributes, row.extension) == ("", {}, None)
            region_alone = NO_PLACE if n == 4 else PlaceTexts("广东", None, None, None, None, None)
            assert place_of(session, row) == region_alone and (row.place_id is None) == (n == 4)
            assert (row.time_zones, row.state) == (["Asia/Shanghai"], before_state(n))
        kept = session.get_one(Lead, lead[2])
        assert (kept.raw_input, kept.attributes) == ("138-0000-0002", {"姓名": "王2"})
        assert place_of(session, kept) == GUANGZHOU
        attempts = session.execute(
            select(Attempt.lead_id, Attempt.e164, Attempt.outcome).order_by(Attempt.id)
        )
        assert [tuple(row) for row in attempts] == [
            (lead[1], purge_token(lead[1]), CallOutcome.ANSWERED),
            (lead[1], purge_token(lead[1]), CallOutcome.ANSWERED),
            (lead[2], number(2), CallOutcome.ANSWERED),
            (lead[3], purge_token(lead[3]), CallOutcome.ANSWERED),
            (lead[8], number(8), CallOutcome.ANSWERED),
        ]
        messages = session.execute(
            select(
                SmsMessage.lead_id,
                SmsMessage.to_e164,
                SmsMessage.body,
                SmsMessage.params,
                SmsMessage.last_error,
            ).order_by(SmsMessage.id)
        )
        assert [tuple(row) for row in messages] == [
            (lead[1], purge_token(lead[1]), "", {}, None),
            (lead[6], number(6), "王6您好，回复TD退订", {"name": "王6"}, None),
            (lead[7], number(7), "王7您好，回复TD退订", {"name": "王7"}, None),
        ]
        assert session.scalars(select(Callback.note)).all() == [None]
        refusal = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "dial.refused")).one()
        assert refusal == {"campaign": "秋季回访", "e164": purge_token(lead[1]), "reason": "outside_hours"}
        dnc = session.execute(select(BlocklistEntry.kind, BlocklistEntry.value)).one()
        assert tuple(dnc) == (BlockKind.DNC, number(4))  # still blocks the number
    [(actor, entity, entity_id, details)] = purge_rows(database)
    assert (actor, entity, entity_id) == ("dpo", "campaign", "秋季回访")
    assert details == {
        "preset": "cn",
        "retention_days": 30,
        "cutoff": CUTOFF.isoformat(),
        **DUE_COUNTS.as_dict(),
    }


def before_state(n: int) -> S:
    return {1: S.DONE, 3: S.EXHAUSTED, 4: S.DNC_BLOCKED}[n]


def test_running_again_changes_nothing_but_is_audited(database: Database, world: dict[str, Any]) -> None:
    run_purge(database, NOW, "dpo", batch_size=2)
    after = everything(database)
    again, _ = run_purge(database, NOW, "dpo", batch_size=2)
    assert again.counts == PurgeCounts()
    assert everything(database) == after
    assert [details["leads"] for *_, details in purge_rows(database)] == [3, 0]


def test_an_interrupted_run_continues_where_it_stopped(
    database: Database, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymise, calls = purge_store._anonymise, []

    def fails_second(session: Any, lead_ids: list[int]) -> None:
        calls.append(lead_ids)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        anonymise(session, lead_ids)

    monkeypatch.setattr(purge_store, "_anonymise", fails_second)
    with pytest.raises(RuntimeError, match="power cut"):
        run_purge(database, NOW, "dpo", batch_size=2)
    lead = world["lead"]
    first = set(calls[0])
    assert first and first < {lead[n] for n in DUE}
    assert {lead_id for lead_id, e164 in numbers(database).items() if e164.startswith("purged:")} == first
    monkeypatch.setattr(purge_store, "_anonymise", anonymise)
    rest, _ = run_purge(database, NOW, "dpo", batch_size=2)
    assert rest.counts.leads == len(DUE) - len(first)
    assert {lead_id for lead_id, e164 in numbers(database).items() if e164.startswith("purged:")} == {
        lead[n] for n in DUE
    }
    # the interrupted run announced all it found due before it started
    assert [details["leads"] for *_, details in purge_rows(database)] == [3, rest.counts.leads]


def test_a_shared_list_goes_once_every_campaign_allows(database: Database, world: dict[str, Any]) -> None:
    """The keep-everything campaign holds the shared list's leads, and lead 8 it dialled."""
    lead = world["lead"]
    run_purge(database, NOW, "dpo", batch_size=2)
    assert {lead[n] for n in (8, 10, 11)}.isdisjoint(
        lead_id for lead_id, e164 in numbers(database).items() if e164.startswith("purged:")
    )
    campaign_store.update(database, "长期保存", CampaignSpec.parse({"retention_days": 365}), BY, trunks=())
    done = run_purge(database, NOW, "dpo", batch_size=2)
    # the shared list is purged (and counted) under the first campaign attaching it; lead 8, dialled
    # 40 days ago by the campaign now keeping a year, stays
    assert [(part.campaign.name, part.counts.leads) for part in done] == [("秋季回访", 2), ("长期保存", 0)]
    assert {lead_id for lead_id, e164 in numbers(database).items() if e164.startswith("purged:")} == {
        lead[n] for n in (*DUE, 10, 11)
    }


@pytest.fixture
def run(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """The CLI with `purge` and `campaign`, on `database`."""
    run = cli_on(database, monkeypatch, tmp_path)
    app = typer.Typer(no_args_is_help=True)
    app.command("purge")(cli.purge.purge)
    app.add_typer(campaign_app, name="campaign")
    monkeypatch.setattr(cli.main, "app", app)
    return run


def test_the_command(
    run: Run, database: Database, world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    before = everything(database)
    with freeze_time(NOW):
        assert run("purge", "--dry-run") == 0
    assert capsys.readouterr().out == (
        "秋季回访 (cn preset, 30 days, cutoff 2026-10-24 01:30 UTC): would anonymise 3 leads, 3 attempts,"
        " 1 SMS messages, 1 callbacks, 1 audit entries, 0 recordings\n"
        "长期保存 (cn preset): kept forever\n"
    )
    assert everything(database) == before and purge_rows(database) == []
    with freeze_time(NOW):
        assert run("purge", "--campaign", "长期保存") == 2
    assert "campaign 长期保存 has no retention period" in capsys.readouterr().err
    with freeze_time(NOW):
        assert run("purge", "--campaign", "秋季回访", "--by", "dpo") == 0
    assert capsys.readouterr().out.startswith(
        "秋季回访 (cn preset, 30 days, cutoff 2026-10-24 01:30 UTC): anonymised 3 leads"
    )
    assert [(actor, details["leads"]) for actor, _, _, details in purge_rows(database)] == [("dpo", 3)]


def test_the_campaign_option(run: Run, database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("campaign", "create", "美国回访", "--preset", "us", "--retention-days", "90") == 2
    assert "the us preset keeps dialing records 24 months: give at least 730 days (got 90)" in (
        capsys.readouterr().err
    )
    assert run("campaign", "create", "美国回访", "--preset", "us", "--retention-days", "800") == 0
    assert campaign_store.load_campaign(database, "美国回访").retention_days == 800
    assert run("campaign", "update", "美国回访", "--retention-days", "forever") == 0
    assert campaign_store.load_campaign(database, "美国回访").retention_days is None
