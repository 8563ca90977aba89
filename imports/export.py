"""List export (IMP-7): a list's leads as CSV or XLSX, safe to open in a spreadsheet.

Columns: `source_line`, `e164`, the number's type, region, city and carrier (Chinese, then
English), time zones, extension, SMS opt-out, then every attribute the files had, in the order
the files had them. Any cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return)
gets a leading apostrophe, so a spreadsheet shows it as text instead of running it as a formula
(CSV injection); `e164` is ringcast's own validated value and is written exactly. Rows stream
from the database and to the file, so a list of millions exports in flat memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList, Lead, ListImport, NumberPlace
from reports.files import neutralise, write_csv, write_xlsx
from ringcast.errors import UserError

FIXED_COLUMNS = (
    "source_line",
    "e164",
    "type",
    "region",
    "city",
    "carrier",
    "region_en",
    "city_en",
    "carrier_en",
    "time_zones",
    "extension",
    "sms_opt_out",
)
_BATCH = 10_000


def export_list(database: Database, name: str, out: Path) -> int:
    """Write list `name` to `out` (.csv or .xlsx); return the number of leads written."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"cannot export to {out.name}: the file must end in .csv or .xlsx")
    with database.connect() as connection:
        list_id = connection.execute(select(ContactList.id).where(ContactList.name == name)).scalar()
        if list_id is None:
            raise UserError(f"no list named {name!r}", hint="`ringcast list ls` shows the lists")
        names = _attribute_names(connection, list_id)
        header = [*FIXED_COLUMNS, *map(neutralise, names)]
        rows = _rows(connection, list_id, names)
        try:
            return (
                write_csv(out, header, rows) if suffix == ".csv" else write_xlsx(out, header, rows, "leads")
            )
        except OSError as error:
            raise UserError(f"cannot write {out}: {error.strerror}") from None


def _attribute_names(connection: Connection, list_id: int) -> list[str]:
    """The files' columns in their order (as the imports recorded them), then any other attribute."""
    names: dict[str, None] = {}
    recorded = select(ListImport.attributes).where(ListImport.list_id == list_id).order_by(ListImport.id)
    for (columns,) in connection.execute(recorded):
        names.update(dict.fromkeys(columns))
    query = select(Lead.attributes).where(Lead.list_id == list_id).order_by(Lead.source_line, Lead.id)
    for partition in connection.execution_options(stream_results=True).execute(query).partitions(_BATCH):
        for (attributes,) in partition:
            names.update(dict.fromkeys(attributes))
    return [name for name in names if name not in FIXED_COLUMNS]


def _rows(connection: Connection, list_id: int, names: list[str]) -> Iterator[list[Any]]:
    query = (
        select(
            Lead.source_line,
            Lead.e164,
            Lead.number_type,
            NumberPlace.region,
            NumberPlace.city,
            NumberPlace.carrier,
            NumberPlace.region_en,
            NumberPlace.city_en,
            NumberPlace.carrier_en,
            Lead.time_zones,
            Lead.extension,
            Lead.sms_opt_out,
            Lead.attributes,
        )
        .outerjoin(NumberPlace, NumberPlace.id == Lead.place_id)
        .where(Lead.list_id == list_id)
        .order_by(Lead.source_line, Lead.id)
    )
    for partition in connection.execution_options(stream_results=True).execute(query).partitions(_BATCH):
        for line, e164, kind, *texts, zones, extension, opted_out, attributes in partition:
            yield [
                line,
                e164,
                kind.value if kind is not None else "",
                *(neutralise(text or "") for text in texts),
                " ".join(zones),
                neutralise(extension or ""),
                "yes" if opted_out else "",
                *(neutralise(str(attributes.get(name, ""))) for name in names),
            ]
