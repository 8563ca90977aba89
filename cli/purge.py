"""`ringcast purge [--dry-run] [--campaign C] [--by ACTOR]`: anonymise the personal data of finished
leads past their campaign's retention (CMPL-6), with a progress bar on a terminal; thin over
`campaigns.purge_store` (what a purge changes, table by table, is said there).
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from campaigns.persistence.db import Database
from campaigns.purge_store import CampaignPurge, run_purge
from cli.blocklist import os_user
from ringcast.settings import load_settings


def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be anonymised; change nothing."),
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign's leads."),
    by: str | None = typer.Option(None, "--by", help="Who purges, for the audit log [default: OS user]."),
) -> None:
    # its help: `cli.main.COMMANDS`
    now = datetime.now(UTC)
    bar_console = Console(stderr=True)
    with Database.open_migrated(load_settings().database_url) as database:
        if dry_run or not bar_console.is_terminal:
            done = run_purge(database, now, by or os_user(), campaign=campaign, dry_run=dry_run)
        else:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=bar_console, transient=True) as bar:
                tasks: dict[int, TaskID] = {}

                def show(plan: CampaignPurge, leads: int) -> None:  # after each batch
                    key = plan.campaign.campaign_id
                    if key not in tasks:
                        tasks[key] = bar.add_task(f"purging {plan.campaign.name}", total=plan.counts.leads)
                    bar.update(tasks[key], completed=leads)

                done = run_purge(database, now, by or os_user(), campaign=campaign, progress=show)
    for part in done:
        typer.echo(_line(part, dry_run))
    if not done:
        typer.echo("no campaigns")


_COUNTED = {
    "leads": "leads",
    "attempts": "attempts",
    "sms_messages": "SMS messages",
    "callbacks": "callbacks",
    "audit_entries": "audit entries",
    "recordings": "recordings",
}


def _line(part: CampaignPurge, dry_run: bool) -> str:
    """`NAME (cn preset, 30 days, cutoff ...): would anonymise 3 leads, ...`, or `... kept forever`."""
    retention = part.campaign
    if part.cutoff is None:
        return f"{retention.name} ({retention.preset.value} preset): kept forever"
    counts = ", ".join(f"{value:,} {_COUNTED[name]}" for name, value in part.counts.as_dict().items())
    done = "would anonymise" if dry_run else "anonymised"
    return (
        f"{retention.name} ({retention.preset.value} preset, {retention.retention_days} days,"
        f" cutoff {part.cutoff:%Y-%m-%d %H:%M} UTC): {done} {counts}"
    )
