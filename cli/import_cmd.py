"""`ringcast import FILE --list NAME`: load a contact list (IMP-1 … IMP-6); thin over `imports.service`.

Shows a progress bar on a terminal and a summary table; `--json` prints exactly
`{"total_rows", "accepted", "rejected": {reason: count}, "elapsed_s", "rows_per_s"}` on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from campaigns.persistence.db import Database
from cli.blocklist import os_user
from imports.columns import parse_map
from imports.service import ImportRequest, ImportSummary, run_import
from ringcast.settings import load_settings


def import_list(
    file: Annotated[Path, typer.Argument(help="The list: .csv (any delimiter; UTF-8 or GBK) or .xlsx.")],
    list_name: str = typer.Option(..., "--list", help="The list to import into (created if new)."),
    campaign: str | None = typer.Option(None, "--campaign", help="Attach the list to this campaign."),
    region: str | None = typer.Option(
        None, "--region", help="Region of numbers written without a country code [default: settings]."
    ),
    mapping: str | None = typer.Option(
        None, "--map", help="Columns by role or new name: phone=手机号,name=姓名 (a name or 1-based number)."
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="The .xlsx sheet to read [default: the first]."),
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Write every rejected row to this CSV.")
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="Print only the summary, as JSON."),
    by: str | None = typer.Option(None, "--by", help="Who imports, for the audit log [default: OS user]."),
) -> None:
    # its help: `cli.main.COMMANDS`
    settings = load_settings()
    request = ImportRequest(
        path=file,
        list_name=list_name,
        campaign=campaign,
        region=region or settings.default_region,
        mapping=parse_map(mapping),
        sheet=sheet,
        rejects=rejects,
        actor=by or os_user(),
    )
    console = Console(stderr=True)
    with Database(settings.database_url) as database:  # run_import checks the schema
        if console.is_terminal:
            with Progress(
                TextColumn("importing"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("import", total=None)
                summary = run_import(
                    database,
                    request,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        else:
            summary = run_import(database, request)
    if as_json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        Console().print(_table(request, summary))


def _table(request: ImportRequest, summary: ImportSummary) -> Table:
    table = Table(title=f"{request.path.name} → list {request.list_name}", show_header=False)
    table.add_row("rows", f"{summary.total_rows:,}")
    table.add_row("accepted", f"{summary.accepted:,} ({summary.new_leads:,} new leads)")
    for reason, count in summary.rejected.items():
        if count:
            table.add_row(f"rejected: {reason}", f"{count:,}")
    if summary.sms_opted_out:
        table.add_row("opted out of SMS", f"{summary.sms_opted_out:,} (callable, no marketing SMS)")
    table.add_row("phone column", summary.phone_column)
    table.add_row("read as", summary.file_format)
    table.add_row("time", f"{summary.elapsed_s:.1f} s ({summary.rows_per_s:,.0f} rows/s)")
    if request.rejects is not None:
        table.add_row("rejects file", str(request.rejects))
    return table
