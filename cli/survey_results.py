"""`ringcast survey results|export NAME`: a survey's results (SRV-3) and its responses, shown or written.

Two command functions for `survey_app` to register (`survey_app.command("results")(results)`, the same
for `export`); the figures and their definitions are in `reports/surveys.py`. Without `--format`, the
format is `--out`'s suffix (.csv, .xlsx or .json), else `results` prints a table. CSV and XLSX are
written by the list export's writers (UTF-8 with a BOM, which Excel needs for Chinese; text that a
spreadsheet would run as a formula neutralised); JSON is UTF-8. `--since` and `--until` are UTC
days, both included; `--queue Q` keeps the responses of the inbound calls queue Q served last
(SRV-2), and `--by queue` groups by that queue. An unknown survey or queue, a bad day or a file
that cannot be written is a `UserError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.campaign import open_database, print_json
from cli.output import OutputFormat, format_of
from reports.files import write_csv, write_xlsx
from reports.survey_export import export_header, response_rows
from reports.surveys import (
    By,
    Period,
    display_rows,
    result_header,
    result_rows,
    results_json,
    survey_results,
)
from ringcast.errors import UserError

SINCE_HELP = "First UTC day, YYYY-MM-DD (default: the first response)."
UNTIL_HELP = "Last UTC day, YYYY-MM-DD, included (default: the last response)."
QUEUE_HELP = "Only the responses of inbound calls this queue served last (default: all)."


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


def results(
    name: str = typer.Argument(..., help="The survey's name."),
    by: By | None = typer.Option(
        None, "--by", help="A group per agent, campaign, queue or UTC day (default: the whole survey)."
    ),
    output_format: OutputFormat | None = typer.Option(
        None, "--format", help="What to print or write (default: --out's suffix, else a table)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: print)."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    queue: str | None = typer.Option(None, "--queue", help=QUEUE_HELP),
) -> None:
    """Responses, completion rate, answers per key, CSAT and mean score of score questions."""
    period = Period.parse(since, until)
    chosen = output_format or (OutputFormat(format_of(out)) if out else OutputFormat.TABLE)
    if out is None and chosen in (OutputFormat.CSV, OutputFormat.XLSX):
        raise UserError(f"--format {chosen} writes a file", hint="give --out FILE")
    if out is not None and chosen is OutputFormat.TABLE:
        raise UserError(
            "--format table is printed, not written to --out", hint="give --format csv, xlsx or json"
        )
    with open_database() as database:
        report = survey_results(database, name, by, period, queue)
    if chosen is OutputFormat.TABLE:
        _print_table(result_header(by), display_rows(report), report.survey)
    elif out is None:
        print_json(results_json(report))
    else:
        with _writing(out):
            if chosen is OutputFormat.JSON:
                out.write_text(json.dumps(results_json(report), ensure_ascii=False, indent=2) + "\n", "utf-8")
            else:
                _write_rows(out, chosen, result_header(by), result_rows(report))
        typer.echo(f"results of survey {name} written to {out}")


def export(
    name: str = typer.Argument(..., help="The survey's name."),
    output_format: ExportFormat | None = typer.Option(
        None, "--format", help="What to write (default: --out's suffix)."
    ),
    out: Path = typer.Option(..., "--out", help="The file to write: .csv, .xlsx or .json."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    queue: str | None = typer.Option(None, "--queue", help=QUEUE_HELP),
) -> None:
    """Write one row per response: its call, campaign, agent, number, queue, then each key and meaning."""
    period = Period.parse(since, until)
    chosen = output_format or ExportFormat(format_of(out))
    with (
        open_database() as database,
        response_rows(database, name, period, queue) as (questions, rows),
        _writing(out),
    ):
        if chosen is ExportFormat.JSON:
            count = _write_json(out, (row.as_json() for row in rows))
        else:
            count = _write_rows(out, chosen, export_header(questions), (row.cells(questions) for row in rows))
    typer.echo(f"{count:,} responses of survey {name} written to {out}")


def _print_table(header: list[str], rows: list[list[str]], survey: str) -> None:
    console = Console(highlight=False)
    if not rows:
        console.print(f"survey {survey}: no responses", markup=False)
        return
    table = Table(*header, title=Text(f"survey {survey}"))
    for row in rows:
        table.add_row(*map(Text, row))  # names and meanings are not markup
    console.print(table)


def _write_rows(out: Path, chosen: str, header: list[str], rows: Iterator[list[Any]]) -> int:
    return write_xlsx(out, header, rows, "survey") if chosen == "xlsx" else write_csv(out, header, rows)


def _write_json(out: Path, items: Iterator[dict[str, Any]]) -> int:
    """A JSON array, one item per line, written as the items come."""
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for item in items:
            handle.write(("," if count else "") + "\n" + json.dumps(item, ensure_ascii=False))
            count += 1
        handle.write("\n]\n" if count else "]\n")
    return count


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise UserError(
            f"cannot write {out}: {error.strerror}", hint="check that its directory exists and is writable"
        ) from None
