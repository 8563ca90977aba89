"""`ringcast dnc|blacklist|whitelist|vip ...`: the number lists (CMPL-1, DIAL-8, ACD-3).

Who must not be called (`dnc`, `blacklist`, which also refuses inbound callers, ACD-10), who may be
called beyond a campaign's reach (`whitelist`), and whose inbound calls jump the queue (`vip`,
贵宾名单: global only, no `--campaign`). The apps are built by one factory and differ only in the
list they manage. Numbers are normalised like imported ones (`+8613800138000`, `138 0013 8000` and
`0086 138...` are one entry); a `--prefix` entry is written in E.164 form (`+86170`). `--expires`
takes a date (listed through that day, machine time zone), a date and time, or a duration (`30d`,
`12h`). `check NUMBER` prints whether and why the number is on the list (blocked, for DNC and the
blacklist) and exits 1 if it is (0 if not), so scripts can use it. Every change is audited with
`--by` (default: the OS user).
"""

from __future__ import annotations

import csv
import getpass
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from campaigns.compliance import blocklist_store as store
from campaigns.compliance.blocklist import BlockEntry, Blocklist, blocks
from campaigns.persistence.db import Database
from campaigns.persistence.models.enums import BlockKind, BlockMatch, BlockScope
from imports.columns import resolve
from imports.numbers import NumberInfo, NumberNormaliser
from imports.reader import open_table
from imports.sniff import FileKind, sniff
from ringcast.errors import UserError
from ringcast.settings import load_settings

_DURATION = re.compile(r"(\d+)\s*([dhm])")
_PREFIX = re.compile(r"\+\d{1,15}")
EXPORT_COLUMNS = (
    "value",
    "match",
    "scope",
    "campaign",
    "reason",
    "source",
    "expires_at",
    "added_by",
    "added_at",
)


