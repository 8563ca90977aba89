"""`ringcast list ...`: the contact lists: `ls`, `show NAME`, `export NAME --out FILE` (IMP-7)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import CampaignList, ContactList, Lead, ListImport, NumberPlace
from imports.export import export_list
from ringcast.errors import UserError
from ringcast.settings import load_settings

list_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`


@list_app.command("ls")
def ls() -> None:
    """Every list with its number of leads and when it was last imported."""
    table = Table("list", "leads", "campaigns", "last import", "file")
    with Database.open_migrated(load_settings().database_url) as database, database.session() as session:
        leads = select(Lead.list_id, func.count().label("n")).group_by(Lead.list_id).subquery()
        campaigns = (
            select(CampaignList.list_id, func.count().label("n")).group_by(CampaignList.list_id).subquery()
        )
        rows = session.execute(
            select(ContactList, leads.c.n, campaigns.c.n)
            .outerjoin(leads, leads.c.list_id == ContactList.id)
            .outerjoin(campaigns, campaigns.c.list_id == ContactList.id)
            .order_by(ContactList.name)
        )
        for contact_list, lead_count, campaign_count in rows:
            imported = (
                contact_list.imported_at.isoformat(timespec="seconds") if contact_list.imported_at else "-"
            )
            table.add_row(
                contact_list.name,
                f"{lead_count or 0:,}",
                str(campaign_count or 0),
                imported,
                contact_list.source_file or "",
            )
    Console().print(table)


@list_app.command("show")
def show(name: str = typer.Argument(..., help="The list's name.")) -> None:
    """A list's leads by number type and region, SMS opt-outs, and its imports."""
    console = Console()
    with Database.open_migrated(load_settings().database_url) as database, database.session() as session:
        list_id = session.scalar(select(ContactList.id).where(ContactList.name == name))
        if list_id is None:
            raise UserError(f"no list named {name!r}", hint="`ringcast list ls` shows the lists")
        by_type = session.execute(
            select(Lead.number_type, func.count()).where(Lead.list_id == list_id).group_by(Lead.number_type)
        ).all()
        regions = session.execute(
            select(NumberPlace.region, func.count().label("n"))
            .select_from(Lead)
            .outerjoin(NumberPlace, NumberPlace.id == Lead.place_id)
            .where(Lead.list_id == list_id)
            .group_by(NumberPlace.region)
            .order_by(func.count().desc())
            .limit(10)
        ).all()
        opted_out = session.scalar(select(func.count()).where(Lead.list_id == list_id, Lead.sms_opt_out))
        imports = session.scalars(
            select(ListImport).where(ListImport.list_id == list_id).order_by(ListImport.started_at)
        ).all()
    types = Table("number type", "leads", title=f"list {name}")
    for number_type, count in by_type:
        types.add_row(number_type.value if number_type else "-", f"{count:,}")
    console.print(types)
    top = Table("region (号码归属地)", "leads", title="top regions")
    for region, count in regions:
        top.add_row(region or "-", f"{count:,}")
    console.print(top)
    console.print(f"opted out of SMS: {opted_out or 0:,}")
    history = Table("file", "by", "finished", "rows", "accepted", "rejected", title="imports")
    for entry in imports:
        rejected = ", ".join(f"{reason} {count}" for reason, count in entry.rejected.items() if count)
        finished = entry.finished_at.isoformat(timespec="seconds") if entry.finished_at else "-"
        history.add_row(
            entry.file_name, entry.actor, finished, f"{entry.total_rows:,}", f"{entry.accepted:,}", rejected
        )
    console.print(history)


@list_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="The list's name.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write: .csv or .xlsx.")],
) -> None:
    """Write a list's leads, their facts and attributes to CSV or XLSX (formulas neutralised)."""
    with Database.open_migrated(load_settings().database_url) as database:
        count = export_list(database, name, out)
    typer.echo(f"{count:,} leads written to {out}")
