"""`ringcast db`: migrate the database to the schema this ringcast needs, and show where it stands."""

from __future__ import annotations

import typer

from campaigns.persistence.db import Database, head_revision
from ringcast.settings import load_settings

db_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate the database to the current schema (an empty database is created from scratch)."""
    with Database(load_settings().database_url) as database:
        before, after = database.upgrade()
    if before == after:
        typer.echo(f"database {database.masked_url} is already at {after}")
    else:
        typer.echo(f"database {database.masked_url} upgraded from {before or 'none'} to {after}")


@db_app.command("status")
def status() -> None:
    """Show the database's schema revision and the one needed; an error (exit 2) if they differ."""
    with Database(load_settings().database_url) as database:
        typer.echo(f"database: {database.masked_url}")
        typer.echo(f"current:  {database.current_revision() or 'none'}")
        typer.echo(f"head:     {head_revision()}")
        database.check_migrated()
    typer.echo("status:   up to date")
