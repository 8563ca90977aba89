"""`ringcast config show`: the effective configuration, secrets masked."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from ringcast.settings import load_settings

config_app = typer.Typer(no_args_is_help=True)  # its help: `cli.main.COMMANDS`


@config_app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of TOML-like text.")) -> None:
    """Print the effective configuration (defaults < file < environment), secrets masked."""
    data = load_settings().masked()
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console = Console(highlight=False)
    for key, value in data.items():
        if isinstance(value, dict):
            console.print(f"[bold]\\[{key}][/]")
            for sub_key, sub_value in value.items():
                console.print(f"  {sub_key} = {json.dumps(sub_value, ensure_ascii=False)}")
        else:
            console.print(f"{key} = {json.dumps(value, ensure_ascii=False)}")
