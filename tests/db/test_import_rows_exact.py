"""What a lead stores is exactly what the file held: text that COPY must escape survives the trip."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Lead
from imports.service import ImportRequest, run_import

pytestmark = pytest.mark.db

AWKWARD = ["back\\slash", "tab\there", "new\nline", "carriage\rreturn", "\\N", 'quote "x"', "'单引号'"]


def test_cells_that_copy_escapes_are_stored_as_written(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "awkward.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["手机号", "备注"])
        for n, note in enumerate(AWKWARD):
            writer.writerow([f" 1380013800{n}\t", note])
    summary = run_import(database, ImportRequest(path, "awkward"))
    assert summary.accepted == len(AWKWARD)
    with database.session() as session:
        leads = session.execute(select(Lead).order_by(Lead.e164)).scalars().all()
        stored = [(lead.raw_input, lead.attributes, lead.time_zones, lead.extension) for lead in leads]
    assert stored == [
        (f" 1380013800{n}\t", {"备注": note}, ["Asia/Shanghai"], None) for n, note in enumerate(AWKWARD)
    ]