def os_user() -> str:
    """The operating-system user: who made a change when `--by` is not given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """'2026-12-31' (through that local day), '2026-12-31T18:00', '30d', '12h' -> an aware UTC time."""
    if text is None:
        return None
    duration = _DURATION.fullmatch(text.strip())
    if duration:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[duration[2]]
        return now + timedelta(**{unit: int(duration[1])})
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip()) + timedelta(days=1)
            return datetime.combine(day, time()).astimezone().astimezone(UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--expires {text!r}: not a date, a date and time, or a duration like 30d") from None
    return (moment if moment.tzinfo else moment.astimezone()).astimezone(UTC)


def _value(number: str, prefix: bool, region: str) -> str:
    if prefix:
        if not _PREFIX.fullmatch(number.strip()):
            raise UserError(f"prefix {number!r} must be written in E.164 form, e.g. +86170")
        return number.strip()
    normalised = NumberNormaliser(region).normalise(number)
    if not isinstance(normalised, NumberInfo):
        raise UserError(f"{number!r} is not a valid phone number: {normalised.detail}")
    return normalised.e164


def blocklist_app(kind: BlockKind, title: str, *, per_campaign: bool = True) -> typer.Typer:
    """The command group managing one list (`dnc`, `blacklist`, `whitelist` or `vip`); a list not
    `per_campaign` has global entries only and refuses `--campaign`."""
    app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`

    def campaign_of(connection: Connection, campaign: str | None) -> int | None:
        if campaign is not None and not per_campaign:
            raise UserError(f"--campaign: the {kind.value} list has global entries only")
        return store.campaign_id(connection, campaign)

    def entry(number: str, prefix: bool, campaign_id: int | None) -> BlockEntry:
        return BlockEntry(
            kind=kind,
            value=_value(number, prefix, load_settings().default_region),
            match=BlockMatch.PREFIX if prefix else BlockMatch.EXACT,
            scope=BlockScope.CAMPAIGN if campaign_id is not None else BlockScope.GLOBAL,
            campaign_id=campaign_id,
        )

    @app.command("add")
    def add(
        number: str = typer.Argument(..., help="A phone number, or with --prefix the start of numbers."),
        prefix: bool = typer.Option(False, "--prefix", help="Block every number starting with NUMBER."),
        campaign: str | None = typer.Option(
            None, "--campaign", help="Only for this campaign [default: all].", hidden=not per_campaign
        ),
        reason: str | None = typer.Option(None, "--reason", help="Why (客户投诉, 本人要求, ...)."),
        source: str | None = typer.Option(None, "--source", help="Where the request came from."),
        expires: str | None = typer.Option(None, "--expires", help="2026-12-31, 2026-12-31T18:00 or 30d."),
        by: str | None = typer.Option(None, "--by", help="Who makes the change [default: OS user]."),
    ) -> None:
        """Add a number or prefix (or update its reason, source and expiry)."""
        now = datetime.now(UTC)
        with _database() as database:
            with database.connect() as connection:
                campaign_id = campaign_of(connection, campaign)
            new = replace(
                entry(number, prefix, campaign_id),
                reason=reason,
                source=source,
                expires_at=parse_expiry(expires, now),
            )
            outcome = store.add(database, new, store.Change(by or os_user(), now))
        typer.echo(f"{outcome}: {new.describe()}")

    @app.command("remove")
    def remove(
        number: str = typer.Argument(..., help="The number or prefix to remove."),
        prefix: bool = typer.Option(False, "--prefix", help="NUMBER is a prefix entry."),
        campaign: str | None = typer.Option(
            None, "--campaign", help="The campaign entry [default: global].", hidden=not per_campaign
        ),
        by: str | None = typer.Option(None, "--by", help="Who makes the change [default: OS user]."),
    ) -> None:
        """Remove a number or prefix."""
        with _database() as database:
            with database.connect() as connection:
                campaign_id = campaign_of(connection, campaign)
            gone = entry(number, prefix, campaign_id)
            store.remove(database, gone, store.Change(by or os_user(), datetime.now(UTC)))
        typer.echo(f"removed: {gone.value} from the {title}")

    @app.command("import")
    def import_file(
        file: Annotated[
            Path, typer.Argument(help="A CSV or XLSX file with a phone column (like a contact list).")
        ],
        campaign: str | None = typer.Option(
            None, "--campaign", help="Only for this campaign [default: all].", hidden=not per_campaign
        ),
        reason: str | None = typer.Option(None, "--reason", help="Why, for every entry."),
        source: str | None = typer.Option(
            None, "--source", help="Where it came from [default: import:FILE]."
        ),
        expires: str | None = typer.Option(None, "--expires", help="2026-12-31, 2026-12-31T18:00 or 30d."),
        by: str | None = typer.Option(None, "--by", help="Who makes the change [default: OS user]."),
    ) -> None:
        """Add every valid number of a file; numbers already on the list are skipped."""
        now = datetime.now(UTC)
        kind_of_file = sniff(file)
        skipped = _Skipped()
        with _database() as database:
            with database.connect() as connection:
                campaign_id = campaign_of(connection, campaign)
            template = BlockEntry(
                kind=kind,
                value="",
                scope=BlockScope.CAMPAIGN if campaign_id is not None else BlockScope.GLOBAL,
                campaign_id=campaign_id,
                reason=reason,
                source=source or f"import:{file.name}"[:64],
                expires_at=parse_expiry(expires, now),
            )
            entries = _file_entries(file, kind_of_file, template, skipped)
            added, there = store.import_entries(
                database,
                kind,
                entries,
                store.Change(by or os_user(), now),
                file=file.name,
                sha256=kind_of_file.sha256,
            )
        typer.echo(f"{added:,} added, {there:,} already on the {title}, {skipped.count:,} not valid numbers")
        for example in skipped.examples:
            typer.echo(f"  skipped {example}")

    @app.command("export")
    def export(out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")]) -> None:
        """Write every entry to a CSV file."""
        count = 0
        with _database() as database, out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, EXPORT_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for row in store.export_entries(database, kind):
                writer.writerow(row)
                count += 1
        typer.echo(f"{count:,} entries written to {out}")

    @app.command("check")
    def check(
        number: str = typer.Argument(..., help="The phone number to check."),
        campaign: str | None = typer.Option(
            None, "--campaign", help="Check for this campaign [default: global].", hidden=not per_campaign
        ),
    ) -> int:
        """Say whether NUMBER is on the list and why; exit 1 if it is."""
        e164 = _value(number, False, load_settings().default_region)
        with _database() as database, database.connect() as connection:
            campaign_id = campaign_of(connection, campaign)
            entries = store.entries_for(connection, e164)
        found = Blocklist(entries).entry_of(kind, e164, campaign_id, datetime.now(UTC))
        if found is None:
            typer.echo(f"{e164} is not on the {title}")
            return 0
        typer.echo(f"{e164} is {'blocked' if blocks(kind) else 'listed'}: {found.describe()}")
        return 1

    return app


def _database() -> Database:
    return Database.open_migrated(load_settings().database_url)


@dataclass
class _Skipped:
    """Rows of an imported file without a valid number: how many, and the first few."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < 10:
            self.examples.append(example)


def _file_entries(
    file: Path, kind: FileKind, template: BlockEntry, skipped: _Skipped
) -> Iterator[BlockEntry]:
    """One entry per valid number of the file's phone column (found as for a contact list)."""
    table = open_table(file, kind)
    normaliser = NumberNormaliser(load_settings().default_region)
    try:
        rows = table.rows()
        sample = list(islice(rows, 200))
        columns = resolve(
            table.header,
            {},
            [row.cells for row in sample],
            lambda cell: isinstance(normaliser.normalise(cell), NumberInfo),
        )
        for row in chain(sample, rows):
            raw = row.cells[columns.phone] if columns.phone < len(row.cells) else ""
            number = normaliser.normalise(raw)
            if isinstance(number, NumberInfo):
                yield replace(template, value=number.e164)
            else:
                skipped.add(f"line {row.line}: {raw!r} ({number.detail})")
    finally:
        table.close()


dnc_app = blocklist_app(BlockKind.DNC, "do-not-call list (免打扰)")
blacklist_app = blocklist_app(BlockKind.BLACKLIST, "blacklist (黑名单)")
whitelist_app = blocklist_app(
    BlockKind.WHITELIST, "outbound whitelist (外呼白名单): dialled beyond a campaign's reach"
)
vip_app = blocklist_app(
    BlockKind.VIP, "VIP list (贵宾名单): inbound callers served first", per_campaign=False
)
