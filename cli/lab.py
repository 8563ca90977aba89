"""`ringcast lab ...` (the local Asterisk lab) and `ringcast asterisk config` (snippets for a real PBX)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from dialer.asterisk.conf_files import write_conf_dir
from dialer.asterisk.confgen import LOCALHOST_ONLY, Trunk, ringcast_files
from dialer.asterisk.lab import Lab, LabStatus
from dialer.asterisk.lab_config import INSTANCES, PBX
from ringcast.errors import UserError
from ringcast.settings import load_settings

lab_app = typer.Typer(no_args_is_help=True)  # its help, and asterisk_app's: `cli.main.COMMANDS`
asterisk_app = typer.Typer(no_args_is_help=True)
console = Console(highlight=False)


@contextmanager
def _lab_with_progress() -> Iterator[Lab]:
    """A `Lab` reporting its steps: on a spinner line in a terminal, as plain lines otherwise (CI logs)."""
    if not console.is_terminal:
        yield Lab(load_settings(), progress=console.print)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("checking the lab")
        yield Lab(load_settings(), progress=lambda message: progress.update(task, description=message))


@lab_app.command("up")
def up() -> None:
    """Build the Asterisk root if needed (once, ~1 min) and start the pbx and the carrier."""
    with _lab_with_progress() as lab:
        status = lab.up()
    _print_status(status)


@lab_app.command("down")
def down() -> None:
    """Stop both Asterisk instances (the cached root stays)."""
    with _lab_with_progress() as lab:
        lab.down()
    console.print("lab stopped")


@lab_app.command("status")
def status() -> None:
    """Show whether the root is built and which instances run, where."""
    _print_status(Lab(load_settings()).status())


@lab_app.command("logs")
def logs(
    instance: str = typer.Argument(PBX, help=f"One of: {', '.join(INSTANCES)}."),
    lines: int = typer.Option(50, "--lines", "-n", min=1, help="How many lines."),
) -> None:
    """Print the last lines of an instance's Asterisk log."""
    for line in Lab(load_settings()).logs(instance, lines):
        typer.echo(line)


@asterisk_app.command("config")
def config(
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the snippets to (created if missing).")
    ],
    trunk_host: str | None = typer.Option(None, help="The SIP trunk's address (default: the lab's carrier)."),
    trunk_port: int | None = typer.Option(None, help="The SIP trunk's port (default: the lab's carrier's)."),
    ami_permit: str = typer.Option(LOCALHOST_ONLY, help="Network the engine connects to AMI from."),
) -> None:
    """Write the dialplan, AMI user, ConfBridge profiles and trunk ringcast needs, to #include in a PBX."""
    settings = load_settings()
    trunk = Trunk(trunk_host or settings.lab.carrier_address, trunk_port or settings.lab.carrier_sip_port)
    files = ringcast_files(settings, ami_secret=settings.ami_secret(), trunk=trunk, ami_permit=ami_permit)
    try:
        write_conf_dir(out, files)
    except OSError as exc:
        raise UserError(
            f"cannot write to {out}: {exc.strerror}", hint="choose another --out directory"
        ) from None
    for name in files:
        console.print(f"wrote {out / name}")


def _print_status(status: LabStatus) -> None:
    root_state = "built" if status.root_built else "not built yet (`ringcast lab up` builds it)"
    console.print(f"root: {status.root} ({root_state})", soft_wrap=True)
    table = Table("instance", "state", "pid", "SIP (UDP)", "AMI (TCP)", "started in")
    for instance in status.instances:
        state = "[green]running[/]" if instance.running else "[red]stopped[/]"
        boot = f"{instance.boot_s:.2f} s" if instance.boot_s is not None else "-"
        table.add_row(instance.name, state, str(instance.pid or ""), instance.sip, instance.ami, boot)
    console.print(table)
