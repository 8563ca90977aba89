"""What a lead stores is exactly what the file held: text that COPY's text format would escape,
long texts, extensions, places and the import's shared values survive the trip."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.persistence.db import Database
from campaigns.persistence.models import Lead
from campaigns.persistence.models.enums import LeadState, NumberType
from campaigns.place_store import NO_PLACE, place_of
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


def test_every_column_of_a_lead_is_stored_as_decided(database: Database, tmp_path: Path) -> None:
    """Numbers, types, places, an extension, long and short attributes, and the shared values."""
    path = tmp_path / "columns.csv"
    long_note = "备注" * 3000  # longer than the lengths the binary COPY data keeps ready
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["手机号", "备注", "城市"])
        writer.writerow(["+86 138 0013 8000", long_note, ""])
        writer.writerow(["010-6552 9988 转 123", "", "北京"])
        writer.writerow(["+1 650 253 0000", "Mountain View", ""])
        writer.writerow(["+800 1234 5678", "", ""])  # toll-free worldwide: phonenumbers names no place
    now = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
    run_import(database, ImportRequest(path, "columns"), now=now)
    with database.session() as session:
        leads = session.execute(select(Lead).order_by(Lead.source_line)).scalars().all()
        stored = [
            (
                lead.source_line,
                lead.e164,
                lead.extension,
                lead.number_type,
                lead.attributes,
                lead.time_zones,
                (lead.place_id is None, tuple(place_of(session, lead))),
                (lead.state, lead.attempt_count, lead.priority, lead.sms_opt_out),
                (lead.next_attempt_at, lead.created_at, lead.updated_at),
            )
            for lead in leads
        ]
    shared = (LeadState.NEW, 0, 0, False)
    assert stored == [
        (
            2,
            "+8613800138000",
            None,
            NumberType.MOBILE,
            {"备注": long_note},
            ["Asia/Shanghai"],
            (False, ("北京市", None, "中国移动", "Beijing", None, "China Mobile")),
            shared,
            (now, now, now),
        ),
        (
            3,
            "+861065529988",
            "123",
            NumberType.FIXED_LINE,
            {"城市": "北京"},
            ["Asia/Shanghai"],
            (False, ("北京市", None, None, "Beijing", None, None)),
            shared,
            (now, now, now),
        ),
        (
            4,
            "+16502530000",
            None,
            NumberType.FIXED_LINE_OR_MOBILE,
            {"备注": "Mountain View"},
            ["America/Los_Angeles"],
            (False, ("美国", None, None, "CA", "Mountain View", None)),
            shared,
            (now, now, now),
        ),
        (
            5,
            "+80012345678",
            None,
            NumberType.TOLL_FREE,
            {},
            ["Etc/Unknown"],
            (True, NO_PLACE),
            shared,
            (now,) * 3,
        ),
    ]
