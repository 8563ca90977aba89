"""The `ringcast` entry point: the root typer app, global options and one-line error handling.

Every sub-command lives in its own module, named here (`COMMANDS`) and imported only when used
(`cli.lazy`). A `UserError` is
printed as one line (`error: ...`) with a non-zero exit; an unexpected exception is
logged with its traceback to the log file and reported as one line too.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from cli.lazy import Loaders, lazy_group
from ringcast.errors import UserError
from ringcast.logs import configure_logging
from ringcast.settings import load_settings


@cache
def campaign_commands() -> typer.Typer:
    """`campaign`, with `status` and `why` (which ask the engine) from their own module."""
    from cli.campaign import campaign_app
    from cli.campaign_live import status, why

    campaign_app.command("status")(status)
    campaign_app.command("why")(why)
    return campaign_app


@cache
def survey_commands() -> typer.Typer:
    """`survey`, with `results` and `export` from their own module."""
    from cli.survey import survey_app
    from cli.survey_results import export, results

    survey_app.command("results")(results)
    survey_app.command("export")(export)
    return survey_app


COMMANDS: Loaders = {  # each loaded when used (`cli.lazy`), listed in this order
    "config": "cli.config_cmd:config_app",
    "db": "cli.db:db_app",
    "lab": "cli.lab:lab_app",
    "asterisk": "cli.lab:asterisk_app",
    "list": "cli.lists:list_app",
    "dnc": "cli.blocklist:dnc_app",
    "blacklist": "cli.blocklist:blacklist_app",
    "whitelist": "cli.blocklist:whitelist_app",
    "vip": "cli.blocklist:vip_app",
    "campaign": campaign_commands,
    "agent": "cli.agent_cmd:agent_app",
    "group": "cli.agent_cmd:group_app",
    "survey": survey_commands,
    "sms": "cli.sms:sms_app",
    "ivr": "cli.ivr:ivr_app",
    "queue": "cli.queue:queue_app",
    "voicemail": "cli.voicemail:voicemail_app",
    "import": "cli.import_cmd:import_list",
    "report": "cli.report:report",
    "demo": "cli.demo:demo",
    "serve": "cli.serve:serve",
    "simulate": "cli.simulate:simulate",
    "purge": "cli.purge:purge",
}
app = typer.Typer(
    cls=lazy_group(COMMANDS),
    no_args_is_help=True,
    add_completion=False,
    help="ringcast: outbound campaign dialer.",
)

err_console = Console(stderr=True, highlight=False)
# click's ClickException (typer vendors click, so reach it through a public typer class).
_USAGE_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
log = logging.getLogger("ringcast")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (used by tests and the console script)."""
    try:
        result = app(args=argv, standalone_mode=False)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # usage errors and bugs
        if isinstance(exc, _USAGE_ERROR):
            err_console.print(f"[bold red]error:[/] {exc.format_message()}", soft_wrap=True)
            return exc.exit_code
        log_file = _log_file()
        log.exception("unexpected error")
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (details in {log_file})",
            soft_wrap=True,
        )
        return 70
    return result if isinstance(result, int) else 0


def _log_file() -> Path:
    return load_settings().data_dir / "ringcast.log"


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr.")) -> None:
    settings = load_settings()
    configure_logging(settings, verbose=verbose)


def console_script() -> None:
    sys.exit(run())


if __name__ == "__main__":
    console_script()
