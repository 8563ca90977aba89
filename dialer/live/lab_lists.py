"""Contact lists of lab carrier numbers, for the lab tests, the demo and the benchmarks.

The numbers say how the carrier's customer behaves (`dialer.asterisk.carrier_plan`); each lead is
given the time zone the caller asks for (see `carrier_plan.zone_at_local_hour`) and is due now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from campaigns.persistence.db import Database
from campaigns.persistence.models import ContactList, Lead


def add_lab_list(database: Database, name: str, zones: Mapping[str, str], now: datetime) -> None:
    """List `name` of the numbers in `zones`, each in its zone, every lead due a minute ago."""
    with database.session() as session:
        contacts = ContactList(name=name, source_file="generated")
        session.add(contacts)
        session.flush()
        session.add_all(
            Lead(
                list_id=contacts.id,
                e164=number,
                raw_input=number,
                time_zones=[zone],
                next_attempt_at=now - timedelta(minutes=1),
                priority=0,
            )
            for number, zone in zones.items()
        )
