"""Helpers of the import and blocklist DB tests: the CLI on a test database, and rows to start from.

`ringcast import`, `list`, `dnc` and `blacklist` are run through `cli.main.run` (its one-line error
handling and exit codes) with the root app swapped for one that carries these commands, so the
tests do not depend on how `cli/main.py` registers them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer

import cli.main
from campaigns.persistence.db import Database
from campaigns.persistence.models import Campaign, CampaignList, ContactList
from campaigns.persistence.models.enums import CompliancePreset, DialMode
from cli.blocklist import blacklist_app, dnc_app
from cli.import_cmd import import_list
from cli.lists import list_app

SAMPLE = Path("/work/shared/data/sample-contacts-gbk.csv")
Run = Callable[..., int]


def commands() -> typer.Typer:
    app = typer.Typer(no_args_is_help=True)
    app.command("import")(import_list)
    app.add_typer(list_app, name="list")
    app.add_typer(dnc_app, name="dnc")
    app.add_typer(blacklist_app, name="blacklist")
    return app


def cli_on(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """`run("import", "file.csv", "--list", "x")` -> exit code, with the CLI using `database`."""
    monkeypatch.delenv("RINGCAST_CONFIG", raising=False)
    monkeypatch.setenv("RINGCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RINGCAST_DATABASE__URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setattr(cli.main, "app", commands())

    def run(*args: str | Path) -> int:
        return cli.main.run([str(arg) for arg in args])

    return run


def add_campaign(database: Database, name: str, *lists: str) -> int:
    """A campaign with these (new, empty) lists attached; its id."""
    with database.session() as session:
        campaign = Campaign(name=name, dial_mode=DialMode.PROGRESSIVE, compliance_preset=CompliancePreset.CN)
        session.add(campaign)
        session.flush()
        for list_name in lists:
            contact_list = ContactList(name=list_name)
            session.add(contact_list)
            session.flush()
            session.add(CampaignList(campaign_id=campaign.id, list_id=contact_list.id))
        return campaign.id
