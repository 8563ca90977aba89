"""`ringcast sms ...`: send, schedule and follow SMS (SMS-1..8); thin over `sms.outbox` and `sms.store`.

`send` queues one message in the outbox (the engine's sender, or `sms run`, sends it) and prints
its id, or the reason it cannot go (a bad number, an empty or over-long text, an unconfigured
provider: recorded on the message as well) with exit status 1. `status` shows one message,
`outbox` the latest ones and the count per state. `template` keeps message texts with
`{variables}` (checked when saved), `campaign create` queues a template to a list (or one group of
it) for now or later, `consent` and `optout` keep who may get marketing messages. `run` is the
sender alone, for a host that only sends SMS.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from campaigns.config import parse_duration
from campaigns.numbers import typed_number
from campaigns.persistence.models import SmsMessage
from campaigns.persistence.models.enums import CompliancePreset, SmsState
from cli.blocklist import os_user
from cli.campaign import open_database, print_json
from reports.files import write_csv, write_xlsx
from ringcast.errors import UserError
from ringcast.settings import Settings, load_settings
from sms import hangup, outbox, receipts, store
from sms.compose import need_sender
from sms.hangup_rules import RuleTrigger, Trigger
from sms.outbox import DEFAULT_PROVIDER, SmsRequest
from sms.policy import marketing_policy
from sms.service import SmsService, outbox_rules
from sms.templates import KNOWN_VARIABLES, marketing_text, parse_template

sms_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`
template_app = typer.Typer(no_args_is_help=True, help="Message texts with {variables}.")
campaign_app = typer.Typer(no_args_is_help=True, help="Bulk SMS to a list (群发, 定时发送, 分组发送).")
consent_app = typer.Typer(no_args_is_help=True, help="Who agreed to marketing SMS.")
optout_app = typer.Typer(no_args_is_help=True, help="Who asked for no more SMS (退订).")
sms_app.add_typer(template_app, name="template")
sms_app.add_typer(campaign_app, name="campaign")
sms_app.add_typer(consent_app, name="consent")
sms_app.add_typer(optout_app, name="optout")
rule_app = typer.Typer(no_args_is_help=True, help="Hang-up SMS rules (挂机短信): a message after a call.")
sms_app.add_typer(rule_app, name="rule")
console = Console(highlight=False, soft_wrap=True)

BY_HELP = "Who makes the change, for the audit log [default: OS user]."
AT_HELP = "When: 2026-12-01T10:00 (this machine's time zone unless one is given) [default: now]."


def parse_at(text: str | None, now: datetime) -> datetime:
    if text is None:
        return now
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--at {text!r}: give a date and time such as 2026-12-01T10:00") from None
    return (moment if moment.tzinfo else moment.astimezone()).astimezone(UTC)


def _e164(number: str, settings: Settings) -> str:
    return typed_number(number, settings.default_region).e164


@sms_app.command("send")
def send(
    number: str = typer.Argument(..., help="The recipient: +8613812345678 or a national number."),
    text: str = typer.Argument(..., help="The message text."),
    provider: str | None = typer.Option(None, "--provider", help="Through this provider [default: sms.*]."),
    marketing: bool = typer.Option(False, "--marketing", help="A marketing message: consent, hours, caps."),
    sender: str | None = typer.Option(None, "--sender", help="Sender name (签名) [default: sms.sign]."),
    preset: CompliancePreset | None = typer.Option(
        None, "--preset", help="Marketing rules [default: sms.preset]."
    ),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    key: str | None = typer.Option(None, "--key", help="Idempotency key: the same key never sends twice."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Queue one message (SMS-4); exit 1 with the reason when it cannot be sent."""
    settings = load_settings()
    now = datetime.now(UTC)
    body = text
    signed_by = sender or settings.sms.sign
    if marketing:
        policy = marketing_policy(preset or settings.sms.preset)
        body = marketing_text(
            text, sender_name=need_sender(signed_by), opt_out_text=policy.opt_out_text, style=policy.signature
        )
    request = SmsRequest(
        key=key or f"manual:{uuid.uuid4()}",
        to=number,
        body=body,
        provider=provider or DEFAULT_PROVIDER,
        marketing=marketing,
        due_at=parse_at(at, now),
        sender=signed_by,
        preset=preset,
        created_by=by or os_user(),
    )
    with open_database() as database:
        queued = database.in_transaction(outbox.queue, request, now, outbox_rules(settings))
    if as_json:
        print_json(_queued_json(queued))
    elif queued.state is SmsState.FAILED:
        console.print(
            f"SMS {queued.id} to {queued.to} not sent ({queued.reason}): {queued.error}", markup=False
        )
    else:
        again = "" if queued.created else " (this key was queued before: nothing new)"
        console.print(
            f"SMS {queued.id} to {queued.to} {queued.state.value}, {queued.segments} part(s){again}",
            markup=False,
        )
    if queued.state is SmsState.FAILED:
        raise typer.Exit(1)


