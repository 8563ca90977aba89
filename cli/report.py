"""`ringcast report NAME --from DAY --to DAY`: the reports of issue 8, shown, exported or charted.

Thin over the report builders in `reports/` (each figure defined in docs/metrics.md). Without
`--format`, `--out`'s suffix decides (.csv, .xlsx, .json), else a table is printed. CSV and XLSX
are the list export's writers (UTF-8 with BOM for Excel, formulas neutralised). `--chart F.png`
draws the trend of a report grouped `--by` hour, day or week (`--chart-columns`, default the
report's first rate). A report of several sections (compliance) writes one file per section.
`--queue` narrows the queues report, the only one it applies to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from campaigns.persistence.db import Database
from cli.campaign import open_database
from cli.output import OutputFormat, format_of
from reports.agents_report import agents_report
from reports.campaign_report import DEFAULT_SUCCESS, campaign_report
from reports.compliance_report import compliance_report
from reports.files import write_csv, write_xlsx
from reports.inbound_numbers import inbound_numbers_report
from reports.query import Bucket, ReportQuery
from reports.queues_report import queues_report
from reports.sms_report import sms_report
from reports.tables import Kind, Report, shown
from reports.trunks_report import trunks_report
from ringcast.errors import UserError

console = Console(highlight=False, soft_wrap=True)
WIDE = 8  # columns: a wider report prints one row at a time


class ReportName(StrEnum):
    AGENTS = "agents"
    CAMPAIGN = "campaign"
    COMPLIANCE = "compliance"
    QUEUES = "queues"
    SMS = "sms"
    TRUNKS = "trunks"


@dataclass(frozen=True)
class _Asked:
    """What a report is asked for beyond the query: only some reports read each."""

    success: Sequence[str]  # the campaign report's conversions
    queue: str | None  # the queues report's filter


Builder = Callable[[Database, ReportQuery, _Asked], list[Report]]
_BUILDERS: dict[ReportName, Builder] = {
    ReportName.AGENTS: lambda database, query, asked: [agents_report(database, query)],
    ReportName.CAMPAIGN: lambda database, query, asked: [campaign_report(database, query, asked.success)],
    ReportName.COMPLIANCE: lambda database, query, asked: compliance_report(database, query),
    ReportName.QUEUES: lambda database, query, asked: [queues_report(database, query, asked.queue)],
    ReportName.SMS: lambda database, query, asked: [sms_report(database, query)],
    ReportName.TRUNKS: lambda database, query, asked: [
        trunks_report(database, query),
        *filter(None, [inbound_numbers_report(database, query)]),
    ],
}


def report(
    name: ReportName = typer.Argument(..., help="Which report."),
    first: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD (local to --tz)."),
    last: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD, included."),
    tz: str | None = typer.Option(None, "--tz", help="Time zone of the days and buckets [this machine's]."),
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign."),
    agent: str | None = typer.Option(None, "--agent", help="Only this agent (agent reports)."),
    queue: str | None = typer.Option(None, "--queue", help="Only this queue (queues report)."),
    by: Bucket | None = typer.Option(None, "--by", help="Per hour, day or week."),
    success: str = typer.Option(
        ",".join(DEFAULT_SUCCESS), "--success", help="Disposition codes that convert."
    ),
    output: OutputFormat | None = typer.Option(
        None, "--format", help="table, csv, xlsx or json [--out's suffix]."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write to this file."),
    chart: Path | None = typer.Option(None, "--chart", help="Draw the trend to this PNG (needs --by)."),
    chart_columns: str | None = typer.Option(
        None, "--chart-columns", help="Columns to draw, comma-separated."
    ),
) -> None:
    # its help: `cli.main.COMMANDS`
    query = ReportQuery.parse(first, last, tz, campaign=campaign, agent=agent, by=by)
    if queue is not None and name is not ReportName.QUEUES:
        raise UserError(f"--queue is for the queues report, not {name.value}")
    codes = [code.strip() for code in success.split(",") if code.strip()]
    with open_database() as database:
        reports = _BUILDERS[name](database, query, _Asked(codes, queue))
    chosen = output or _format_of(out)
    if chosen is OutputFormat.TABLE:
        if out is not None:
            raise UserError("--format table prints; give --format csv, xlsx or json to write --out")
        for each in reports:
            _print(each)
    else:
        if out is None:
            raise UserError(f"--format {chosen.value} writes a file: give --out")
        for path, each in zip(_paths(out, reports), reports, strict=True):
            count = _write(each, chosen, path)
            console.print(f"{count:,} rows written to {path}", markup=False)
    if chart is not None:
        first_report = reports[0]
        columns = _chart_columns(first_report, chart_columns)
        from reports import charts  # matplotlib takes half a second to load: only for a chart

        charts.draw(first_report, chart, columns)
        console.print(f"chart of {', '.join(columns)} written to {chart}", markup=False)


def _format_of(out: Path | None) -> OutputFormat:
    return OutputFormat.TABLE if out is None else OutputFormat(format_of(out))


def _paths(out: Path, reports: Sequence[Report]) -> list[Path]:
    if len(reports) == 1:
        return [out]
    slugs = [re.sub(r"[^\w]+", "-", each.title.split(": ")[-1]).strip("-").lower() for each in reports]
    return [out.with_name(f"{out.stem}-{slug}{out.suffix}") for slug in slugs]


def _write(report: Report, chosen: OutputFormat, path: Path) -> int:
    try:
        if chosen is OutputFormat.CSV:
            return write_csv(path, report.header, report.rows)
        if chosen is OutputFormat.XLSX:
            return write_xlsx(path, report.header, report.rows, report.title)
        path.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2, default=str) + "\n")
        return len(report.rows)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None


def _print(report: Report) -> None:
    """A table; a wide report (more columns than a terminal holds) one row at a time, a line a figure."""
    if len(report.columns) <= WIDE:
        table = Table(*report.header, title=report.title)
        for row in report.rows:
            table.add_row(
                *(shown(value, column.kind) for value, column in zip(row, report.columns, strict=True))
            )
        console.print(table)
    else:
        console.print(f"{report.title}: {len(report.rows)} row(s)", markup=False)
        for row in report.rows:
            card = Table("", "", show_header=False, box=None, padding=(0, 1))
            for value, column in zip(row, report.columns, strict=True):
                card.add_row(column.name, shown(value, column.kind))
            console.print(card)
            console.print("")
    for note in report.notes:
        console.print(f"  {note}", markup=False)


def _chart_columns(report: Report, given: str | None) -> list[str]:
    if given:
        return [name.strip() for name in given.split(",") if name.strip()]
    rates = [column.name for column in report.columns if column.kind is Kind.RATE]
    return rates[:1] or [report.columns[-1].name]