def _queued_json(queued: outbox.QueuedSms) -> dict[str, Any]:
    return {
        "id": queued.id,
        "key": queued.key,
        "to": queued.to,
        "state": queued.state.value,
        "segments": queued.segments,
        "reason": queued.reason,
        "error": queued.error,
        "created": queued.created,
    }


def _message_json(message: SmsMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "key": message.idempotency_key,
        "to": message.to_e164,
        "state": message.state.value,
        "marketing": message.marketing,
        "provider": message.provider,
        "segments": message.segments,
        "encoding": message.encoding.value,
        "tries": message.tries,
        "reason": message.reason,
        "error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "created_at": message.created_at.isoformat(),
        "next_try_at": message.next_try_at.isoformat() if message.next_try_at else None,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None,
        "body": message.body,
    }


@sms_app.command("status")
def status(
    message: str = typer.Argument(..., help="The message's id or idempotency key."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One message: its state, tries, provider id, reason."""
    with open_database() as database, database.session() as session:
        query = select(SmsMessage).where(SmsMessage.idempotency_key == message)
        if message.isdigit():
            query = select(SmsMessage).where(SmsMessage.id == int(message))
        found = session.scalar(query)
        if found is None:
            raise UserError(f"no SMS with id or key {message!r}", hint="see `ringcast sms outbox`")
        data = _message_json(found)
    if as_json:
        print_json(data)
        return
    for field, value in data.items():
        if value is not None:
            console.print(f"{field:>20}: {value}", markup=False)


@sms_app.command("outbox")
def outbox_list(
    state: SmsState | None = typer.Option(None, "--state", help="Only messages in this state."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many of the latest to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The latest messages and how many are in each state."""
    with open_database() as database, database.session() as session:
        counts = dict(
            session.execute(select(SmsMessage.state, func.count()).group_by(SmsMessage.state)).all()
        )
        query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
        if state is not None:
            query = query.where(SmsMessage.state == state)
        latest = [_message_json(message) for message in session.scalars(query)]
    by_state = {state.value: counts.get(state, 0) for state in SmsState}
    if as_json:
        print_json({"counts": by_state, "messages": latest})
        return
    console.print("  ".join(f"{name} {count:,}" for name, count in by_state.items()), markup=False)
    table = Table("id", "to", "state", "tries", "reason", "created")
    for row in latest:
        table.add_row(
            str(row["id"]), row["to"], row["state"], str(row["tries"]), row["reason"] or "", row["created_at"]
        )
    console.print(table)


@template_app.command("save")
def template_save(
    name: str = typer.Argument(..., help="The template's name."),
    text: str = typer.Option(..., "--text", help="The text, with {variables}: see `sms template variables`."),
    marketing: bool = typer.Option(False, "--marketing", help="Messages from it are marketing."),
    provider_template: str | None = typer.Option(
        None, "--provider-template", help="The provider's template code (Aliyun SMS_123456)."
    ),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Create a template, or replace its text; an unknown {variable} is refused."""
    settings = load_settings()
    with open_database() as database:
        _, created = database.in_transaction(
            store.save_template,
            name,
            text,
            marketing=marketing,
            provider_template_code=provider_template,
            actor=by or os_user(),
            now=datetime.now(UTC),
            max_segments=settings.sms.max_segments,
        )
    template = parse_template(text, settings.sms.max_segments)
    uses = ", ".join(template.variables) or "no variables"
    console.print(f"{'created' if created else 'updated'} SMS template {name} ({uses})", markup=False)


@template_app.command("show")
def template_show(name: str = typer.Argument(..., help="The template's name.")) -> None:
    """A template's text and what it uses."""
    with open_database() as database, database.session() as session:
        found = store.find_template(session, name)
        console.print(
            f"{found.name} ({'marketing' if found.marketing else 'transactional'}): {found.body}",
            markup=False,
        )


@template_app.command("list")
def template_list() -> None:
    """Every template."""
    with open_database() as database, database.session() as session:
        table = Table("name", "kind", "text")
        for found in store.list_templates(session):
            table.add_row(found.name, "marketing" if found.marketing else "transactional", found.body)
    console.print(table)


@template_app.command("variables")
def template_variables() -> None:
    """The {variables} a template may use."""
    for variable, meaning in KNOWN_VARIABLES.items():
        console.print(f"{{{variable}}}  {meaning}", markup=False)


@campaign_app.command("create")
def campaign_create(
    name: str = typer.Argument(..., help="The SMS campaign's name."),
    list_name: str = typer.Option(..., "--list", help="The contact list to send to."),
    template: str = typer.Option(..., "--template", help="The template to send."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    group: str | None = typer.Option(None, "--group", help="Only leads whose group / 分组 column is this."),
    sender: str | None = typer.Option(None, "--sender", help="Sender name (签名) [default: sms.sign]."),
    preset: CompliancePreset | None = typer.Option(
        None, "--preset", help="Marketing rules [default: sms.preset]."
    ),
    provider: str | None = typer.Option(None, "--provider", help="Through this provider [default: sms.*]."),
    link: str | None = typer.Option(None, "--link", help="The {link} the text may carry."),
    callback_number: str | None = typer.Option(None, "--callback-number", help="The {callback_number}."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Queue a template to every lead of a list (or group), now or at --at (SMS-3)."""
    settings = load_settings()
    now = datetime.now(UTC)
    order = store.CampaignOrder(
        name=name,
        list_name=list_name,
        template_name=template,
        at=parse_at(at, now),
        preset=preset or settings.sms.preset,
        provider=provider or DEFAULT_PROVIDER,
        sender=sender or settings.sms.sign,
        group=group,
        link=link,
        callback_number=callback_number,
    )
    with open_database() as database, console.status(f"queueing SMS campaign {name} ..."):
        campaign = database.in_transaction(
            store.create_campaign, order, outbox_rules(settings), by or os_user(), now
        )
    counts = ", ".join(f"{count:,} {what}" for what, count in sorted(campaign.counts.items()))
    console.print(f"SMS campaign {name}: {counts}; due {campaign.scheduled_at.isoformat()}", markup=False)


@campaign_app.command("show")
def campaign_show(
    name: str = typer.Argument(..., help="The SMS campaign's name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What a campaign's messages have become, by state and reason."""
    with open_database() as database, database.session() as session:
        campaign = store.find_campaign(session, name)
        rows = session.execute(
            select(SmsMessage.state, SmsMessage.reason, func.count())
            .where(SmsMessage.sms_campaign_id == campaign.id)
            .group_by(SmsMessage.state, SmsMessage.reason)
        ).all()
        data: dict[str, Any] = {
            "name": campaign.name,
            "scheduled_at": campaign.scheduled_at.isoformat(),
            "queued_at_creation": campaign.counts,
            "now": [
                {"state": state.value, "reason": reason, "count": count} for state, reason, count in rows
            ],
        }
    if as_json:
        print_json(data)
        return
    console.print(f"SMS campaign {name}, due {data['scheduled_at']}", markup=False)
    for row in data["now"]:
        reason = f" ({row['reason']})" if row["reason"] else ""
        console.print(f"  {row['state']}{reason}: {row['count']:,}", markup=False)


@campaign_app.command("list")
def campaign_list() -> None:
    """Every SMS campaign."""
    with open_database() as database, database.session() as session:
        table = Table("name", "due", "queued at creation")
        for campaign in store.list_campaigns(session):
            counts = ", ".join(f"{count:,} {what}" for what, count in sorted(campaign.counts.items()))
            table.add_row(campaign.name, campaign.scheduled_at.isoformat(), counts)
    console.print(table)


@consent_app.command("add")
def consent_add(
    number: str = typer.Argument(..., help="The number that agreed."),
    source: str = typer.Option(..., "--source", help="Where the consent came from (web_form, call, ...)."),
    proof: str | None = typer.Option(None, "--proof", help="What shows it: a form id, a recording, a note."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Record a number's consent to marketing SMS."""
    e164 = _e164(number, load_settings())
    with open_database() as database:
        added = database.in_transaction(
            store.add_consent, e164, source, proof, by or os_user(), datetime.now(UTC)
        )
    console.print(f"consent of {e164} {'recorded' if added else 'was already recorded'}", markup=False)


@consent_app.command("remove")
def consent_remove(
    number: str = typer.Argument(..., help="The number whose consent ends."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Forget a number's consent."""
    e164 = _e164(number, load_settings())
    with open_database() as database:
        gone = database.in_transaction(store.remove_consent, e164, by or os_user(), datetime.now(UTC))
    console.print(f"consent of {e164} {'removed' if gone else 'was not recorded'}", markup=False)


@optout_app.command("add")
def optout_add(
    number: str = typer.Argument(..., help="The number that wants no more SMS."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Opt a number out at once; its queued messages are cancelled."""
    e164 = _e164(number, load_settings())
    actor = by or os_user()
    with open_database() as database:
        cancelled = database.in_transaction(receipts.opt_out, e164, None, "manual", actor, datetime.now(UTC))
    console.print(f"{e164} opted out; {cancelled} queued message(s) cancelled", markup=False)


@optout_app.command("remove")
def optout_remove(
    number: str = typer.Argument(..., help="The number that asked to get SMS again."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Take a number off the opt-out list."""
    e164 = _e164(number, load_settings())
    with open_database() as database:
        gone = database.in_transaction(store.remove_opt_out, e164, by or os_user(), datetime.now(UTC))
    console.print(f"{e164} {'is no longer opted out' if gone else 'was not opted out'}", markup=False)


OPT_OUT_COLUMNS = ["e164", "keyword", "source", "at"]


@optout_app.command("list")
def optout_list(
    out: Path | None = typer.Option(None, "--out", help="Write them to a .csv or .xlsx file instead."),
) -> None:
    """Every opted-out number, with the keyword and when (for compliance officers)."""
    with open_database() as database, database.session() as session:
        rows = [
            [row.e164, row.keyword or "", row.source, row.at.isoformat()] for row in store.opt_outs(session)
        ]
    if out is None:
        table = Table(*OPT_OUT_COLUMNS)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    if out.suffix.lower() == ".xlsx":
        count = write_xlsx(out, OPT_OUT_COLUMNS, rows, "SMS opt-outs")
    elif out.suffix.lower() == ".csv":
        count = write_csv(out, OPT_OUT_COLUMNS, rows)
    else:
        raise UserError(f"--out {out}: give a .csv or .xlsx file")
    console.print(f"{count:,} opt-outs written to {out}", markup=False)


@sms_app.command("optouts")
def optouts(
    out: Path | None = typer.Option(None, "--out", help="Write them to a .csv or .xlsx file instead."),
) -> None:
    """Every opted-out number (the same as `sms optout list`)."""
    optout_list(out)


@rule_app.command("save")
def rule_save(
    name: str = typer.Argument(..., help="The rule's name."),
    on: Trigger = typer.Option(..., "--on", help="When it fires."),
    template: str = typer.Option(..., "--template", help="The template to send."),
    campaign: str | None = typer.Option(None, "--campaign", help="For this campaign's calls."),
    inbound_number: str | None = typer.Option(None, "--inbound-number", help="For calls to this DID."),
    disposition: str | None = typer.Option(None, "--disposition", help="With --on disposition: the code."),
    max_score: int | None = typer.Option(None, "--max-score", help="With --on survey_score: at or below."),
    delay: str = typer.Option("0", "--delay", help="How long after the call: 0, 30s, 5m."),
    provider: str | None = typer.Option(None, "--provider", help="Through this provider [default: sms.*]."),
    sender: str | None = typer.Option(None, "--sender", help="Sender name (签名) for a marketing template."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Create or replace a hang-up SMS rule (SMS-1); it is on until disabled."""
    try:
        delay_s = round(parse_duration(delay))
    except ValueError as error:
        raise UserError(f"--delay {delay!r}: {error}") from None
    when = RuleTrigger(on, disposition, max_score)
    with open_database() as database:
        _, created = database.in_transaction(
            hangup.save_rule,
            name,
            when,
            template,
            campaign=campaign,
            inbound_number=inbound_number,
            delay_s=delay_s,
            provider=provider,
            sender=sender,
            actor=by or os_user(),
            now=datetime.now(UTC),
        )
    console.print(
        f"{'created' if created else 'updated'} hang-up SMS rule {name}: on {on.value}", markup=False
    )


@rule_app.command("list")
def rule_list() -> None:
    """Every hang-up SMS rule."""
    with open_database() as database, database.session() as session:
        table = Table("name", "for", "on", "template", "delay", "enabled")
        for rule, template, campaign in hangup.list_rules(session):
            where = f"campaign {campaign}" if campaign else f"DID {rule.inbound_number}"
            on = rule.trigger + (f"={rule.disposition}" if rule.disposition else "")
            on += f"<={rule.max_score}" if rule.max_score is not None else ""
            table.add_row(rule.name, where, on, template, f"{rule.delay_s}s", "yes" if rule.enabled else "no")
    console.print(table)


def _switch(name: str, enabled: bool, by: str | None) -> None:
    with open_database() as database:
        database.in_transaction(hangup.set_enabled, name, enabled, by or os_user(), datetime.now(UTC))
    console.print(f"hang-up SMS rule {name} {'enabled' if enabled else 'disabled'}", markup=False)


@rule_app.command("enable")
def rule_enable(
    name: str = typer.Argument(..., help="The rule's name."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Switch a rule on."""
    _switch(name, True, by)


@rule_app.command("disable")
def rule_disable(
    name: str = typer.Argument(..., help="The rule's name."),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
) -> None:
    """Switch a rule off (it is kept)."""
    _switch(name, False, by)


@sms_app.command("run")
def run() -> None:
    """Run the SMS sender alone until interrupted (the engine runs one too)."""
    settings = load_settings()
    if not settings.sms.providers:
        raise UserError("no SMS provider configured", hint="set sms.providers.<name> in the config file")
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    database = open_database()
    service = SmsService(database, settings)
    try:
        await service.run(stop)
    finally:
        await service.aclose()
        await asyncio.to_thread(database.dispose)
